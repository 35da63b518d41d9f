package com.chatroom.pulse.chat;

import com.chatroom.pulse.RedisServer;
import com.chatroom.pulse.WsClient;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static com.chatroom.pulse.chat.Chat.counter;
import static com.chatroom.pulse.chat.Chat.join;
import static com.chatroom.pulse.chat.Chat.seqs;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("The chat gateway carries out the optimizer's shed_load, throttle_streams and trim_caches")
class ChatOptimizerTest {

  private WebSocketClient client;
  private RedisServer redis;

  @AfterEach
  void stopRedis() throws InterruptedException {
    if (redis != null) {
      redis.close();
    }
  }

  /** An action as the optimizer publishes it (contract fields). */
  private static JsonObject action(String name, String state) {
    return new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", System.currentTimeMillis())
      .put("rule", "test_rule").put("action", name).put("state", state).put("reason", "test")
      .put("metrics", new JsonObject().put("active_connections", 612));
  }

  private void publish(Vertx vertx, Object action) {
    vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, action);
  }

  /** Actions are carried out on the room registry's loop: a join's round trip through it orders them before what follows. */
  private static Future<WsClient> sync(WsClient ws) {
    return join(ws, "sync-" + UUID.randomUUID().toString().substring(0, 8), null).map(ws);
  }

  private Future<Short> refused(Vertx vertx, int port, String sub) {
    return WsClient.connect(client, port, null, "/chat?token=" + Chat.token(vertx, sub)).compose(WsClient::closedWith);
  }

  /** Sends messages m{from}..m{to} in {@code room} and waits for the last ack. */
  private static Future<WsClient> sendAll(WsClient ws, String room, int from, int to) {
    for (int i = from; i <= to; i++) {
      Chat.send(ws, room, "m" + i, "message " + i);
    }
    return Chat.ack(ws, "m" + to).map(ws);
  }

  private static double rejected(Vertx vertx) {
    return Meters.registry(vertx).find(MeterNames.BUS_REJECTED)
      .tags("address", Addresses.OPTIMIZER_ACTIONS, "consumer", "chat").counters().stream().mapToDouble(Counter::count).sum();
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("shed_load refuses new connections beyond its cap (even 0) with 1013 and keeps the open ones; reverted lifts it; another node's shed_load is ignored")
  void shedLoad(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    int[] port = new int[1];
    WsClient[] first = new WsClient[1];
    Chat.deploy(vertx, new JsonObject())
      .compose(p -> {
        port[0] = p;
        return Chat.connect(vertx, client, p, "first");
      })
      .compose(ws -> {
        first[0] = ws;
        publish(vertx, action("shed_load", "applied").put("cap", 0).put("instance", "another-node"));
        publish(vertx, action("shed_load", "applied").put("cap", 1).put("instance", "edge-test"));
        return sync(ws);
      })
      .compose(ws -> refused(vertx, port[0], "second"))
      .compose(code -> {
        ctx.verify(() -> assertThat(code).isEqualTo((short) 1013));
        publish(vertx, action("shed_load", "reverted"));
        return sync(first[0]);
      })
      .compose(ws -> Chat.connect(vertx, client, port[0], "third"))
      .compose(third -> {
        publish(vertx, action("shed_load", "applied").put("cap", 0));
        return sync(first[0]);
      })
      .compose(ws -> refused(vertx, port[0], "fourth"))
      .compose(code -> {
        ctx.verify(() -> assertThat(code).isEqualTo((short) 1013));
        publish(vertx, action("shed_load", "reverted"));
        return sync(first[0]);
      })
      .compose(ws -> Chat.connect(vertx, client, port[0], "fifth"))
      .onComplete(ctx.succeeding(fifth -> ctx.verify(() -> {
        assertThat(first[0].ws.isClosed()).as("open connections are never closed by a cap").isFalse();
        assertThat(counter(vertx, MeterNames.CHAT_OPTIMIZER_ACTIONS, "action", "shed_load", "state", "applied")).isEqualTo(2);
        assertThat(counter(vertx, MeterNames.CHAT_OPTIMIZER_ACTIONS, "action", "shed_load", "state", "reverted")).isEqualTo(2);
        assertThat(counter(vertx, MeterNames.CHAT_REFUSED, "reason", "max_connections")).isEqualTo(2);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("throttle_streams tightens every connection's rate to min(per_second, configured) and its burst with it; reverted restores both")
  void throttleStreamsRate(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    Chat.deploy(vertx, new JsonObject())
      .compose(p -> Chat.connect(vertx, client, p, "chatty"))
      .compose(ws -> {
        // above the configured 1000/s: accepted, and changes nothing (min)
        publish(vertx, action("throttle_streams", "applied").put("interval_ms", 5000).put("per_second", 5000));
        publish(vertx, action("throttle_streams", "applied").put("interval_ms", 5000).put("per_second", 0.5));
        return sync(ws);
      })
      .compose(ws -> {
        for (int i = 0; i < 5; i++) {
          ws.ws.writeTextMessage("{\"type\":\"ping\",\"id\":" + i + "}");
        }
        return ws.await(f -> ws.ofType("pong").size() + ws.ofType("error").size() >= 5).map(ws);
      })
      .compose(ws -> {
        ctx.verify(() -> {
          // burst min(1000, 2 x 0.5) = 1, and the join used it: the 5 pings come within the same second
          assertThat(ws.ofType("pong")).hasSizeLessThanOrEqualTo(1);
          assertThat(ws.ofType("error")).hasSizeGreaterThanOrEqualTo(4)
            .allSatisfy(e -> assertThat(e.getString("code")).isEqualTo("rate_limited"));
        });
        publish(vertx, action("throttle_streams", "reverted"));
        // the revert's round trip needs one token of the tightened bucket: wait for it (0.5/s), then 100 ms at 1000/s
        return Future.<Void>future(p -> vertx.setTimer(2100, id -> p.complete())).compose(v -> sync(ws))
          .compose(x -> Future.<Void>future(p -> vertx.setTimer(100, id -> p.complete()))).map(ws);
      })
      .compose(ws -> {
        int pongs = ws.ofType("pong").size();
        for (int i = 10; i < 15; i++) {
          ws.ws.writeTextMessage("{\"type\":\"ping\",\"id\":" + i + "}");
        }
        return ws.await(f -> ws.ofType("pong").size() >= pongs + 5).map(ws);
      })
      .onComplete(ctx.succeeding(ws -> ctx.verify(() -> {
        assertThat(rejected(vertx)).isZero();
        assertThat(counter(vertx, MeterNames.CHAT_OPTIMIZER_ACTIONS, "action", "throttle_streams", "state", "applied")).isEqualTo(2);
        assertThat(counter(vertx, MeterNames.CHAT_OPTIMIZER_ACTIONS, "action", "throttle_streams", "state", "reverted")).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("trim_caches cuts in-memory room backlogs to the floor and holds them there; reverted lets them grow back")
  void trimCaches(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    int[] port = new int[1];
    WsClient[] alice = new WsClient[1];
    Chat.deploy(vertx, new JsonObject())
      .compose(p -> {
        port[0] = p;
        return Chat.connect(vertx, client, p, "alice");
      })
      .compose(a -> {
        alice[0] = a;
        return join(a, "r", null);
      })
      .compose(x -> sendAll(alice[0], "r", 1, 30))
      .compose(a -> {
        publish(vertx, action("trim_caches", "applied").put("chat_backlog_floor", 10).put("history_raw_floor", 100));
        return Chat.connect(vertx, client, port[0], "bob");
      })
      .compose(bob -> join(bob, "r", 0L).compose(joined -> {
        ctx.verify(() -> {
          assertThat(joined.getLong("first_available")).isEqualTo(21);
          assertThat(joined.getBoolean("gap")).isTrue();
        });
        return bob.await(Chat.message("r", 30)).map(bob);
      }))
      .compose(bob -> {
        ctx.verify(() -> {
          assertThat(seqs(bob, "r")).containsExactlyElementsOf(LongStream.rangeClosed(21, 30).boxed().toList());
          assertThat(counter(vertx, MeterNames.CHAT_BACKLOG_TRIMMED)).isEqualTo(20);
        });
        // held at the floor while applied
        return sendAll(alice[0], "r", 31, 35);
      })
      .compose(a -> Chat.connect(vertx, client, port[0], "carol").compose(carol -> join(carol, "r", 0L)))
      .compose(joined -> {
        ctx.verify(() -> assertThat(joined.getLong("first_available")).isEqualTo(26));
        publish(vertx, action("trim_caches", "reverted"));
        return sync(alice[0]);
      })
      .compose(a -> sendAll(a, "r", 36, 40))
      .compose(a -> Chat.connect(vertx, client, port[0], "dave").compose(dave -> join(dave, "r", 0L)))
      .onComplete(ctx.succeeding(joined -> ctx.verify(() -> {
        assertThat(joined.getLong("first_available")).as("after the revert the backlog grows again").isEqualTo(26);
        assertThat(joined.getLong("last_seq")).isEqualTo(40);
        assertThat(counter(vertx, MeterNames.CHAT_OPTIMIZER_ACTIONS, "action", "trim_caches", "state", "applied")).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("trim_caches leaves a Redis-backed room history alone: Redis bounds it")
  void trimCachesLeavesRedis(Vertx vertx, VertxTestContext ctx) throws Exception {
    redis = new RedisServer().start();
    client = WsClient.newClient(vertx, 0);
    int[] port = new int[1];
    Chat.deploy(vertx, new JsonObject(), new JsonObject().put("redis", new JsonObject().put("url", redis.url())))
      .compose(p -> {
        port[0] = p;
        return Chat.connect(vertx, client, p, "alice");
      })
      .compose(a -> join(a, "r", null).map(a))
      .compose(a -> sendAll(a, "r", 1, 30))
      .compose(a -> {
        publish(vertx, action("trim_caches", "applied").put("chat_backlog_floor", 10));
        return sync(a);
      })
      .compose(a -> Chat.connect(vertx, client, port[0], "bob").compose(bob -> join(bob, "r", 0L)))
      .onComplete(ctx.succeeding(joined -> ctx.verify(() -> {
        assertThat(joined.getLong("first_available")).isEqualTo(1);
        assertThat(joined.getBoolean("gap")).isFalse();
        assertThat(counter(vertx, MeterNames.CHAT_OPTIMIZER_ACTIONS, "action", "trim_caches", "state", "applied")).isEqualTo(1);
        assertThat(counter(vertx, MeterNames.CHAT_BACKLOG_TRIMMED)).isZero();
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("malformed actions are refused, each counted once, and change nothing; a good action after them is carried out")
  void malformed(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    List<Object> malformed = List.of(
      "garbage", "{\"action\":", 42,
      new JsonObject(),
      new JsonObject().put("state", "applied").put("cap", 0),
      action("shed_load", "bogus").put("cap", 0),
      action("shed_load", "applied").put("cap", 0).put("instance", 3),
      action("shed_load", "applied"),
      action("shed_load", "applied").put("cap", -1),
      action("shed_load", "applied").put("cap", "2"),
      action("shed_load", "applied").put("cap", 2.5),
      action("shed_load", "applied").put("cap", 3_000_000_000L),
      action("connection_cap", "applied").put("cap", 0),
      action("throttle_streams", "applied").put("interval_ms", 5000),
      action("throttle_streams", "applied").put("interval_ms", 5000).put("per_second", 0),
      action("throttle_streams", "applied").put("interval_ms", 5000).put("per_second", -1),
      action("throttle_streams", "applied").put("interval_ms", 5000).put("per_second", "fast"),
      action("tighten_rate", "applied").put("per_second", 5000),
      action("reap_idle", "applied").put("idle_seconds", 0),
      action("trim_caches", "applied").put("chat_backlog_floor", -1),
      action("trim_caches", "applied").put("chat_backlog_floor", "10"));
    int[] port = new int[1];
    WsClient[] first = new WsClient[1];
    Chat.deploy(vertx, new JsonObject())
      .compose(p -> {
        port[0] = p;
        return Chat.connect(vertx, client, p, "first");
      })
      .compose(ws -> {
        first[0] = ws;
        malformed.forEach(body -> publish(vertx, body));
        return sync(ws);
      })
      // none of them set a cap of 0 (or anything else): a new connection still gets in
      .compose(ws -> Chat.connect(vertx, client, port[0], "second"))
      .compose(second -> {
        publish(vertx, action("shed_load", "applied").put("cap", 0));
        return sync(first[0]);
      })
      .compose(ws -> refused(vertx, port[0], "third"))
      .onComplete(ctx.succeeding(code -> ctx.verify(() -> {
        assertThat(code).isEqualTo((short) 1013);
        assertThat(rejected(vertx)).isEqualTo(malformed.size());
        assertThat(counter(vertx, MeterNames.BUS_REJECTED, "address", Addresses.OPTIMIZER_ACTIONS, "consumer", "chat",
          "reason", "unsupported_body")).isEqualTo(1);
        assertThat(first[0].ws.isClosed()).isFalse();
        ctx.completeNow();
      })));
  }
}
