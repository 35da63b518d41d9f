package com.chatroom.pulse.sampler;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.PulseMessageCodec;
import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.config.SamplerConfig;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("SamplerVerticle, alone on the bus")
class SamplerVerticleTest {

  private static final SamplerConfig.WarnThresholds SEED = new SamplerConfig.WarnThresholds(80, 85, 90, 1000);

  @BeforeEach
  void codec(Vertx vertx) {
    PulseMessageCodec.register(vertx);
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("publishes one plausible sample per tick on metrics.system, with consecutive seq, from a worker thread")
  void publishesSamples(Vertx vertx, VertxTestContext ctx) {
    List<SystemMetrics> received = new ArrayList<>();
    List<String> publisherThreads = new ArrayList<>();
    vertx.eventBus().<SystemMetrics>consumer(Addresses.METRICS_SYSTEM, m -> {
      received.add(m.body());
      if (received.size() == 3) {
        ctx.verify(() -> {
          for (int i = 0; i < 3; i++) {
            SystemMetrics s = received.get(i);
            assertThat(s.seq()).isEqualTo(i + 1);
            assertThat(s.instance()).isEqualTo("sampler-test");
            assertThat(s.cpuPercent()).isBetween(0d, 100d);
            assertThat(s.memoryTotalMb()).isGreaterThan(0);
            assertThat(s.memoryUsedMb() + s.memoryAvailableMb()).isCloseTo(s.memoryTotalMb(), org.assertj.core.data.Offset.offset(1d));
            assertThat(s.memoryPercent()).isBetween(0d, 100d);
            assertThat(s.disks()).singleElement().satisfies(d -> {
              assertThat(d.mount()).isEqualTo("/");
              assertThat(d.totalGb()).isGreaterThan(0);
            });
            assertThat(s.diskUsagePercent()).isEqualTo(s.disks().get(0).usagePercent());
            assertThat(s.cpuCount()).isEqualTo(Runtime.getRuntime().availableProcessors());
            assertThat(s.loadAverage()).hasSize(3).allSatisfy(l -> assertThat(l).isGreaterThanOrEqualTo(0));
            assertThat(s.networkSentPerSec()).isGreaterThanOrEqualTo(0);
            assertThat(s.timestamp()).isCloseTo(System.currentTimeMillis() / 1000d, org.assertj.core.data.Offset.offset(5d));
          }
          assertThat(received.get(2).timestamp()).isGreaterThan(received.get(0).timestamp());
          assertThat(Meters.registry(vertx).get(MeterNames.SAMPLER_SAMPLES).counter().count()).isGreaterThanOrEqualTo(3);
          assertThat(Meters.registry(vertx).get(MeterNames.HOST_MEMORY_USED).gauge().value()).isGreaterThan(0);
          assertThat(publisherThreads).allSatisfy(t -> assertThat(t).doesNotContain("eventloop"));
        });
        ctx.completeNow();
      }
    });
    // the sampler's own meter proves where ticks run: record the thread of each publish through an interceptor
    vertx.eventBus().addOutboundInterceptor(dc -> {
      if (Addresses.METRICS_SYSTEM.equals(dc.message().address())) {
        publisherThreads.add(Thread.currentThread().getName());
      }
      dc.next();
    });
    vertx.deployVerticle(() -> new SamplerVerticle("sampler-test", new SamplerConfig(true, 100, List.of("/"), SEED)),
      new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 10, timeUnit = TimeUnit.SECONDS)
  @DisplayName("refuses to deploy on an event loop, where its blocking reads do not belong")
  void refusesEventLoop(Vertx vertx, VertxTestContext ctx) {
    vertx.deployVerticle(new SamplerVerticle("x", new SamplerConfig(true, 100, List.of("/"), SEED)))
      .onComplete(ctx.failing(e -> ctx.verify(() -> {
        assertThat(e).hasMessageContaining("ThreadingModel.WORKER");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 10, timeUnit = TimeUnit.SECONDS)
  @DisplayName("fails its deployment with the mount named when a configured mount does not exist")
  void badMount(Vertx vertx, VertxTestContext ctx) {
    vertx.deployVerticle(() -> new SamplerVerticle("x", new SamplerConfig(true, 100, List.of("/", "/no/such/mount"), SEED)),
        new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER))
      .onComplete(ctx.failing(e -> ctx.verify(() -> {
        assertThat(e).hasMessageContaining("sampler.mounts").hasMessageContaining("/no/such/mount");
        ctx.completeNow();
      })));
  }
}
