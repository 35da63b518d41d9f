package com.chatroom.pulse.chat;

import com.chatroom.pulse.RedisServer;
import com.chatroom.pulse.WsClient;
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
import java.util.concurrent.TimeUnit;

import static com.chatroom.pulse.chat.Chat.join;
import static com.chatroom.pulse.chat.Chat.seqs;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("Chat rooms in Redis")
class ChatRedisTest {

  private final RedisServer redis = new RedisServer();
  private WebSocketClient client;

  @AfterEach
  void stopRedis() throws InterruptedException {
    redis.close();
  }

  private Future<Integer> deploy(Vertx vertx) {
    return Chat.deploy(vertx, new JsonObject().put("history_size", 4), new JsonObject().put("redis", new JsonObject().put("url", redis.url())));
  }

  /** Undeploys the whole node, as a restart of the gateway would. */
  private static Future<Void> undeployAll(Vertx vertx) {
    return Future.all(vertx.deploymentIDs().stream().map(vertx::undeploy).toList()).mapEmpty();
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("history, sequence numbers and de-duplication survive a gateway restart; history keeps the newest history_size")
  void survivesRestart(Vertx vertx, VertxTestContext ctx) throws Exception {
    redis.start();
    client = WsClient.newClient(vertx, 0);
    WsClient[] c = new WsClient[2];
    deploy(vertx)
      .compose(port -> Chat.connect(vertx, client, port, "alice"))
      .compose(a -> {
        c[0] = a;
        return join(a, "room", null);
      })
      .compose(x -> {
        for (int i = 1; i <= 6; i++) {
          Chat.send(c[0], "room", "m" + i, "before restart " + i);
        }
        return c[0].await(Chat.message("room", 6));
      })
      .compose(x -> undeployAll(vertx))
      .compose(x -> deploy(vertx))
      .compose(port -> Chat.connect(vertx, client, port, "alice"))
      .compose(a -> {
        c[1] = a;
        return join(a, "room", 1L);
      })
      .compose(joined -> {
        ctx.verify(() -> {
          assertThat(joined.getLong("last_seq")).isEqualTo(6);
          assertThat(joined.getLong("first_available")).isEqualTo(3);
          assertThat(joined.getBoolean("gap")).isTrue();
          assertThat(joined.getLong("missed")).isEqualTo(1);
        });
        Chat.send(c[1], "room", "m6", "a resend after the restart");
        Chat.send(c[1], "room", "m7", "after restart");
        return Future.all(Chat.ack(c[1], "m6"), c[1].await(Chat.message("room", 7)));
      })
      .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
        assertThat(seqs(c[1], "room")).containsExactly(3L, 4L, 5L, 6L, 7L);
        assertThat(c[1].ofType("message").get(0).getString("text")).isEqualTo("before restart 3");
        assertThat(c[1].ofType("message").get(0).getJsonObject("from").getString("name")).isEqualTo("User alice");
        JsonObject ack = Chat.ack(c[1], "m6").result();
        assertThat(ack.getLong("seq")).isEqualTo(6);
        assertThat(ack.getBoolean("duplicate")).isTrue();
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("two rooms posted concurrently keep separate, gap-free sequences")
  void concurrentRooms(Vertx vertx, VertxTestContext ctx) throws Exception {
    redis.start();
    client = WsClient.newClient(vertx, 0);
    deploy(vertx)
      .compose(port -> Chat.connect(vertx, client, port, "alice"))
      .compose(a -> Future.all(join(a, "a", null), join(a, "b", null)).map(a))
      .compose(a -> {
        for (int i = 1; i <= 50; i++) {
          Chat.send(a, "a", "a" + i, "to a " + i);
          Chat.send(a, "b", "b" + i, "to b " + i);
        }
        return Future.all(a.await(Chat.message("a", 50)), a.await(Chat.message("b", 50))).map(a);
      })
      .onComplete(ctx.succeeding(a -> ctx.verify(() -> {
        List<Long> expected = java.util.stream.LongStream.rangeClosed(1, 50).boxed().toList();
        assertThat(seqs(a, "a")).isEqualTo(expected);
        assertThat(seqs(a, "b")).isEqualTo(expected);
        ctx.completeNow();
      })));
  }

  private String redisCli(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("redis-cli", "-p", Integer.toString(redis.port())));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return out;
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("after a restore: a lost counter continues after the log's newest entry, and a client ahead of the room is told it was rewound and misses nothing new")
  void restoredFromOlderBackup(Vertx vertx, VertxTestContext ctx) throws Exception {
    redis.start();
    client = WsClient.newClient(vertx, 0);
    WsClient[] c = new WsClient[2];
    int[] port = new int[1];
    deploy(vertx)
      .compose(p -> {
        port[0] = p;
        return Chat.connect(vertx, client, p, "alice");
      })
      .compose(a -> {
        c[0] = a;
        return join(a, "room", null);
      })
      .compose(x -> {
        for (int i = 1; i <= 3; i++) {
          Chat.send(c[0], "room", "m" + i, "before " + i);
        }
        return c[0].await(Chat.message("room", 3));
      })
      // the counter key lost (or restored apart from the log): without the script's check, XADD 1-1 would be refused
      .compose(x -> vertx.executeBlocking(() -> redisCli("DEL", "pulse:chat:room:seq")))
      .compose(x -> {
        Chat.send(c[0], "room", "m4", "after the counter was lost");
        return Chat.ack(c[0], "m4");
      })
      .compose(ack -> {
        ctx.verify(() -> assertThat(ack.getLong("seq")).isEqualTo(4));
        return Chat.connect(vertx, client, port[0], "bob");
      })
      .compose(b -> {
        c[1] = b;
        // bob saw seq 10 before the store was restored from a backup that ends at 4
        return join(b, "room", 10L);
      })
      .compose(joined -> {
        ctx.verify(() -> {
          assertThat(joined.getBoolean("rewound")).isTrue();
          assertThat(joined.getLong("last_seq")).isEqualTo(4);
          assertThat(joined.getBoolean("gap")).isFalse();
        });
        Chat.send(c[0], "room", "m5", "after the restore");
        return Future.all(c[1].await(Chat.message("room", 5)), c[0].await(Chat.message("room", 5)));
      })
      .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
        List<Long> atBob = seqs(c[1], "room");
        assertThat(atBob).contains(4L, 5L).isSorted().doesNotHaveDuplicates();
        assertThat(seqs(c[0], "room")).containsExactly(1L, 2L, 3L, 4L, 5L);
        ctx.completeNow();
      })));
  }
}
