package com.chatroom.pulse.alerts;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static com.chatroom.pulse.alerts.AlertTestKit.BASE;
import static com.chatroom.pulse.alerts.AlertTestKit.cpu;
import static com.chatroom.pulse.alerts.AlertTestKit.publish;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("With Redis: one notification per change across replicas and restarts")
class AlertRedisTest {

  private final RedisServer redisServer = new RedisServer();
  private Vertx second;
  private Redis redis;

  @AfterEach
  void tearDown() {
    if (second != null) {
      second.close();
    }
    redisServer.stop();
  }

  private static double count(Vertx vertx, String meter) {
    return Meters.registry(vertx).find(meter).counters().stream().mapToDouble(Counter::count).sum();
  }

  private static JsonObject alerts(Receiver receiver) {
    return AlertTestKit.alerts(new JsonArray().add(AlertTestKit.cpuRule("cpu_high", 90, 0, 90, 0)),
        new JsonArray().add(AlertTestKit.channel("hook", "webhook", receiver.url("/hook"))))
      .put("flapping", new JsonObject().put("enabled", false));
  }

  private static Future<JsonObject> ask(Vertx vertx, JsonObject request) {
    return vertx.eventBus().<JsonObject>request(AlertApi.ADDRESS, request).map(m -> m.body());
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("two alert managers (two Vert.x instances) fed the same samples send each change once, in order")
  void twoReplicas(Vertx vertx, VertxTestContext ctx) {
    second = Vertx.vertx();
    Receiver receiver = new Receiver(vertx, Edge.freePort());
    List<SystemMetrics> samples = new ArrayList<>();
    for (int t = 0; t < 6; t++) {
      samples.add(cpu("pod-a", t, t % 2 == 0 ? 95 : 50));
    }
    List<String> changes = List.of(
      "cpu_high/pod-a/firing/" + Math.round(BASE * 1000), "cpu_high/pod-a/resolved/" + Math.round(BASE * 1000),
      "cpu_high/pod-a/firing/" + Math.round((BASE + 2) * 1000), "cpu_high/pod-a/resolved/" + Math.round((BASE + 2) * 1000),
      "cpu_high/pod-a/firing/" + Math.round((BASE + 4) * 1000), "cpu_high/pod-a/resolved/" + Math.round((BASE + 4) * 1000));
    String[] ids = new String[2];
    redisServer.start(vertx)
      .compose(r -> receiver.start())
      .compose(r -> AlertTestKit.deploy(vertx, AlertTestKit.config("node-a", alerts(receiver), redisServer.url())))
      .compose(id -> {
        ids[0] = id;
        return AlertTestKit.deploy(second, AlertTestKit.config("node-b", alerts(receiver), redisServer.url()));
      })
      .compose(id -> {
        ids[1] = id;
        for (SystemMetrics s : samples) {
          publish(vertx, s);
          publish(second, s);
        }
        return receiver.until(rs -> rs.size() >= 6);
      })
      .compose(rs -> AlertDeliveryTest.idle(vertx))
      .compose(s -> AlertDeliveryTest.idle(second))
      // stopping writes what each node still buffers: both have now written every change
      .compose(s -> vertx.undeploy(ids[0]))
      .compose(v -> second.undeploy(ids[1]))
      .compose(v -> {
        redis = Redis.createClient(vertx, redisServer.url());
        return redis.send(Request.cmd(Command.LRANGE).arg(RedisAlertStore.HISTORY).arg(0).arg(-1));
      })
      .onComplete(ctx.succeeding(history -> ctx.verify(() -> {
        assertThat(receiver.requests).extracting(r -> r.headers().get("Idempotency-Key")).containsExactlyElementsOf(changes);
        List<String> reversed = new ArrayList<>(changes);
        java.util.Collections.reverse(reversed);
        assertThat(history).as("the shared history: each change once, newest first")
          .extracting(e -> new JsonObject(e.toString()).getString("id")).containsExactlyElementsOf(reversed);
        assertThat(count(vertx, MeterNames.ALERTS_NOTIFICATIONS_SENT) + count(second, MeterNames.ALERTS_NOTIFICATIONS_SENT))
          .isEqualTo(6);
        assertThat(count(vertx, MeterNames.ALERTS_NOTIFICATIONS_DEDUPLICATED)
          + count(second, MeterNames.ALERTS_NOTIFICATIONS_DEDUPLICATED)).isEqualTo(6);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("notifications still queued when a node stops (receiver down) are delivered after it restarts: once each, in order")
  void outboxAcrossRestart(Vertx vertx, VertxTestContext ctx) {
    Receiver receiver = new Receiver(vertx, Edge.freePort()); // not listening yet: connections are refused
    PulseConfig config = AlertTestKit.config("node-a", alerts(receiver), redisServer.url());
    String firing = "cpu_high/pod-a/firing/" + Math.round(BASE * 1000);
    String resolved = "cpu_high/pod-a/resolved/" + Math.round(BASE * 1000);
    String outbox = RedisOutbox.PREFIX + "hook";
    List<String> deployments = new ArrayList<>();
    redisServer.start(vertx)
      .compose(r -> AlertTestKit.deploy(vertx, config))
      .compose(id -> {
        deployments.add(id);
        publish(vertx, cpu("pod-a", 0, 95));
        publish(vertx, cpu("pod-a", 1, 40));
        return AlertDeliveryTest.circuit(vertx, "open"); // the firing one failed three times; the resolution waits behind it
      })
      .compose(s -> vertx.undeploy(deployments.get(0)))
      .compose(v -> {
        redis = Redis.createClient(vertx, redisServer.url());
        return redis.send(Request.cmd(Command.HKEYS).arg(outbox));
      })
      .compose(kept -> {
        ctx.verify(() -> assertThat(kept).extracting(Object::toString).containsExactlyInAnyOrder(firing, resolved));
        // the alert is resolved: only the outbox can bring the two notifications back
        return AlertTestKit.deploy(vertx, config);
      })
      .compose(id -> {
        deployments.add(id);
        return receiver.start();
      })
      .compose(r -> receiver.until(rs -> rs.size() >= 2))
      .compose(rs -> AlertDeliveryTest.idle(vertx))
      .compose(s -> vertx.undeploy(deployments.get(1)))
      .compose(v -> redis.send(Request.cmd(Command.HLEN).arg(outbox)))
      .onComplete(ctx.succeeding(left -> ctx.verify(() -> {
        assertThat(receiver.requests).extracting(r -> r.headers().get("Idempotency-Key")).containsExactly(firing, resolved);
        assertThat(receiver.requests).extracting(r -> r.json().getString("status")).containsExactly("firing", "resolved");
        assertThat(left.toLong()).as("delivered notifications leave the outbox").isZero();
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("after a restart the firing alert, its silences and history are back, and nothing is sent twice")
  void restart(Vertx vertx, VertxTestContext ctx) {
    Receiver receiver = new Receiver(vertx, Edge.freePort());
    PulseConfig config = AlertTestKit.config("node-a", alerts(receiver), redisServer.url());
    String firingKey = "cpu_high/pod-a/firing/" + Math.round(BASE * 1000);
    List<String> deployments = new ArrayList<>();
    redisServer.start(vertx)
      .compose(r -> receiver.start())
      .compose(r -> AlertTestKit.deploy(vertx, config))
      .compose(id -> {
        deployments.add(id);
        publish(vertx, cpu("pod-a", 0, 95));
        return receiver.until(rs -> rs.size() == 1);
      })
      .compose(rs -> ask(vertx, new JsonObject().put("op", "silence").put("labels", new JsonObject().put("instance", "pod-b"))
        .put("duration", "1h").put("comment", "maintenance")))
      .compose(silence -> AlertDeliveryTest.idle(vertx))
      .compose(s -> vertx.undeploy(deployments.get(0)))
      .compose(v -> AlertTestKit.deploy(vertx, config))
      .compose(id -> ask(vertx, new JsonObject().put("op", "active")))
      .compose(active -> {
        ctx.verify(() -> {
          assertThat(active.getJsonArray("alerts")).hasSize(1);
          assertThat(active.getJsonArray("alerts").getJsonObject(0).getString("id")).isEqualTo(firingKey);
        });
        return ask(vertx, new JsonObject().put("op", "silences"));
      })
      .compose(silences -> {
        ctx.verify(() -> assertThat(silences.getJsonArray("silences")).extracting(o -> ((JsonObject) o).getString("comment"))
          .containsExactly("maintenance"));
        return ask(vertx, new JsonObject().put("op", "history"));
      })
      .compose(history -> {
        ctx.verify(() -> assertThat(history.getJsonArray("events")).extracting(o -> ((JsonObject) o).getString("id"))
          .containsExactly(firingKey));
        publish(vertx, cpu("pod-a", 1, 40));
        return receiver.until(rs -> rs.size() >= 2);
      })
      .compose(rs -> AlertDeliveryTest.idle(vertx))
      .compose(s -> {
        redis = Redis.createClient(vertx, redisServer.url());
        return redis.send(Request.cmd(Command.GET).arg(RedisClaims.PREFIX + "hook:" + firingKey));
      })
      .onComplete(ctx.succeeding(claim -> ctx.verify(() -> {
        assertThat(receiver.requests).extracting(r -> r.json().getString("status")).containsExactly("firing", "resolved");
        assertThat(claim.toString()).isEqualTo("sent");
        // the restored firing alert was offered again and dropped as already sent
        assertThat(count(vertx, MeterNames.ALERTS_NOTIFICATIONS_DEDUPLICATED)).isEqualTo(1);
        ctx.completeNow();
      })));
  }
}
