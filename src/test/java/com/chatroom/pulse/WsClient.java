package com.chatroom.pulse;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A real WebSocket client that records every text frame it receives, for assertions. Handlers are set before the
 * handshake, so not even the first frame can be missed.
 */
public final class WsClient {

  private final List<JsonObject> frames = new ArrayList<>();
  public final ClientWebSocket ws;
  private final List<Waiter> waiters = new ArrayList<>();
  private final Promise<Short> closed = Promise.promise();

  private record Waiter(Predicate<JsonObject> until, Promise<JsonObject> promise) {
  }

  private WsClient(ClientWebSocket ws) {
    this.ws = ws;
  }

  public static Future<WsClient> connect(WebSocketClient client, int port, String origin) {
    return connect(client, port, origin, "/metrics/stream");
  }

  public static Future<WsClient> connect(WebSocketClient client, int port, String origin, String uri) {
    ClientWebSocket ws = client.webSocket();
    WsClient c = new WsClient(ws);
    ws.textMessageHandler(text -> c.onText(new JsonObject(text)));
    ws.closeHandler(v -> c.closed.tryComplete(ws.closeStatusCode()));
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(uri);
    if (origin != null) {
      options.addHeader("Origin", origin);
    }
    return ws.connect(options).map(c);
  }

  public static WebSocketClient newClient(Vertx vertx, int receiveBuffer) {
    WebSocketClientOptions options = new WebSocketClientOptions().setMaxConnections(1000);
    if (receiveBuffer > 0) {
      options.setReceiveBufferSize(receiveBuffer);
    }
    return vertx.createWebSocketClient(options);
  }

  private void onText(JsonObject frame) {
    List<Waiter> matched = new ArrayList<>();
    synchronized (this) {
      frames.add(frame);
      waiters.removeIf(w -> w.until().test(frame) && matched.add(w));
    }
    // completed outside the lock and the loop: a continuation may register the next waiter
    matched.forEach(w -> w.promise().complete(frame));
  }

  /** Completes with the first frame (already received or still to come) that matches. */
  public synchronized Future<JsonObject> await(Predicate<JsonObject> until) {
    for (JsonObject f : frames) {
      if (until.test(f)) {
        return Future.succeededFuture(f);
      }
    }
    Promise<JsonObject> p = Promise.promise();
    waiters.add(new Waiter(until, p));
    return p.future();
  }

  public Future<JsonObject> awaitType(String type) {
    return await(f -> type.equals(f.getString("type")));
  }

  public Future<Short> closedWith() {
    return closed.future();
  }

  /** A copy of every frame received so far, in order. */
  public synchronized List<JsonObject> frames() {
    return List.copyOf(frames);
  }

  public synchronized List<JsonObject> ofType(String type) {
    return frames.stream().filter(f -> type.equals(f.getString("type"))).toList();
  }

  public static Predicate<JsonObject> sample(String type, String instance, long seqOrTotal) {
    return f -> type.equals(f.getString("type")) && instance.equals(f.getJsonObject("data").getString("instance"))
      && seqOrTotal == f.getJsonObject("data").getLong(type.equals("system") ? "seq" : "total_messages");
  }
}
