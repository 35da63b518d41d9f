package com.chatroom.pulse.chat;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.WsClient;
import com.chatroom.pulse.metrics.Meters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.util.List;
import java.util.function.Predicate;

/** Shared pieces of the chat tests: a node with a JWT secret, tokens, and frame helpers over {@link WsClient}. */
final class Chat {

  static final String SECRET = "test-secret-that-is-at-least-32-bytes-long";

  private Chat() {
  }

  /** A node (2 edge instances) whose chat accepts HS256 tokens signed with {@link #SECRET}; {@code chat} overrides. */
  static Future<Integer> deploy(Vertx vertx, JsonObject chat) {
    return deploy(vertx, chat, new JsonObject());
  }

  static Future<Integer> deploy(Vertx vertx, JsonObject chat, JsonObject more) {
    JsonObject section = new JsonObject().put("jwt_secret", SECRET).put("messages_per_second", 1000).put("burst", 1000)
      .put("presence_batch_ms", 50).mergeIn(chat);
    return Edge.deploy(vertx, new JsonObject().put("chat", section).mergeIn(more, true)).map(c -> c.http().port());
  }

  static String token(Vertx vertx, String sub, String... roles) {
    return token(vertx, SECRET, new JsonObject().put("sub", sub).put("name", "User " + sub).put("roles", new JsonArray(List.of(roles))), 60);
  }

  static String token(Vertx vertx, String secret, JsonObject claims, int expiresInSeconds) {
    JWTAuth jwt = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret)));
    return jwt.generateToken(claims, new JWTOptions().setExpiresInSeconds(expiresInSeconds));
  }

  /** Connects as {@code sub} and waits for the hello. */
  static Future<WsClient> connect(Vertx vertx, WebSocketClient client, int port, String sub, String... roles) {
    return WsClient.connect(client, port, null, "/chat?token=" + token(vertx, sub, roles))
      .compose(ws -> ws.awaitType("hello").map(ws));
  }

  static Future<JsonObject> join(WsClient ws, String room, Long since) {
    JsonObject frame = new JsonObject().put("type", "join").put("room", room);
    if (since != null) {
      frame.put("since", since);
    }
    ws.ws.writeTextMessage(frame.encode());
    return ws.await(f -> "joined".equals(f.getString("type")) && room.equals(f.getString("room")));
  }

  static void send(WsClient ws, String room, String id, String text) {
    ws.ws.writeTextMessage(new JsonObject().put("type", "send").put("room", room).put("id", id).put("text", text).encode());
  }

  static Future<JsonObject> ack(WsClient ws, String id) {
    return ws.await(f -> "ack".equals(f.getString("type")) && id.equals(f.getString("id")));
  }

  static Future<JsonObject> error(WsClient ws, String code) {
    return ws.await(f -> "error".equals(f.getString("type")) && code.equals(f.getString("code")));
  }

  static Predicate<JsonObject> message(String room, long seq) {
    return f -> "message".equals(f.getString("type")) && room.equals(f.getString("room")) && f.getLong("seq") == seq;
  }

  /** Sequence numbers of the message frames of {@code room}, in arrival order. */
  static List<Long> seqs(WsClient ws, String room) {
    return ws.ofType("message").stream().filter(f -> room.equals(f.getString("room"))).map(f -> f.getLong("seq")).toList();
  }

  static double counter(Vertx vertx, String name, String... tags) {
    var search = Meters.registry(vertx).find(name).tags(tags);
    return search.counter() == null ? 0 : search.counter().count();
  }
}
