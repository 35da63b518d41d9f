package com.chatroom.pulse.chat;

import com.chatroom.pulse.WsClient;
import com.chatroom.pulse.metrics.MeterNames;
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
@DisplayName("A chat client that cannot keep up")
class ChatSlowClientTest {

  private WebSocketClient client;
  private WebSocketClient slowClient;

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  @DisplayName("is disconnected with 4000 and a reason instead of losing messages, and recovers all of them with since")
  void slowClientDisconnectedThenRecovers(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    slowClient = WsClient.newClient(vertx, 4096);
    // large messages, so the kernel's socket buffers (autotuned up to 4 MB on loopback) fill within a few chunks even
    // on a busy machine: with 1.9 KB messages it took over 2,000 of them, longer than the timeout under a full suite
    String text = "x".repeat(30_000);
    WsClient[] c = new WsClient[3];
    int[] port = new int[1];
    long[] sent = new long[1];
    Chat.deploy(vertx, new JsonObject().put("write_queue_bytes", 8192).put("history_size", 10_000).put("max_message_chars", 40_000))
      .compose(p -> {
        port[0] = p;
        return Chat.connect(vertx, client, p, "sender");
      })
      .compose(s -> {
        c[0] = s;
        return Chat.connect(vertx, slowClient, port[0], "slow");
      })
      .compose(slow -> {
        c[1] = slow;
        return join(c[0], "room", null).compose(x -> join(slow, "room", null));
      })
      .compose(x -> {
        c[1].ws.pause();
        return sendUntilClosed(vertx, c[0], c[1], text, 1, sent);
      })
      .compose(x -> {
        double decided = Chat.counter(vertx, MeterNames.CHAT_DISCONNECTS, "reason", "slow");
        if (decided == 0) {
          return Future.failedFuture("the server never found the paused client slow after " + sent[0] + " messages");
        }
        c[1].ws.resume();
        return c[1].closedWith();
      })
      .compose(code -> {
        ctx.verify(() -> {
          assertThat(code).isEqualTo((short) 4000);
          assertThat(c[1].ws.closeReason()).contains("too slow").contains("since");
        });
        return Chat.connect(vertx, client, port[0], "slow");
      })
      .compose(again -> {
        c[2] = again;
        List<Long> got = seqs(c[1], "room");
        long last = got.isEmpty() ? 0 : got.get(got.size() - 1);
        ctx.verify(() -> assertThat(got).isEqualTo(LongStream.rangeClosed(1, last).boxed().toList()));
        return join(again, "room", last).map(last);
      })
      .compose(last -> {
        Chat.send(c[0], "room", "live", "after the reconnect");
        // both sockets may sit on different edge instances: wait for each
        return Future.all(c[2].await(Chat.message("room", sent[0] + 1)), c[0].await(Chat.message("room", sent[0] + 1))).map(last);
      })
      .onComplete(ctx.succeeding(last -> ctx.verify(() -> {
        assertThat(seqs(c[2], "room")).isEqualTo(LongStream.rangeClosed(last + 1, sent[0] + 1).boxed().toList());
        assertThat(seqs(c[0], "room")).isEqualTo(LongStream.rangeClosed(1, sent[0] + 1).boxed().toList());
        assertThat(Chat.counter(vertx, MeterNames.CHAT_DISCONNECTS, "reason", "slow")).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("recovering a history larger than its write queue is paced by the client's reading, not closed as too slow")
  void largeHistoryRecoveredWhileReading(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    slowClient = WsClient.newClient(vertx, 4096);
    String text = "y".repeat(20_000);
    WsClient[] c = new WsClient[2];
    int[] port = new int[1];
    int count = 300; // 6 MB of history against an 8 KB write queue: more than the socket buffers take at once
    Chat.deploy(vertx, new JsonObject().put("write_queue_bytes", 8192).put("history_size", 1000).put("max_message_chars", 40_000))
      .compose(p -> {
        port[0] = p;
        return Chat.connect(vertx, client, p, "sender");
      })
      .compose(s -> {
        c[0] = s;
        return join(s, "big", null);
      })
      .compose(x -> sendAll(c[0], text, 1, count))
      .compose(x -> Chat.connect(vertx, slowClient, port[0], "late"))
      .compose(late -> {
        c[1] = late;
        late.closedWith().onSuccess(code -> ctx.failNow("the recovering client was closed with " + code + ": "
          + late.ws.closeReason()));
        return join(late, "big", 0L);
      })
      .compose(joined -> c[1].await(Chat.message("big", count)))
      .onComplete(ctx.succeeding(last -> ctx.verify(() -> {
        assertThat(seqs(c[1], "big")).isEqualTo(LongStream.rangeClosed(1, count).boxed().toList());
        assertThat(c[1].closedWith().isComplete()).isFalse();
        assertThat(Chat.counter(vertx, MeterNames.CHAT_DISCONNECTS, "reason", "slow")).isZero();
        ctx.completeNow();
      })));
  }

  /** Sends {@code from..to}, each after the sender has received the previous one back. */
  private Future<Void> sendAll(WsClient sender, String text, int from, int to) {
    if (from > to) {
      return Future.succeededFuture();
    }
    Chat.send(sender, "big", "m" + from, text);
    return sender.await(Chat.message("big", from)).compose(x -> sendAll(sender, text, from + 1, to));
  }

  /** Sends in chunks of 50, each once the sender has received the last one, until the server closes the slow client. */
  private Future<Void> sendUntilClosed(Vertx vertx, WsClient sender, WsClient slow, String text, long from, long[] sent) {
    if (slow.ws.isClosed() || slow.closedWith().isComplete() || from > 5000) {
      return Future.succeededFuture();
    }
    long to = from + 49;
    List<String> ids = new java.util.ArrayList<>();
    for (long i = from; i <= to; i++) {
      ids.add("m" + i);
    }
    sent[0] = to;
    // the paused client cannot see its close frame yet (it waits behind the data): the server's counter says it was decided
    return sendAccepted(vertx, sender, ids, text, 0)
      .compose(v -> sender.await(Chat.message("room", to)))
      .compose(x -> Chat.counter(vertx, MeterNames.CHAT_DISCONNECTS, "reason", "slow") > 0
        ? Future.succeededFuture() : sendUntilClosed(vertx, sender, slow, text, to + 1, sent));
  }

  /**
   * Sends each message and waits for its ack; one refused (e.g. "overloaded" while the edges catch up on a loaded
   * machine) is sent again under a new id, so every message of the chunk ends up in the room exactly once.
   */
  private Future<Void> sendAccepted(Vertx vertx, WsClient sender, List<String> ids, String text, int attempt) {
    if (ids.isEmpty()) {
      return Future.succeededFuture();
    }
    if (attempt > 200) {
      return Future.failedFuture("messages still refused after 200 attempts: " + ids);
    }
    List<Future<String>> outcomes = new java.util.ArrayList<>();
    for (String id : ids) {
      Chat.send(sender, "room", id, text);
      outcomes.add(sender.await(f -> id.equals(f.getString("id"))
          && ("ack".equals(f.getString("type")) || "error".equals(f.getString("type"))))
        .map(f -> "ack".equals(f.getString("type")) ? null : id));
    }
    return Future.all(outcomes).compose(v -> {
      List<String> refused = outcomes.stream().map(Future::result).filter(java.util.Objects::nonNull).map(id -> id + "r").toList();
      return refused.isEmpty() ? Future.succeededFuture()
        : Future.<Void>future(p -> vertx.setTimer(20, t -> p.complete())).compose(x -> sendAccepted(vertx, sender, refused, text, attempt + 1));
    });
  }
}
