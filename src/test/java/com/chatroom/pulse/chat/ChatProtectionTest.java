package com.chatroom.pulse.chat;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.WsClient;
import com.chatroom.pulse.metrics.MeterNames;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static com.chatroom.pulse.chat.Chat.counter;
import static com.chatroom.pulse.chat.Chat.join;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("WS /chat refusals and limits, each with its code, other clients unaffected")
class ChatProtectionTest {

  private WebSocketClient client;

  /** Connects with {@code uri} and returns the HTTP status of the refused upgrade. */
  private Future<Integer> refusedStatus(int port, String uri, String origin) {
    return WsClient.connect(client, port, origin, uri).transform(ar -> {
      if (ar.cause() instanceof UpgradeRejectedException e) {
        return Future.succeededFuture(e.getStatus());
      }
      return Future.failedFuture("expected a refused upgrade for " + uri + ", got " + (ar.succeeded() ? "a connection" : ar.cause()));
    });
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("bad, expired or missing tokens get 401, a foreign Origin 403, and a valid token still connects")
  void handshakeRefusals(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    String wrongKey = Chat.token(vertx, "other-secret-that-is-also-32-bytes-long!", new JsonObject().put("sub", "mallory"), 60);
    String expired = Chat.token(vertx, Chat.SECRET, new JsonObject().put("sub", "late").put("exp", System.currentTimeMillis() / 1000 - 3600)
      .put("iat", System.currentTimeMillis() / 1000 - 7200), 0);
    String noSub = Chat.token(vertx, Chat.SECRET, new JsonObject().put("name", "nobody"), 60);
    List<Integer> statuses = new ArrayList<>();
    int[] port = new int[1];
    Chat.deploy(vertx, new JsonObject().put("allowed_origins", "https://chat.example.com"))
      .compose(p -> {
        port[0] = p;
        return refusedStatus(p, "/chat?token=" + wrongKey, null);
      })
      .compose(s -> { statuses.add(s); return refusedStatus(port[0], "/chat?token=" + expired, null); })
      .compose(s -> { statuses.add(s); return refusedStatus(port[0], "/chat?token=not.a.jwt", null); })
      .compose(s -> { statuses.add(s); return refusedStatus(port[0], "/chat?token=" + noSub, null); })
      .compose(s -> { statuses.add(s); return refusedStatus(port[0], "/chat?nickname=anon", null); })
      .compose(s -> { statuses.add(s); return refusedStatus(port[0], "/chat?token=" + Chat.token(vertx, "eve"), "https://evil.example.com"); })
      .compose(s -> {
        statuses.add(s);
        return WsClient.connect(client, port[0], "https://chat.example.com", "/chat?token=" + Chat.token(vertx, "alice"));
      })
      .compose(ws -> ws.awaitType("hello"))
      .onComplete(ctx.succeeding(hello -> ctx.verify(() -> {
        assertThat(statuses).containsExactly(401, 401, 401, 401, 401, 403);
        assertThat(hello.getJsonObject("user").getString("id")).isEqualTo("alice");
        assertThat(counter(vertx, MeterNames.CHAT_REFUSED, "reason", "invalid_token")).isEqualTo(4);
        assertThat(counter(vertx, MeterNames.CHAT_REFUSED, "reason", "token_required")).isEqualTo(1);
        assertThat(counter(vertx, MeterNames.CHAT_REFUSED, "reason", "origin")).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("with no identity configured, chat is off: every handshake gets 403")
  void noIdentityConfigured(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    Edge.deploy(vertx, new JsonObject())
      .compose(c -> refusedStatus(c.http().port(), "/chat?nickname=zed", null))
      .onComplete(ctx.succeeding(status -> ctx.verify(() -> {
        assertThat(status).isEqualTo(403);
        assertThat(counter(vertx, MeterNames.CHAT_REFUSED, "reason", "disabled")).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("with anonymous chat allowed a valid nickname is enough, a bad one gets 400")
  void anonymous(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    int[] port = new int[1];
    Edge.deploy(vertx, new JsonObject().put("chat", new JsonObject().put("allow_anonymous", true)))
      .compose(c -> {
        port[0] = c.http().port();
        return refusedStatus(port[0], "/chat?nickname=" + "x".repeat(40), null);
      })
      .compose(badNick -> {
        ctx.verify(() -> assertThat(badNick).isEqualTo(400));
        return WsClient.connect(client, port[0], null, "/chat?nickname=Zed%20Z");
      })
      .compose(ws -> ws.awaitType("hello"))
      .onComplete(ctx.succeeding(hello -> ctx.verify(() -> {
        assertThat(hello.getJsonObject("user").getString("name")).isEqualTo("Zed Z");
        assertThat(hello.getJsonObject("user").getString("id")).startsWith("anon:");
        assertThat(hello.getJsonObject("user").getBoolean("admin")).isFalse();
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("an anonymous session key is one user across reconnects, so a message resent after a lost ack is a duplicate; a bad key gets 400")
  void anonymousSession(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    int[] port = new int[1];
    String session = "abcdefghijklmnop-0123456789_XYZ";
    WsClient[] c = new WsClient[3];
    Edge.deploy(vertx, new JsonObject().put("chat", new JsonObject().put("allow_anonymous", true)))
      .compose(conf -> {
        port[0] = conf.http().port();
        return refusedStatus(port[0], "/chat?nickname=Ann&session=short", null);
      })
      .compose(badSession -> {
        ctx.verify(() -> assertThat(badSession).isEqualTo(400));
        return WsClient.connect(client, port[0], null, "/chat?nickname=Ann&session=" + session);
      })
      .compose(first -> {
        c[0] = first;
        return first.awaitType("hello").compose(h -> Chat.join(first, "r", null));
      })
      .compose(joined -> {
        Chat.send(c[0], "r", "m1", "hello");
        return Chat.ack(c[0], "m1");
      })
      .compose(ack -> c[0].ws.close().compose(v -> WsClient.connect(client, port[0], null, "/chat?nickname=Ann&session=" + session)))
      .compose(again -> {
        c[1] = again;
        return again.awaitType("hello").compose(h -> Chat.join(again, "r", 1L));
      })
      .compose(joined -> {
        // the ack was "lost": the client resends the same id from its new connection
        Chat.send(c[1], "r", "m1", "hello");
        return Chat.ack(c[1], "m1");
      })
      .compose(resent -> {
        ctx.verify(() -> {
          assertThat(resent.getBoolean("duplicate")).isTrue();
          assertThat(resent.getLong("seq")).isEqualTo(1L);
        });
        return WsClient.connect(client, port[0], null, "/chat?nickname=Ann&session=another-session-0123456789");
      })
      .compose(other -> {
        c[2] = other;
        return other.awaitType("hello");
      })
      .onComplete(ctx.succeeding(otherHello -> ctx.verify(() -> {
        String id = c[0].ofType("hello").get(0).getJsonObject("user").getString("id");
        assertThat(id).matches("anon:[0-9a-f]{12}").doesNotContain(session);
        assertThat(c[1].ofType("hello").get(0).getJsonObject("user").getString("id")).isEqualTo(id);
        assertThat(otherHello.getJsonObject("user").getString("id")).startsWith("anon:").isNotEqualTo(id);
        assertThat(Chat.seqs(c[1], "r")).as("nothing delivered twice").isEmpty();
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("every bad frame gets an error naming the problem and the connection stays up")
  void badFrames(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    List<String[]> cases = List.of(
      new String[] {"{", "malformed_json"},
      new String[] {"[1]", "wrong_type"},
      new String[] {"{}", "missing_field"},
      new String[] {"{\"type\":\"shout\"}", "unknown_type"},
      new String[] {"{\"type\":\"join\"}", "missing_field"},
      new String[] {"{\"type\":\"join\",\"room\":\"no spaces\"}", "bad_room"},
      new String[] {"{\"type\":\"join\",\"room\":\"r\",\"since\":-1}", "out_of_range"},
      new String[] {"{\"type\":\"join\",\"room\":\"r\",\"since\":\"5\"}", "wrong_type"},
      new String[] {"{\"type\":\"send\",\"room\":\"r\",\"id\":\"1\"}", "missing_field"},
      new String[] {"{\"type\":\"send\",\"room\":\"r\",\"id\":\"1\",\"text\":7}", "wrong_type"},
      new String[] {"{\"type\":\"send\",\"room\":\"r\",\"id\":\"1\",\"text\":\"" + "y".repeat(101) + "\"}", "message_too_long"},
      new String[] {"{\"type\":\"send\",\"room\":\"elsewhere\",\"id\":\"1\",\"text\":\"hi\"}", "not_joined"},
      new String[] {"{\"type\":\"leave\",\"room\":\"elsewhere\"}", "not_joined"},
      new String[] {"{\"type\":\"join\",\"room\":\"ops\"}", "forbidden"},
      new String[] {"{\"type\":\"join\",\"room\":\"r\"}", "already_joined"});
    Chat.deploy(vertx, new JsonObject().put("max_message_chars", 100))
      .compose(port -> Chat.connect(vertx, client, port, "alice"))
      .compose(ws -> join(ws, "r", null).map(ws))
      .compose(ws -> {
        cases.forEach(c -> ws.ws.writeTextMessage(c[0]));
        ws.ws.writeTextMessage("{\"type\":\"ping\",\"id\":\"still-up\"}");
        return ws.awaitType("pong").compose(p -> ws.await(f -> ws.ofType("error").size() == cases.size())).map(ws);
      })
      .onComplete(ctx.succeeding(ws -> ctx.verify(() -> {
        // joins are answered by the registry, so their errors may overtake or trail the others: compare as multisets
        assertThat(ws.ofType("error")).extracting(e -> e.getString("code"))
          .containsExactlyInAnyOrderElementsOf(cases.stream().map(c -> c[1]).toList());
        assertThat(ws.ofType("error")).allSatisfy(e -> assertThat(e.getString("message")).isNotBlank());
        JsonObject tooLong = Chat.error(ws, "message_too_long").result();
        assertThat(tooLong.getString("field")).isEqualTo("text");
        assertThat(tooLong.getString("id")).isNull();
        assertThat(Chat.error(ws, "not_joined").result().getString("field")).isEqualTo("room");
        assertThat(counter(vertx, MeterNames.CHAT_INBOUND_REJECTED, "reason", "malformed_json")).isEqualTo(1);
        assertThat(counter(vertx, MeterNames.CHAT_INBOUND_REJECTED, "reason", "forbidden")).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a flood is told rate_limited, then closed with 1008; an oversize frame closes with 1009; the bystander keeps chatting")
  void floodAndOversize(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    WsClient[] c = new WsClient[3];
    Chat.deploy(vertx, new JsonObject().put("messages_per_second", 0.1).put("burst", 5),
        new JsonObject().put("http", new JsonObject().put("max_frame_bytes", 1024)))
      .compose(port -> Chat.connect(vertx, client, port, "flooder").compose(f -> {
        c[0] = f;
        return Chat.connect(vertx, client, port, "big");
      }).compose(b -> {
        c[1] = b;
        return Chat.connect(vertx, client, port, "bystander");
      }))
      .compose(by -> {
        c[2] = by;
        return join(by, "room", null);
      })
      .compose(x -> {
        for (int i = 0; i < 40; i++) {
          c[0].ws.writeTextMessage("{\"type\":\"ping\",\"id\":" + i + "}");
        }
        c[1].ws.writeTextMessage("{\"type\":\"ping\",\"pad\":\"" + "z".repeat(5000) + "\"}");
        return Future.all(c[0].closedWith(), c[1].closedWith());
      })
      .compose(codes -> {
        ctx.verify(() -> {
          assertThat((Short) codes.resultAt(0)).isEqualTo((short) 1008);
          assertThat((Short) codes.resultAt(1)).isEqualTo((short) 1009);
          assertThat(c[0].ofType("pong")).hasSize(5);
          assertThat(c[0].ofType("error")).hasSize(ChatEndpoint.ABUSE_VIOLATIONS - 1)
            .allSatisfy(e -> assertThat(e.getString("code")).isEqualTo("rate_limited"));
        });
        Chat.send(c[2], "room", "after", "still here");
        return c[2].await(Chat.message("room", 1));
      })
      .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
        assertThat(counter(vertx, MeterNames.CHAT_DISCONNECTS, "reason", "abuse")).isEqualTo(1);
        assertThat(counter(vertx, MeterNames.CHAT_DISCONNECTS, "reason", "frame_too_large")).isEqualTo(1);
        assertThat(counter(vertx, MeterNames.CHAT_INBOUND_REJECTED, "reason", "rate_limited")).isEqualTo(ChatEndpoint.ABUSE_VIOLATIONS - 1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("past the per-IP cap a connection is closed with 1008; the first ones keep working")
  void connectionCaps(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    int[] ports = new int[2];
    List<WsClient> kept = new ArrayList<>();
    Chat.deploy(vertx, new JsonObject().put("max_connections_per_ip", 2))
      .compose(p -> {
        ports[0] = p;
        return Chat.connect(vertx, client, p, "u1").compose(a -> { kept.add(a); return Chat.connect(vertx, client, p, "u2"); });
      })
      .compose(b -> {
        kept.add(b);
        return WsClient.connect(client, ports[0], null, "/chat?token=" + Chat.token(vertx, "u3")).compose(WsClient::closedWith);
      })
      .compose(perIp -> {
        ctx.verify(() -> assertThat(perIp).isEqualTo((short) 1008));
        return join(kept.get(0), "room", null).compose(j -> join(kept.get(1), "room", null));
      })
      .compose(x -> {
        Chat.send(kept.get(0), "room", "m", "hello");
        return kept.get(1).await(Chat.message("room", 1));
      })
      .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
        assertThat(counter(vertx, MeterNames.CHAT_REFUSED, "reason", "max_connections_per_ip")).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("past the node cap a connection is closed with 1013 and a reason; the others keep working")
  void nodeCap(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    int[] port = new int[1];
    List<WsClient> kept = new ArrayList<>();
    Chat.deploy(vertx, new JsonObject().put("max_connections", 2))
      .compose(p -> {
        port[0] = p;
        return Chat.connect(vertx, client, p, "u1").compose(a -> { kept.add(a); return Chat.connect(vertx, client, p, "u2"); });
      })
      .compose(b -> {
        kept.add(b);
        return WsClient.connect(client, port[0], null, "/chat?token=" + Chat.token(vertx, "u3"));
      })
      .compose(third -> third.closedWith().map(code -> {
        ctx.verify(() -> {
          assertThat(code).isEqualTo((short) 1013);
          assertThat(third.ws.closeReason()).contains("too many connections");
        });
        return code;
      }))
      .compose(x -> join(kept.get(0), "room", null).compose(j -> join(kept.get(1), "room", null)))
      .compose(x -> {
        Chat.send(kept.get(1), "room", "m", "hello");
        return kept.get(0).await(Chat.message("room", 1));
      })
      .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
        assertThat(counter(vertx, MeterNames.CHAT_REFUSED, "reason", "max_connections")).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("when the edges are max_pending_frames behind, a send is refused as overloaded instead of queued")
  void overloaded(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    Chat.deploy(vertx, new JsonObject().put("max_pending_frames", 0))
      .compose(port -> Chat.connect(vertx, client, port, "alice"))
      .compose(a -> join(a, "room", null).map(a))
      .compose(a -> {
        Chat.send(a, "room", "m1", "hello");
        return Chat.error(a, "overloaded");
      })
      .onComplete(ctx.succeeding(e -> ctx.verify(() -> {
        assertThat(e.getString("id")).isEqualTo("m1");
        assertThat(e.getString("message")).contains("behind on deliveries");
        assertThat(counter(vertx, MeterNames.CHAT_INBOUND_REJECTED, "reason", "overloaded")).isEqualTo(1);
        ctx.completeNow();
      })));
  }
}
