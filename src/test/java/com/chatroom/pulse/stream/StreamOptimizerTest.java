package com.chatroom.pulse.stream;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.Samples;
import com.chatroom.pulse.WsClient;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

@ExtendWith(VertxExtension.class)
@DisplayName("/metrics/stream follows the optimizer's throttle_streams and reap_idle")
class StreamOptimizerTest {

  private static final double BASE = 1_764_000_000d;

  /** Clients live in fields: Vert.x 5 closes clients that become unreachable. */
  private WebSocketClient client;

  private Future<Integer> start(Vertx vertx) {
    client = WsClient.newClient(vertx, 0);
    return Edge.deploy(vertx, new JsonObject()).map(c -> c.http().port());
  }

  /** An action as the optimizer publishes it (contract fields), for this node unless the test says otherwise. */
  static JsonObject action(String name, String state) {
    return new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", System.currentTimeMillis())
      .put("rule", "test_rule").put("action", name).put("state", state).put("reason", "test")
      .put("metrics", new JsonObject().put("cpu_percent", 91.5));
  }

  private static JsonObject throttle(long intervalMs) {
    return action("throttle_streams", "applied").put("interval_ms", intervalMs).put("per_second", 2);
  }

  private static Predicate<JsonObject> notice(String code) {
    return f -> "notice".equals(f.getString("type")) && code.equals(f.getString("code"));
  }

  /** The host sample {@code seq} of {@code instance}: cpu 2.5·seq, memory 40 + seq, load cpu/50, cpu/60, cpu/70. */
  private static void publishSample(Vertx vertx, String instance, long seq) {
    vertx.eventBus().publish(Addresses.METRICS_SYSTEM, Samples.at(instance, seq, BASE + seq, 2.5 * seq, 40 + seq, 30));
  }

  private static List<JsonObject> aggregated(WsClient ws, String type) {
    return ws.ofType(type).stream().filter(f -> f.containsKey("aggregate")).toList();
  }

  private static long aggregatedCount(WsClient ws, String type) {
    return aggregated(ws, type).stream().mapToLong(f -> f.getJsonObject("aggregate").getLong("count")).sum();
  }

  private static double rejected(Vertx vertx, String consumer) {
    return Meters.registry(vertx).find(MeterNames.BUS_REJECTED)
      .tags("address", Addresses.OPTIMIZER_ACTIONS, "consumer", consumer).counters().stream().mapToDouble(Counter::count).sum();
  }

  private static double counter(Vertx vertx, String name, String... tags) {
    var search = Meters.registry(vertx).find(name).tags(tags);
    return search.counter() == null ? 0 : search.counter().count();
  }

