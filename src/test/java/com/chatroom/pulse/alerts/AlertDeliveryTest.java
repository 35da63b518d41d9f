package com.chatroom.pulse.alerts;

import com.chatroom.pulse.Edge;
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
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static com.chatroom.pulse.alerts.AlertTestKit.BASE;
import static com.chatroom.pulse.alerts.AlertTestKit.cpu;
import static com.chatroom.pulse.alerts.AlertTestKit.publish;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("Delivery: retries, circuit breaker, order, dead letters and bounds")
class AlertDeliveryTest {

  private static JsonObject rules() {
    return AlertTestKit.cpuRule("cpu_high", 90, 0, 90, 0);
  }

  private static double count(Vertx vertx, String meter, String... tags) {
    Counter c = Meters.registry(vertx).find(meter).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  static Future<JsonObject> channels(Vertx vertx) {
    return vertx.eventBus().<JsonObject>request(AlertApi.ADDRESS, new JsonObject().put("op", "channels")).map(m -> m.body());
  }

  /** Completes once every channel queue is empty with nothing in flight. */
  static Future<JsonObject> idle(Vertx vertx) {
    return channels(vertx).compose(s -> s.getBoolean("idle") ? Future.succeededFuture(s)
      : Future.<Void>future(p -> vertx.setTimer(10, id -> p.complete())).compose(v -> idle(vertx)));
  }

  /** Completes once the first channel's circuit is in this state. */
  static Future<JsonObject> circuit(Vertx vertx, String state) {
    return channels(vertx).compose(s -> state.equals(s.getJsonArray("channels").getJsonObject(0).getString("circuit"))
      ? Future.succeededFuture(s)
      : Future.<Void>future(p -> vertx.setTimer(5, id -> p.complete())).compose(v -> circuit(vertx, state)));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a receiver that is down and comes back gets every notification exactly once, in order")
  void downThenUp(Vertx vertx, VertxTestContext ctx) {
    Receiver receiver = new Receiver(vertx, Edge.freePort()); // not listening yet: connections are refused
    JsonObject alerts = AlertTestKit.alerts(new JsonArray().add(rules()),
        new JsonArray().add(AlertTestKit.channel("hook", "webhook", receiver.url("/hook"))))
      .put("flapping", new JsonObject().put("enabled", false));
    AlertTestKit.deploy(vertx, AlertTestKit.config("node-1", alerts, null))
      .compose(id -> {
        for (int t = 0; t < 6; t++) {
          publish(vertx, cpu("pod-a", t, t % 2 == 0 ? 95 : 50)); // firing, resolved, firing, resolved, firing, resolved
        }
        // let the circuit open on refused connections, then bring the receiver up
        return circuit(vertx, "open");
      })
      .compose(v -> receiver.start())
      .compose(r -> receiver.until(rs -> rs.size() >= 6))
      .compose(rs -> idle(vertx))
      .onComplete(ctx.succeeding(status -> ctx.verify(() -> {
        List<Receiver.Request> got = receiver.on("/hook");
        assertThat(got).hasSize(6);
        assertThat(got).extracting(r -> r.json().getString("status"))
          .containsExactly("firing", "resolved", "firing", "resolved", "firing", "resolved");
        assertThat(got).extracting(r -> r.headers().get("Idempotency-Key")).containsExactly(
          "cpu_high/pod-a/firing/" + Math.round(BASE * 1000), "cpu_high/pod-a/resolved/" + Math.round(BASE * 1000),
          "cpu_high/pod-a/firing/" + Math.round((BASE + 2) * 1000), "cpu_high/pod-a/resolved/" + Math.round((BASE + 2) * 1000),
          "cpu_high/pod-a/firing/" + Math.round((BASE + 4) * 1000), "cpu_high/pod-a/resolved/" + Math.round((BASE + 4) * 1000));
        assertThat(count(vertx, MeterNames.ALERTS_NOTIFICATIONS_SENT, "channel", "hook")).isEqualTo(6);
        assertThat(count(vertx, MeterNames.ALERTS_NOTIFICATIONS_FAILED, "channel", "hook")).isGreaterThanOrEqualTo(3);
        assertThat(status.getJsonArray("channels").getJsonObject(0).getString("circuit")).isEqualTo("closed");
        assertThat(status.getJsonArray("dead_letters")).isEmpty();
        assertThat(status.getJsonArray("channels").getJsonObject(0).getLong("delivered")).isEqualTo(6);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("retries run out into a dead letter; a 4xx refusal is dead-lettered at once; neither blocks the next notification")
  void deadLetters(Vertx vertx, VertxTestContext ctx) {
    Receiver receiver = new Receiver(vertx, Edge.freePort());
    receiver.answer = r -> r.path().equals("/broken") ? new Receiver.Answer(503, "down for maintenance")
      : r.path().equals("/picky") ? new Receiver.Answer(400, "unknown field") : new Receiver.Answer(200, "ok");
    JsonObject alerts = AlertTestKit.alerts(new JsonArray().add(rules()), new JsonArray()
        .add(AlertTestKit.channel("broken", "webhook", receiver.url("/broken")))
        .add(AlertTestKit.channel("picky", "slack", receiver.url("/picky"))))
      .put("delivery", AlertTestKit.fastDelivery().put("max_attempts", 3).put("breaker_max_failures", 100));
    receiver.start()
      .compose(r -> AlertTestKit.deploy(vertx, AlertTestKit.config("node-1", alerts, null)))
      .compose(id -> {
        publish(vertx, cpu("pod-a", 0, 95));
        publish(vertx, cpu("pod-a", 1, 50));
        return AlertTestKit.until(vertx, () -> count(vertx, MeterNames.ALERTS_NOTIFICATIONS_DEAD, "channel", "broken") >= 2
          && count(vertx, MeterNames.ALERTS_NOTIFICATIONS_DEAD, "channel", "picky") >= 2);
      })
      .compose(v -> idle(vertx))
      .onComplete(ctx.succeeding(status -> ctx.verify(() -> {
        JsonArray dead = status.getJsonArray("dead_letters");
        assertThat(dead).hasSize(4);
        List<JsonObject> broken = dead.stream().map(o -> (JsonObject) o).filter(d -> d.getString("channel").equals("broken")).toList();
        List<JsonObject> picky = dead.stream().map(o -> (JsonObject) o).filter(d -> d.getString("channel").equals("picky")).toList();
        assertThat(broken).allSatisfy(d -> {
          assertThat(d.getString("reason")).isEqualTo("retries_exhausted");
          assertThat(d.getInteger("attempts")).isEqualTo(3);
          assertThat(d.getString("error")).contains("HTTP 503").contains("down for maintenance");
        });
        assertThat(picky).allSatisfy(d -> {
          assertThat(d.getString("reason")).isEqualTo("rejected");
          assertThat(d.getInteger("attempts")).isEqualTo(1);
          assertThat(d.getString("error")).contains("HTTP 400");
        });
        // newest first; both changes of each channel were tried, in order
        assertThat(broken).extracting(d -> d.getString("status")).containsExactly("resolved", "firing");
        assertThat(count(vertx, MeterNames.ALERTS_NOTIFICATIONS_DEAD, "channel", "broken", "reason", "retries_exhausted")).isEqualTo(2);
        assertThat(count(vertx, MeterNames.ALERTS_NOTIFICATIONS_FAILED, "channel", "broken")).isEqualTo(6);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a firing alert is repeated every repeat_interval until acknowledged; the resolution still follows")
  void repeatsUntilAcknowledged(Vertx vertx, VertxTestContext ctx) {
    Receiver receiver = new Receiver(vertx, Edge.freePort());
    JsonObject alerts = AlertTestKit.alerts(new JsonArray().add(rules()), new JsonArray()
      .add(AlertTestKit.channel("hook", "webhook", receiver.url("/hook")).put("repeat_interval", "1s")));
    double now = System.currentTimeMillis() / 1000d - BASE; // sample time = wall time: repeats count from it
    long firedAt = Math.round((BASE + now) * 1000);
    String firing = "cpu_high/pod-a/firing/" + firedAt;
    receiver.start()
      .compose(r -> AlertTestKit.deploy(vertx, AlertTestKit.config("node-1", alerts, null)))
      .compose(id -> {
        publish(vertx, cpu("pod-a", now, 95));
        return receiver.until(rs -> rs.size() >= 3);
      })
      .compose(rs -> vertx.eventBus().<JsonObject>request(AlertApi.ADDRESS, new JsonObject().put("op", "ack")
        .put("rule", "cpu_high").put("instance", "pod-a").put("by", "bob")))
      .compose(acked -> {
        ctx.verify(() -> assertThat(acked.body().getBoolean("acknowledged")).isTrue());
        return idle(vertx); // a repeat queued just before the acknowledgement still goes out
      })
      .compose(idle -> {
        int seen = receiver.requests.size();
        // the absence of repeats can only be shown over time: wait past two more intervals on a Vert.x timer
        return Future.<Void>future(p -> vertx.setTimer(2200, id -> p.complete())).map(seen);
      })
      .compose(seen -> {
        ctx.verify(() -> assertThat(receiver.requests).hasSize(seen));
        publish(vertx, cpu("pod-a", now + 5, 10));
        return receiver.until(rs -> rs.size() > seen);
      })
      .onComplete(ctx.succeeding(rs -> ctx.verify(() -> {
        List<String> keys = rs.stream().map(r -> r.headers().get("Idempotency-Key")).toList();
        assertThat(keys.subList(0, 3)).containsExactly(firing, firing + "/repeat/1", firing + "/repeat/2");
        for (int i = 1; i < keys.size() - 1; i++) {
          assertThat(keys.get(i)).isEqualTo(firing + "/repeat/" + i);
          assertThat(rs.get(i).json().getString("status")).isEqualTo("firing");
        }
        assertThat(keys.get(keys.size() - 1)).isEqualTo("cpu_high/pod-a/resolved/" + firedAt);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a full channel queue dead-letters the overflow instead of growing, and evaluation goes on")
  void boundedQueue(Vertx vertx, VertxTestContext ctx) {
    int closedPort = Edge.freePort();
    JsonObject alerts = AlertTestKit.alerts(new JsonArray().add(rules()), new JsonArray()
        .add(AlertTestKit.channel("down", "webhook", "http://127.0.0.1:" + closedPort + "/x")))
      .put("delivery", AlertTestKit.fastDelivery().put("queue_size", 2).put("backoff_initial", "5s").put("backoff_max", "5s"))
      .put("flapping", new JsonObject().put("enabled", false));
    AlertTestKit.deploy(vertx, AlertTestKit.config("node-1", alerts, null))
      .compose(id -> {
        for (int t = 0; t < 10; t++) {
          publish(vertx, cpu("pod-a", t, t % 2 == 0 ? 95 : 50));
        }
        return AlertTestKit.until(vertx, () -> count(vertx, MeterNames.ALERTS_NOTIFICATIONS_DEAD, "reason", "queue_full") >= 8);
      })
      .compose(v -> channels(vertx))
      .onComplete(ctx.succeeding(status -> ctx.verify(() -> {
        assertThat(status.getJsonArray("channels").getJsonObject(0).getInteger("queued")).isEqualTo(2);
        assertThat(status.getJsonArray("dead_letters")).hasSize(8)
          .allSatisfy(d -> assertThat(((JsonObject) d).getString("reason")).isEqualTo("queue_full"));
        assertThat(count(vertx, MeterNames.ALERTS_CHANGES, "state", "resolved", "reason", "cleared")).isEqualTo(5);
        ctx.completeNow();
      })));
  }
}
