package com.chatroom.pulse.alerts;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.bus.AlertEvent;
import com.chatroom.pulse.config.AlertChannelConfig;
import com.chatroom.pulse.config.AlertsConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("Exponential backoff: the retry schedule doubles, stops at its cap and jitters within ±20 %")
class AlertBackoffTest {

  /** Kept in a field: Vert.x 5 closes clients nothing refers to. */
  private WebClient web;

  @Test
  @DisplayName("with the jitter at its midpoint the delays are exactly initial × 2^(attempt−1), capped at the maximum")
  void doublingAndCap() {
    Backoff backoff = new Backoff(500, 60_000, () -> 0.5);
    assertThat(IntStream.rangeClosed(1, 10).mapToLong(backoff::delayMs).boxed().toList())
      .containsExactly(500L, 1000L, 2000L, 4000L, 8000L, 16_000L, 32_000L, 60_000L, 60_000L, 60_000L);
    // far past the cap the exponent cannot overflow
    assertThat(backoff.delayMs(10_000)).isEqualTo(60_000L);
  }

  @Test
  @DisplayName("the jitter stays within [0.8, 1.2) of the nominal delay, at both ends of the random source and in between")
  void jitterBounds() {
    assertThat(new Backoff(1000, 8000, () -> 0.0).delayMs(3)).isEqualTo(3200L);          // 4000 × 0.8
    assertThat(new Backoff(1000, 8000, () -> 0.999_999).delayMs(3)).isEqualTo(4800L);   // 4000 × 1.2, never above
    assertThat(new Backoff(1000, 8000, () -> 0.0).delayMs(9)).isEqualTo(6400L);          // the cap is jittered too
    Backoff real = new Backoff(1000, 8000);
    for (int attempt = 1; attempt <= 6; attempt++) {
      long nominal = Math.min(8000, 1000L << (attempt - 1));
      for (int i = 0; i < 1000; i++) {
        assertThat(real.delayMs(attempt)).isBetween(Math.round(nominal * 0.8), Math.round(nominal * 1.2));
      }
    }
    assertThat(new Backoff(1, 1, () -> 0.0).delayMs(1)).as("never below 1 ms").isEqualTo(1L);
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("through the real queue: a receiver failing five times gets six requests, retried after 10, 20, 40, 40, 40 ms")
  void throughTheQueue(Vertx vertx, VertxTestContext ctx) {
    AtomicInteger calls = new AtomicInteger();
    Receiver receiver = new Receiver(vertx, Edge.freePort());
    receiver.answer = r -> calls.incrementAndGet() <= 5 ? new Receiver.Answer(503, "busy") : new Receiver.Answer(200, "ok");
    List<long[]> schedule = new CopyOnWriteArrayList<>(); // {attempt that failed, delay before the next}
    Backoff recording = new Backoff(10, 40, () -> 0.5) {
      @Override
      long delayMs(int attempt) {
        long delay = super.delayMs(attempt);
        schedule.add(new long[] {attempt, delay});
        return delay;
      }
    };
    AlertChannelConfig channel = new AlertChannelConfig("hook", "webhook", receiver.url("/hook"), "", Map.of(), List.of(),
      Map.of(), true, 0, AlertChannelConfig.DEFAULT_RESEND_MS, null);
    // ten attempts, and a circuit that never opens, so every failure goes through the backoff
    AlertsConfig.Delivery delivery = new AlertsConfig.Delivery(10, 10, 10, 40, 2000, 100, 1000, 86_400_000);
    List<JsonObject> dead = new CopyOnWriteArrayList<>();
    Promise<DeliveryQueue> queue = Promise.promise();
    receiver.start().onComplete(ctx.succeeding(r -> vertx.getOrCreateContext().runOnContext(v -> {
      web = WebClient.create(vertx);
      Sender sender = Sender.create(vertx, web, channel, "http://pulse.test:8888", delivery.timeoutMs());
      DeliveryQueue q = new DeliveryQueue(vertx, "hook", "webhook", sender, recording, new DeliveryQueue.Shared(
        new Claims.Memory(100, 60_000), Outbox.NONE, Gate.OPEN, delivery, dead::add, new SimpleMeterRegistry()));
      q.offer(new Notification("cpu_high/pod-a/firing/1000", Notification.Kind.CHANGE, true, false, event(), System.nanoTime()));
      queue.complete(q);
    })));
    queue.future()
      .compose(q -> receiver.until(rs -> rs.size() == 1).compose(rs -> AlertTestKit.until(vertx, q::idle)))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        assertThat(calls.get()).isEqualTo(6);
        assertThat(schedule).extracting(s -> s[0]).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(schedule).extracting(s -> s[1]).containsExactly(10L, 20L, 40L, 40L, 40L);
        assertThat(receiver.requests.get(0).headers().get("Idempotency-Key")).isEqualTo("cpu_high/pod-a/firing/1000");
        assertThat(dead).isEmpty();
        ctx.completeNow();
      })));
  }

  private static AlertEvent event() {
    Map<String, String> labels = Map.of("alertname", "cpu_high", "instance", "pod-a", "severity", "critical");
    return new AlertEvent("cpu_high/pod-a/firing/1000", "cpu_high", "pod-a", "firing", "pending", "for_elapsed",
      "critical", "cpu_percent", ">", 95, 90, 90, labels, Map.of("summary", "CPU high"), 1, 1, false, false, null, "node-1");
  }
}