  /** Each aggregated frame covers consecutive samples first..last; its statistics must be theirs exactly. */
  private static void assertWindowStatistics(JsonObject frame, long windowMs) {
    JsonObject data = frame.getJsonObject("data");
    JsonObject agg = frame.getJsonObject("aggregate");
    long last = data.getLong("seq");
    long first = Math.round(agg.getDouble("first_timestamp") - BASE);
    assertThat(agg.getLong("window_ms")).isEqualTo(windowMs);
    assertThat(agg.getLong("count")).isEqualTo(last - first + 1);
    assertThat(agg.getJsonObject("min").getDouble("cpu_percent")).isEqualTo(2.5 * first);
    assertThat(agg.getJsonObject("max").getDouble("cpu_percent")).isEqualTo(2.5 * last);
    double avg = 2.5 * (first + last) / 2;
    assertThat(agg.getJsonObject("avg").getDouble("cpu_percent")).isCloseTo(avg, within(1e-4));
    assertThat(data.getDouble("cpu_percent")).as("data carries the window's average").isCloseTo(avg, within(1e-4));
    assertThat(agg.getJsonObject("min").getDouble("memory_percent")).isEqualTo(40d + first);
    assertThat(agg.getJsonObject("max").getDouble("memory_percent")).isEqualTo(40d + last);
    assertThat(agg.getJsonObject("min").getJsonArray("load_average").getDouble(0)).isCloseTo(2.5 * first / 50, within(1e-9));
    assertThat(agg.getJsonObject("max").getJsonArray("load_average").getDouble(2)).isCloseTo(2.5 * last / 70, within(1e-9));
    assertThat(data.getJsonArray("load_average").getDouble(1)).isCloseTo(avg / 60, within(1e-4));
    // counters since boot and identities are the newest values, never averaged
    assertThat(data.getLong("network_bytes_sent")).isEqualTo(1000 + last * 10);
    assertThat(data.getDouble("timestamp")).isEqualTo(BASE + last);
    assertThat(agg.getJsonObject("avg").containsKey("seq")).isFalse();
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("throttle_streams applied: samples come as one aggregated frame per instance per window with the right count, min, max and avg; reverted: every sample again, none lost at the switch")
  void throttleAggregatesAndRecovers(Vertx vertx, VertxTestContext ctx) {
    int[] port = new int[1];
    start(vertx)
      .compose(p -> {
        port[0] = p;
        return WsClient.connect(client, p, null);
      })
      .compose(ws -> ws.awaitType("hello").map(ws))
      .compose(ws -> {
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, throttle(1000));
        return ws.await(notice("throttled")).map(ws);
      })
      .compose(ws -> {
        for (int i = 1; i <= 20; i++) {
          publishSample(vertx, "n1", i);
          vertx.eventBus().publish(Addresses.METRICS_APP, Samples.app("n1", i));
        }
        return ws.await(f -> aggregatedCount(ws, "system") >= 20 && aggregatedCount(ws, "app") >= 20).map(ws);
      })
      .compose(ws -> WsClient.connect(client, port[0], null).compose(c -> c.awaitType("hello")).map(hello -> {
        ctx.verify(() -> assertThat(hello.getLong("throttle_interval_ms")).as("a new subscriber learns the mode").isEqualTo(1000));
        return ws;
      }))
      .compose(ws -> {
        // samples still in an open window when the throttle is lifted go out aggregated, before the notice
        for (int i = 21; i <= 25; i++) {
          publishSample(vertx, "n1", i);
        }
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, action("throttle_streams", "reverted"));
        return ws.await(notice("unthrottled")).map(ws);
      })
      .compose(ws -> {
        ctx.verify(() -> assertThat(aggregatedCount(ws, "system")).isEqualTo(25));
        for (int i = 26; i <= 28; i++) {
          publishSample(vertx, "n1", i);
        }
        return ws.await(WsClient.sample("system", "n1", 28)).map(ws);
      })
      .onComplete(ctx.succeeding(ws -> ctx.verify(() -> {
        List<JsonObject> system = ws.ofType("system");
        List<JsonObject> windows = aggregated(ws, "system");
        assertThat(windows).as("20 samples published at once fall into one window (two if one ended meanwhile), 5 more into another")
          .hasSizeBetween(2, 3);
        windows.forEach(f -> assertWindowStatistics(f, 1000));
        assertThat(system.stream().filter(f -> !f.containsKey("aggregate")).map(f -> f.getJsonObject("data").getLong("seq")))
          .as("after the revert, every sample as it comes").containsExactly(26L, 27L, 28L);
        List<JsonObject> apps = aggregated(ws, "app");
        assertThat(apps.get(apps.size() - 1).getJsonObject("data").getLong("total_messages")).as("a counter keeps its newest value").isEqualTo(20);
        assertThat(apps.get(0).getJsonObject("aggregate").getJsonObject("max").getLong("active_users")).isEqualTo(42);
        JsonObject throttled = ws.ofType("notice").get(0);
        assertThat(throttled.getLong("interval_ms")).isEqualTo(1000);
        assertThat(throttled.getString("message")).contains("aggregated");
        assertThat(ws.ofType("notice").get(1).getLong("interval_ms")).isZero();
        assertThat(counter(vertx, MeterNames.STREAM_OPTIMIZER_ACTIONS, "action", "throttle_streams", "state", "applied")).isEqualTo(1);
        assertThat(counter(vertx, MeterNames.STREAM_OPTIMIZER_ACTIONS, "action", "throttle_streams", "state", "reverted")).isEqualTo(1);
        assertThat(counter(vertx, MeterNames.STREAM_SAMPLES_AGGREGATED)).isEqualTo(45);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("while samples keep coming every 100 ms, a 1 s throttle sends one frame per second per instance, not ten")
  void throttleRateOverTime(Vertx vertx, VertxTestContext ctx) {
    start(vertx)
      .compose(p -> WsClient.connect(client, p, null))
      .compose(ws -> ws.awaitType("hello").map(ws))
      .compose(ws -> {
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, throttle(1000));
        return ws.await(notice("throttled")).map(ws);
      })
      .compose(ws -> {
        long[] seq = {0};
        vertx.setPeriodic(100, id -> {
          publishSample(vertx, "n1", ++seq[0]);
          publishSample(vertx, "n2", seq[0]);
          if (seq[0] == 25) {
            vertx.cancelTimer(id);
          }
        });
        return ws.await(f -> aggregatedCount(ws, "system") >= 50).map(ws);
      })
      .onComplete(ctx.succeeding(ws -> ctx.verify(() -> {
        for (String instance : List.of("n1", "n2")) {
          List<JsonObject> frames = aggregated(ws, "system").stream()
            .filter(f -> instance.equals(f.getJsonObject("data").getString("instance"))).toList();
          // 25 samples over 2.4 s: two or three window ends, four at most with a late timer
          assertThat(frames).hasSizeBetween(2, 4);
          frames.forEach(f -> assertWindowStatistics(f, 1000));
        }
        assertThat(ws.ofType("system")).allSatisfy(f -> assertThat(f.containsKey("aggregate")).isTrue());
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("reap_idle closes subscribers that sent nothing with 4001 and keeps those that ping or pong; reverted stops reaping")
  void reapIdle(Vertx vertx, VertxTestContext ctx) {
    WsClient[] c = new WsClient[4];
    long[] timers = new long[2];
    int[] port = new int[1];
    start(vertx)
      .compose(p -> {
        port[0] = p;
        return WsClient.connect(client, p, null);
      })
      .compose(silent -> {
        c[0] = silent;
        return WsClient.connect(client, port[0], null);
      })
      .compose(pinger -> {
        c[1] = pinger;
        return WsClient.connect(client, port[0], null);
      })
      .compose(ponger -> {
        c[2] = ponger;
        timers[0] = vertx.setPeriodic(200, id -> c[1].ws.writeTextMessage("{\"type\":\"ping\",\"id\":1}"));
        timers[1] = vertx.setPeriodic(200, id -> c[2].ws.writePong(Buffer.buffer("alive")));
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, action("reap_idle", "applied").put("idle_seconds", 1));
        return c[0].closedWith();
      })
      .compose(code -> {
        ctx.verify(() -> {
          assertThat(code).isEqualTo(StreamFanout.IDLE_CLOSE_CODE);
          assertThat(c[0].ws.closeReason()).contains("idle");
        });
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, action("reap_idle", "reverted"));
        return WsClient.connect(client, port[0], null);
      })
      .compose(quiet -> {
        c[3] = quiet;
        // a silent subscriber past the 1 s limit, checked every second: still open, since reaping has stopped
        return Future.<Void>future(p -> vertx.setTimer(2500, id -> p.complete()));
      })
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        vertx.cancelTimer(timers[0]);
        vertx.cancelTimer(timers[1]);
        assertThat(c[1].ws.isClosed()).as("a client that pings is active").isFalse();
        assertThat(c[2].ws.isClosed()).as("a client that answers with pongs is active").isFalse();
        assertThat(c[3].ws.isClosed()).as("after the revert nobody is reaped").isFalse();
        assertThat(counter(vertx, MeterNames.STREAM_DISCONNECTS, "reason", "idle")).isEqualTo(1);
        assertThat(counter(vertx, MeterNames.STREAM_OPTIMIZER_ACTIONS, "action", "reap_idle", "state", "reverted")).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("shed_load with a stream_cap refuses new subscribers beyond it with 1013 and keeps the ones it has; without one, or reverted, new subscribers are accepted")
  void shedLoadCapsNewSubscribers(Vertx vertx, VertxTestContext ctx) {
    WsClient[] c = new WsClient[4];
    int[] port = new int[1];
    start(vertx)
      .compose(p -> {
        port[0] = p;
        return WsClient.connect(client, p, null);
      })
      .compose(first -> {
        c[0] = first;
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, action("shed_load", "applied").put("cap", 0).put("stream_cap", 1));
        // the stream verticle follows its messages in order: once this sample is out, the cap is in force
        publishSample(vertx, "n1", 1);
        return first.await(WsClient.sample("system", "n1", 1));
      })
      .compose(x -> WsClient.connect(client, port[0], null))
      .compose(refused -> {
        c[1] = refused;
        return refused.closedWith();
      })
      .compose(code -> {
        ctx.verify(() -> {
          assertThat(code).isEqualTo((short) 1013);
          assertThat(c[1].ws.closeReason()).contains("shedding load");
          assertThat(c[1].ofType("hello")).isEmpty();
        });
        // a shed_load without stream_cap leaves the stream open (it replaces the capped one, as the optimizer's latest)
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, action("shed_load", "applied").put("cap", 0));
        publishSample(vertx, "n1", 2);
        return c[0].await(WsClient.sample("system", "n1", 2));
      })
      .compose(x -> WsClient.connect(client, port[0], null))
      .compose(second -> {
        c[2] = second;
        return second.awaitType("hello");
      })
      .compose(x -> {
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, action("shed_load", "applied").put("cap", 0).put("stream_cap", 2));
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, action("shed_load", "reverted"));
        publishSample(vertx, "n1", 3);
        return c[0].await(WsClient.sample("system", "n1", 3));
      })
      .compose(x -> WsClient.connect(client, port[0], null))
      .compose(third -> {
        c[3] = third;
        return third.awaitType("hello");
      })
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        assertThat(c[0].ws.isClosed()).as("subscribers it had are kept").isFalse();
        assertThat(counter(vertx, MeterNames.STREAM_REFUSED, "reason", "shedding")).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("actions for another instance and malformed actions change nothing, each malformed one is counted once, and a good one after them is followed")
  void otherInstancesAndMalformed(Vertx vertx, VertxTestContext ctx) {
    List<Object> malformed = List.of(
      "not json", "[1,2,3]", 42, new JsonArray().add(1), Buffer.buffer("{}"),
      new JsonObject(),
      new JsonObject().put("action", 5).put("state", "applied"),
      new JsonObject().put("action", "").put("state", "applied"),
      new JsonObject().put("action", "throttle_streams").put("interval_ms", 1000),
      action("throttle_streams", "exploded").put("interval_ms", 1000),
      action("throttle_streams", "applied").put("interval_ms", 1000).put("instance", 7),
      action("throttle_streams", "applied").put("interval_ms", 1000).put("instance", ""),
      action("throttle_streams", "applied"),
      action("throttle_streams", "applied").put("interval_ms", 999),
      action("throttle_streams", "applied").put("interval_ms", -1000),
      action("throttle_streams", "applied").put("interval_ms", "5000"),
      action("throttle_streams", "applied").put("interval_ms", 1500.5),
      action("throttle_streams", "applied").putNull("interval_ms"),
      action("reap_idle", "applied"),
      action("reap_idle", "applied").put("idle_seconds", 0),
      action("reap_idle", "applied").put("idle_seconds", 1_000_000_000L));
    start(vertx)
      .compose(p -> WsClient.connect(client, p, null))
      .compose(ws -> ws.awaitType("hello").map(ws))
      .compose(ws -> {
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, throttle(1000).put("instance", "another-node"));
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, action("reap_idle", "applied").put("idle_seconds", 1).put("instance", "another-node"));
        // informational states are relayed to dashboards, never followed
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, throttle(1000).put("state", "dry_run"));
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, throttle(1000).put("state", "verified").put("result", "effective"));
        malformed.forEach(body -> vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, body));
        // the stream verticle handles these in order: this sample comes before the good action below
        publishSample(vertx, "n1", 1);
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, throttle(2000).put("instance", "edge-test"));
        return ws.await(notice("throttled")).map(ws);
      })
      .onComplete(ctx.succeeding(ws -> ctx.verify(() -> {
        assertThat(ws.ofType("system")).singleElement().satisfies(f -> assertThat(f.containsKey("aggregate")).isFalse());
        assertThat(ws.ofType("notice")).singleElement().satisfies(n -> assertThat(n.getLong("interval_ms")).isEqualTo(2000));
        assertThat(rejected(vertx, "stream")).isEqualTo(malformed.size());
        assertThat(ws.ws.isClosed()).isFalse();
        ctx.completeNow();
      })));
  }
}
