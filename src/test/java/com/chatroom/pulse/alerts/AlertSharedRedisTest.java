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
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static com.chatroom.pulse.alerts.AlertTestKit.BASE;
import static com.chatroom.pulse.alerts.AlertTestKit.cpu;
import static com.chatroom.pulse.alerts.AlertTestKit.publish;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two alert managers (two Vert.x instances, no clustered event bus) that share only one Redis: a silence or an
 * acknowledgement made through one node's API holds on the other.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("With Redis only (no clustered bus): silences and acknowledgements are shared between nodes")
class AlertSharedRedisTest {

  private final RedisServer redisServer = new RedisServer();
  private Vertx second;
  private Redis redis;

  @AfterEach
  void tearDown() throws Exception {
    if (second != null) {
      // stop node B (and its Redis connections) before Redis itself goes
      second.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    redisServer.stop();
  }

  private static JsonObject alerts(Receiver receiver, String repeat) {
    return AlertTestKit.alerts(new JsonArray().add(AlertTestKit.cpuRule("cpu_high", 90, 0, 90, 0)),
        new JsonArray().add(AlertTestKit.channel("hook", "webhook", receiver.url("/hook")).put("repeat_interval", repeat)))
      .put("flapping", new JsonObject().put("enabled", false));
  }

  private static Future<JsonObject> ask(Vertx vertx, JsonObject request) {
    return vertx.eventBus().<JsonObject>request(AlertApi.ADDRESS, request).map(m -> m.body());
  }

  /** Completes once this node's active alert on {@code instance} satisfies the predicate (asked every 10 ms). */
  private static Future<JsonObject> activeUntil(Vertx vertx, String instance, Predicate<JsonObject> done) {
    return ask(vertx, new JsonObject().put("op", "active").put("instance", instance)).compose(a -> {
      JsonArray alerts = a.getJsonArray("alerts");
      if (!alerts.isEmpty() && done.test(alerts.getJsonObject(0))) {
        return Future.succeededFuture(alerts.getJsonObject(0));
      }
      return Future.<Void>future(p -> vertx.setTimer(10, id -> p.complete())).compose(v -> activeUntil(vertx, instance, done));
    });
  }

  private static String instanceOf(Receiver.Request r) {
    return r.json().getJsonArray("alerts").getJsonObject(0).getJsonObject("labels").getString("instance");
  }

  private static double suppressed(Vertx vertx, String reason) {
    Counter c = Meters.registry(vertx).find(MeterNames.ALERTS_NOTIFICATIONS_SUPPRESSED).tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  private Future<String[]> twoNodes(Vertx vertx, Receiver receiver, String repeat) {
    second = Vertx.vertx();
    String[] ids = new String[2];
    return redisServer.start(vertx)
      .compose(r -> receiver.start())
      .compose(r -> AlertTestKit.deploy(vertx, AlertTestKit.config("node-a", alerts(receiver, repeat), redisServer.url())))
      .compose(id -> {
        ids[0] = id;
        return AlertTestKit.deploy(second, AlertTestKit.config("node-b", alerts(receiver, repeat), redisServer.url()));
      })
      .map(id -> {
        ids[1] = id;
        return ids;
      });
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a silence created through node A's API suppresses node B's notification; ending it on A lets B notify, once")
  void silenceAcrossNodes(Vertx vertx, VertxTestContext ctx) {
    Receiver receiver = new Receiver(vertx, Edge.freePort());
    String[] silenceId = new String[1];
    twoNodes(vertx, receiver, "0")
      .compose(ids -> ask(vertx, new JsonObject().put("op", "silence").put("labels", new JsonObject().put("instance", "pod-a"))
        .put("duration", "1h").put("comment", "deploy")))
      .compose(silence -> {
        silenceId[0] = silence.getString("id");
        // only node B sees these samples: whatever it knows of the silence, it learned through Redis
        publish(second, cpu("pod-a", 0, 95));
        publish(second, cpu("pod-b", 0, 95));
        return receiver.until(rs -> rs.size() >= 1);
      })
      .compose(rs -> AlertDeliveryTest.idle(second))
      .compose(s -> activeUntil(second, "pod-a", a -> true))
      .compose(podA -> {
        ctx.verify(() -> {
          assertThat(receiver.requests).extracting(AlertSharedRedisTest::instanceOf).containsExactly("pod-b");
          assertThat(podA.getString("state")).isEqualTo("firing");
        });
        // node B knows the silence (from the announcement, or from the look at Redis before sending)
        return activeUntil(second, "pod-a", a -> a.getBoolean("silenced"));
      })
      .compose(podA -> ask(vertx, new JsonObject().put("op", "unsilence").put("id", silenceId[0])))
      .compose(deleted -> receiver.until(rs -> rs.size() >= 2))
      .compose(rs -> AlertDeliveryTest.idle(second))
      .onComplete(ctx.succeeding(s -> ctx.verify(() -> {
        assertThat(receiver.requests).extracting(AlertSharedRedisTest::instanceOf).containsExactly("pod-b", "pod-a");
        assertThat(receiver.requests.get(1).headers().get("Idempotency-Key"))
          .isEqualTo("cpu_high/pod-a/firing/" + Math.round(BASE * 1000));
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a silence stored in Redis whose announcement a node missed still stops that node's notification, and the node learns it")
  void storedSilenceChecked(Vertx vertx, VertxTestContext ctx) {
    Receiver receiver = new Receiver(vertx, Edge.freePort());
    long now = System.currentTimeMillis();
    Silences.Silence silence = new Silences.Silence("00000000-0000-0000-0000-000000000001", null,
      java.util.Map.of("instance", "pod-a"), now - 1000, now + 3_600_000, "written by a peer", "ops");
    redisServer.start(vertx)
      .compose(r -> receiver.start())
      .compose(r -> AlertTestKit.deploy(vertx, AlertTestKit.config("node-b", alerts(receiver, "0"), redisServer.url())))
      .compose(id -> {
        // as a peer would store it, without the announcement on pulse:alerts:sync
        redis = Redis.createClient(vertx, redisServer.url());
        return redis.send(Request.cmd(Command.HSET).arg(RedisAlertStore.SILENCES).arg(silence.id())
          .arg(silence.toStored().encode()));
      })
      .compose(stored -> {
        publish(vertx, cpu("pod-a", 0, 95));
        publish(vertx, cpu("pod-b", 0, 95));
        return receiver.until(rs -> rs.size() >= 1);
      })
      .compose(rs -> AlertDeliveryTest.idle(vertx))
      .compose(s -> activeUntil(vertx, "pod-a", a -> a.getBoolean("silenced")))
      .onComplete(ctx.succeeding(podA -> ctx.verify(() -> {
        assertThat(receiver.requests).extracting(AlertSharedRedisTest::instanceOf).containsExactly("pod-b");
        assertThat(suppressed(vertx, "silenced")).isGreaterThanOrEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a node whose subscription was cut subscribes again and takes the stored silences, the ones announced meanwhile included")
  void resubscribes(Vertx vertx, VertxTestContext ctx) {
    Receiver receiver = new Receiver(vertx, Edge.freePort());
    long now = System.currentTimeMillis();
    Silences.Silence silence = new Silences.Silence("00000000-0000-0000-0000-000000000002", "cpu_*", java.util.Map.of(),
      now - 1000, now + 3_600_000, "announced while the node was not listening", "ops");
    redisServer.start(vertx)
      .compose(r -> AlertTestKit.deploy(vertx, AlertTestKit.config("node-b", alerts(receiver, "0"), redisServer.url())))
      .compose(id -> {
        redis = Redis.createClient(vertx, redisServer.url());
        return redis.send(Request.cmd(Command.HSET).arg(RedisAlertStore.SILENCES).arg(silence.id())
          .arg(silence.toStored().encode()));
      })
      .compose(stored -> ask(vertx, new JsonObject().put("op", "silences")))
      .compose(before -> {
        ctx.verify(() -> assertThat(before.getJsonArray("silences")).isEmpty());
        // Redis drops the node's subscription (as a restart or a network cut would)
        return redis.send(Request.cmd(Command.CLIENT).arg("KILL").arg("TYPE").arg("pubsub"));
      })
      .compose(killed -> silencesUntil(vertx, list -> !list.isEmpty()))
      .onComplete(ctx.succeeding(list -> ctx.verify(() -> {
        assertThat(list).extracting(o -> ((JsonObject) o).getString("id")).containsExactly(silence.id());
        ctx.completeNow();
      })));
  }

  private static Future<JsonArray> silencesUntil(Vertx vertx, Predicate<JsonArray> done) {
    return ask(vertx, new JsonObject().put("op", "silences")).compose(s -> done.test(s.getJsonArray("silences"))
      ? Future.succeededFuture(s.getJsonArray("silences"))
      : Future.<Void>future(p -> vertx.setTimer(10, id -> p.complete())).compose(v -> silencesUntil(vertx, done)));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("an acknowledgement made on node A stops node B's repeats; an alert left unacknowledged goes on repeating")
  void ackAcrossNodes(Vertx vertx, VertxTestContext ctx) {
    Receiver receiver = new Receiver(vertx, Edge.freePort());
    String[] podA = new String[1];
    String[] podB = new String[1];
    int[] seen = new int[2];
    twoNodes(vertx, receiver, "1s")
      .compose(ids -> {
        double now = System.currentTimeMillis() / 1000d - BASE; // sample time = wall time: repeats count from it
        podA[0] = "cpu_high/pod-a/firing/" + Math.round((BASE + now) * 1000);
        podB[0] = "cpu_high/pod-b/firing/" + Math.round((BASE + now) * 1000);
        for (Vertx node : List.of(vertx, second)) {
          publish(node, cpu("pod-a", now, 95));
          publish(node, cpu("pod-b", now, 95));
        }
        return receiver.until(rs -> keys(rs).stream().anyMatch(k -> k.startsWith(podA[0] + "/repeat/"))
          && keys(rs).stream().anyMatch(k -> k.startsWith(podB[0] + "/repeat/")));
      })
      .compose(rs -> ask(vertx, new JsonObject().put("op", "ack").put("rule", "cpu_high").put("instance", "pod-a")
        .put("by", "alice")))
      .compose(acked -> activeUntil(second, "pod-a", a -> a.getBoolean("acknowledged")))
      .compose(onB -> {
        ctx.verify(() -> assertThat(onB.getString("acknowledged_by")).isEqualTo("alice"));
        return AlertDeliveryTest.idle(vertx).compose(s -> AlertDeliveryTest.idle(second));
      })
      .compose(idle -> {
        // from here on, no repeat of pod-a may be sent by either node; pod-b's repeats show time passing on both
        seen[0] = (int) keys(receiver.requests).stream().filter(k -> k.startsWith(podA[0])).count();
        int lastB = keys(receiver.requests).stream().filter(k -> k.startsWith(podB[0] + "/repeat/"))
          .mapToInt(k -> Integer.parseInt(k.substring(k.lastIndexOf('/') + 1))).max().orElseThrow();
        seen[1] = lastB;
        String later = podB[0] + "/repeat/" + (lastB + 2);
        return receiver.until(rs -> keys(rs).contains(later));
      })
      .compose(rs -> AlertDeliveryTest.idle(vertx))
      .compose(s -> AlertDeliveryTest.idle(second))
      .onComplete(ctx.succeeding(s -> ctx.verify(() -> {
        List<String> keys = keys(receiver.requests);
        assertThat(keys.stream().filter(k -> k.startsWith(podA[0])).count()).as("pod-a after the acknowledgement")
          .isEqualTo(seen[0]);
        assertThat(keys).as("each notification once across both nodes").doesNotHaveDuplicates();
        assertThat(keys).contains(podB[0] + "/repeat/" + (seen[1] + 1), podB[0] + "/repeat/" + (seen[1] + 2));
        ctx.completeNow();
      })));
  }

  private static List<String> keys(List<Receiver.Request> requests) {
    return requests.stream().map(r -> r.headers().get("Idempotency-Key")).toList();
  }
}
