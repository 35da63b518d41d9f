package com.chatroom.pulse.http;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
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

import static org.assertj.core.api.Assertions.assertThat;

/** The edge's part of a graceful shutdown, in one process: not ready, no new WebSockets, then 1001 for the open ones. */
@ExtendWith(VertxExtension.class)
@DisplayName("Draining the edge")
class DrainTest {

  private HttpClient http;
  private WebSocketClient ws;

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("while draining, readiness is 503 'draining' and new /chat and /metrics/stream upgrades get 503; undeploying closes open ones with 1001 'reconnect'")
  void drain(Vertx vertx, VertxTestContext ctx) {
    http = vertx.createHttpClient();
    ws = WsClient.newClient(vertx, 0);
    int[] port = new int[1];
    WsClient[] open = new WsClient[2];
    Edge.deploy(vertx, new JsonObject().put("chat", new JsonObject().put("allow_anonymous", true)))
      .compose(config -> {
        port[0] = config.http().port();
        return WsClient.connect(ws, port[0], null, "/chat?nickname=early");
      })
      .compose(chat -> {
        open[0] = chat;
        chat.ws.writeTextMessage("{\"type\":\"join\",\"room\":\"lobby\"}");
        return chat.awaitType("joined");
      })
      .compose(joined -> WsClient.connect(ws, port[0], null, "/metrics/stream"))
      .compose(stream -> {
        open[1] = stream;
        return stream.awaitType("hello");
      })
      .compose(hello -> {
        NodeStatus.of(vertx).markDraining();
        return http.request(HttpMethod.GET, port[0], "127.0.0.1", "/health/ready")
          .compose(req -> req.send().compose(resp -> resp.body().map(b -> new JsonObject().put("status", resp.statusCode())
            .put("body", b.toString()))));
      })
      .compose(ready -> {
        ctx.verify(() -> {
          assertThat(ready.getInteger("status")).isEqualTo(503);
          assertThat(ready.getString("body")).contains("draining: this node is shutting down");
        });
        return refusedWith(port[0], "/chat?nickname=late").compose(chat -> refusedWith(port[0], "/metrics/stream")
          .map(stream -> List.of(chat, stream)));
      })
      .compose(refusals -> {
        ctx.verify(() -> assertThat(refusals).containsExactly(503, 503));
        return Future.join(vertx.deploymentIDs().stream().map(vertx::undeploy).toList());
      })
      .compose(undeployed -> Future.all(open[0].closedWith(), open[1].closedWith()))
      .onComplete(ctx.succeeding(closed -> ctx.verify(() -> {
        assertThat((Short) closed.resultAt(0)).as("chat").isEqualTo((short) 1001);
        assertThat((Short) closed.resultAt(1)).as("stream").isEqualTo((short) 1001);
        assertThat(open[0].ws.closeReason()).contains("reconnect");
        assertThat(open[1].ws.closeReason()).contains("reconnect");
        ctx.completeNow();
      })));
  }

  /** The status of a refused WebSocket handshake (-1 if it was accepted). */
  private Future<Integer> refusedWith(int port, String uri) {
    return WsClient.connect(ws, port, null, uri).transform(ar -> Future.succeededFuture(ar.succeeded() ? -1
      : ar.cause() instanceof UpgradeRejectedException e ? e.getStatus() : -2));
  }
}
