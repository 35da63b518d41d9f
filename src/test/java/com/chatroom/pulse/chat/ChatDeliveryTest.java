package com.chatroom.pulse.chat;

import com.chatroom.pulse.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static com.chatroom.pulse.chat.Chat.join;
import static com.chatroom.pulse.chat.Chat.seqs;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("WS /chat delivery with real WebSocket clients")
class ChatDeliveryTest {

  private WebSocketClient client;

  private static List<Long> range(long from, long to) {
    return LongStream.rangeClosed(from, to).boxed().toList();
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("messages of two rooms reach exactly their members, each room in sequence order, with an ack per message")
  void multiRoomInOrder(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    WsClient[] c = new WsClient[3];
    int n = 40;
    Chat.deploy(vertx, new JsonObject())
      .compose(port -> Chat.connect(vertx, client, port, "alice").compose(a -> {
        c[0] = a;
        return Chat.connect(vertx, client, port, "bob");
      }).compose(b -> {
        c[1] = b;
        return Chat.connect(vertx, client, port, "carol");
      }))
      .compose(carol -> {
        c[2] = carol;
        return Future.all(join(c[0], "r1", null).compose(x -> join(c[0], "r2", null)), join(c[1], "r1", null), join(c[2], "r2", null));
      })
      .compose(x -> {
        for (int i = 1; i <= n; i++) {
          Chat.send(c[0], "r1", "a1-" + i, "alice to r1 #" + i);
          Chat.send(c[0], "r2", "a2-" + i, "alice to r2 #" + i);
          Chat.send(c[1], "r1", "b1-" + i, "bob to r1 #" + i);
        }
        return Future.all(c[0].await(Chat.message("r1", 2L * n)), c[0].await(Chat.message("r2", n)),
          c[1].await(Chat.message("r1", 2L * n)), c[2].await(Chat.message("r2", n)), c[1].await(f -> c[1].ofType("ack").size() == n));
      })
      .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
        assertThat(seqs(c[0], "r1")).isEqualTo(range(1, 2L * n));
        assertThat(seqs(c[1], "r1")).isEqualTo(range(1, 2L * n));
        assertThat(seqs(c[0], "r2")).isEqualTo(range(1, n));
        assertThat(seqs(c[2], "r2")).isEqualTo(range(1, n));
        assertThat(seqs(c[1], "r2")).isEmpty();
        assertThat(seqs(c[2], "r1")).isEmpty();
        // each sender's messages keep their order within the room, and each ack names the seq its message got
        List<JsonObject> bobs = c[1].ofType("message").stream().filter(f -> f.getJsonObject("from").getString("id").equals("bob")).toList();
        assertThat(bobs).extracting(f -> f.getString("text")).isEqualTo(range(1, n).stream().map(i -> "bob to r1 #" + i).toList());
        for (JsonObject ack : c[1].ofType("ack")) {
          JsonObject delivered = bobs.stream().filter(f -> f.getString("id").equals(ack.getString("id"))).findFirst().orElseThrow();
          assertThat(ack.getLong("seq")).isEqualTo(delivered.getLong("seq"));
          assertThat(ack.getBoolean("duplicate")).isFalse();
        }
        assertThat(bobs.get(0).getJsonObject("from").getString("name")).isEqualTo("User bob");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a resend with the same client id is acknowledged with the first seq and delivered once")
  void dedup(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    WsClient[] c = new WsClient[2];
    Chat.deploy(vertx, new JsonObject())
      .compose(port -> Chat.connect(vertx, client, port, "alice").compose(a -> {
        c[0] = a;
        return Chat.connect(vertx, client, port, "bob");
      }))
      .compose(b -> {
        c[1] = b;
        return join(c[0], "room", null).compose(x -> join(b, "room", null));
      })
      .compose(x -> {
        Chat.send(c[0], "room", "m1", "<b>hello</b> & welcome");
        return c[0].await(f -> c[0].ofType("ack").size() == 1);
      })
      .compose(x -> {
        Chat.send(c[0], "room", "m1", "<b>hello</b> & welcome");
        return c[0].await(f -> c[0].ofType("ack").size() == 2);
      })
      .compose(x -> {
        Chat.send(c[0], "room", "m2", "second");
        return c[1].await(Chat.message("room", 2));
      })
      .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
        List<JsonObject> acks = c[0].ofType("ack");
        assertThat(acks.get(0).getLong("seq")).isEqualTo(1);
        assertThat(acks.get(0).getBoolean("duplicate")).isFalse();
        assertThat(acks.get(1).getLong("seq")).isEqualTo(1);
        assertThat(acks.get(1).getBoolean("duplicate")).isTrue();
        assertThat(c[1].ofType("message")).extracting(f -> f.getString("id")).containsExactly("m1", "m2");
        // text is delivered as text, byte for byte: the server never interprets or escapes it
        assertThat(c[1].ofType("message").get(0).getString("text")).isEqualTo("<b>hello</b> & welcome");
        assertThat(Chat.counter(vertx, com.chatroom.pulse.metrics.MeterNames.CHAT_DUPLICATES)).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a client reconnecting with since gets exactly what it missed, then live messages, no gap and no duplicate")
  void recoverySince(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    WsClient[] c = new WsClient[3];
    int[] port = new int[1];
    Chat.deploy(vertx, new JsonObject())
      .compose(p -> {
        port[0] = p;
        return Chat.connect(vertx, client, p, "alice");
      })
      .compose(a -> {
        c[0] = a;
        return Chat.connect(vertx, client, port[0], "bob");
      })
      .compose(b -> {
        c[1] = b;
        return join(c[0], "room", null).compose(x -> join(b, "room", null));
      })
      .compose(x -> {
        for (int i = 1; i <= 5; i++) {
          Chat.send(c[0], "room", "m" + i, "text " + i);
        }
        return c[1].await(Chat.message("room", 5));
      })
      .compose(x -> c[1].ws.close().compose(v -> c[1].closedWith()))
      .compose(x -> {
        for (int i = 6; i <= 10; i++) {
          Chat.send(c[0], "room", "m" + i, "text " + i);
        }
        return c[0].await(Chat.message("room", 10));
      })
      .compose(x -> Chat.connect(vertx, client, port[0], "bob"))
      .compose(b2 -> {
        c[2] = b2;
        return join(b2, "room", 5L);
      })
      .compose(joined -> {
        ctx.verify(() -> {
          assertThat(joined.getBoolean("gap")).isFalse();
          assertThat(joined.getLong("recovered")).isEqualTo(5);
          assertThat(joined.getLong("last_seq")).isEqualTo(10);
        });
        Chat.send(c[0], "room", "m11", "text 11");
        return c[2].await(Chat.message("room", 11));
      })
      .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
        assertThat(seqs(c[2], "room")).isEqualTo(range(6, 11));
        assertThat(c[2].ofType("message").get(0).getString("text")).isEqualTo("text 6");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a since older than the history window is reported as a gap, with what is left; a plain join gets the newest few")
  void gapAndJoinHistory(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    WsClient[] c = new WsClient[3];
    int[] port = new int[1];
    Chat.deploy(vertx, new JsonObject().put("history_size", 5).put("join_history", 3))
      .compose(p -> {
        port[0] = p;
        return Chat.connect(vertx, client, p, "alice");
      })
      .compose(a -> {
        c[0] = a;
        return join(a, "room", null);
      })
      .compose(x -> {
        for (int i = 1; i <= 12; i++) {
          Chat.send(c[0], "room", "m" + i, "text " + i);
        }
        return c[0].await(Chat.message("room", 12));
      })
      .compose(x -> Chat.connect(vertx, client, port[0], "bob"))
      .compose(b -> {
        c[1] = b;
        return join(b, "room", 2L);
      })
      .compose(joined -> {
        ctx.verify(() -> {
          assertThat(joined.getBoolean("gap")).isTrue();
          assertThat(joined.getLong("first_available")).isEqualTo(8);
          assertThat(joined.getLong("missed")).isEqualTo(5);
          assertThat(joined.getLong("recovered")).isEqualTo(5);
        });
        return c[1].await(Chat.message("room", 12)).compose(y -> Chat.connect(vertx, client, port[0], "carol"));
      })
      .compose(carol -> {
        c[2] = carol;
        return join(carol, "room", null).compose(j -> carol.await(Chat.message("room", 12)));
      })
      .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
        assertThat(seqs(c[1], "room")).isEqualTo(range(8, 12));
        assertThat(seqs(c[2], "room")).isEqualTo(range(10, 12));
        ctx.completeNow();
      })));
  }
}
