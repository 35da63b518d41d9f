package com.chatroom.pulse.http;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The start-up warm-up of the WebSocket handshake paths, against a real edge on a free port. */
@ExtendWith(VertxExtension.class)
@DisplayName("Handshake warm-up")
class HandshakeWarmUpTest {

  private static PulseConfig deploy(Vertx vertx, JsonObject http) throws Exception {
    return Edge.deploy(vertx, new JsonObject().put("http", http)
        .put("chat", new JsonObject().put("allow_anonymous", true)))
      .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** Runs the warm-up on an event loop, as MainVerticle does. */
  private static Future<HandshakeWarmUp.Result> warmUp(Vertx vertx, PulseConfig config) {
    Promise<HandshakeWarmUp.Result> result = Promise.promise();
    vertx.runOnContext(v -> HandshakeWarmUp.run(vertx, config).onComplete(result));
    return result.future();
  }

  private static JsonObject readiness(HttpClient http, int port) throws Exception {
    return http.request(HttpMethod.GET, port, "127.0.0.1", "/health/ready")
      .compose(req -> req.send().compose(resp -> resp.body().map(b -> new JsonObject().put("status", resp.statusCode())
        .put("warmup", b.toJsonObject().getJsonArray("checks").stream().map(JsonObject.class::cast)
          .filter(c -> "warmup".equals(c.getString("id"))).findFirst().orElseThrow()))))
      .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("400 connects, stream (with the dashboard token) and anonymous chat in turn: readiness is down while they run, every one got its hello and was closed, readiness up after")
  void warmsUpThenReady(Vertx vertx) throws Exception {
    PulseConfig config = deploy(vertx, new JsonObject().put("warmup_connections", 400)
      .put("dashboard_token", "warm-up-dashboard-token-0001"));
    int port = config.http().port();
    HttpClient http = vertx.createHttpClient();
    Future<HandshakeWarmUp.Result> running = warmUp(vertx, config);
    JsonObject during = readiness(http, port);
    assertThat(during.getInteger("status")).isEqualTo(503);
    assertThat(during.getJsonObject("warmup").getString("status")).isEqualTo("DOWN");
    assertThat(during.getJsonObject("warmup").getJsonObject("data").getString("state")).isEqualTo("running");

    HandshakeWarmUp.Result result = running.toCompletionStage().toCompletableFuture().get(45, TimeUnit.SECONDS);
    assertThat(result.state()).isEqualTo("done");
    assertThat(result.done()).as("connects that got their hello").isEqualTo(400);
    assertThat(result.failed()).isZero();
    JsonObject after = readiness(http, port).getJsonObject("warmup");
    assertThat(after.getString("status")).isEqualTo("UP");
    assertThat(after.getJsonObject("data").getInteger("connects")).isEqualTo(400);

    // every warm-up connection is gone again on the server's side too
    MeterRegistry registry = Meters.registry(vertx);
    com.chatroom.pulse.reliability.Waits.until(vertx, () -> registry.get(MeterNames.STREAM_SUBSCRIBERS).gauge().value() == 0
        && registry.get(MeterNames.CHAT_CONNECTIONS).gauge().value() == 0, 10_000,
        () -> "stream subscribers " + registry.get(MeterNames.STREAM_SUBSCRIBERS).gauge().value() + ", chat connections "
          + registry.get(MeterNames.CHAT_CONNECTIONS).gauge().value())
      .toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("nothing answers on the port: the warm-up gives up after 50 failed connects and the node is ready all the same")
  void givesUpOnFailures(Vertx vertx) throws Exception {
    PulseConfig config = deploy(vertx, new JsonObject().put("warmup_connections", 2000));
    NodeStatus status = NodeStatus.of(vertx);
    int port = config.http().port();
    status.httpPort(Edge.freePort()); // where the warm-up will connect: nobody listens there
    HandshakeWarmUp.Result result = warmUp(vertx, config).toCompletionStage().toCompletableFuture().get(45, TimeUnit.SECONDS);
    assertThat(result.state()).isEqualTo("50 connects failed");
    assertThat(result.done()).isZero();
    assertThat(result.failed()).isBetween(HandshakeWarmUp.MAX_FAILURES, HandshakeWarmUp.MAX_FAILURES + HandshakeWarmUp.CONCURRENCY);
    JsonObject ready = readiness(vertx.createHttpClient(), port).getJsonObject("warmup");
    assertThat(ready.getString("status")).isEqualTo("UP");
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("clients' upgrades count towards the target: a node whose gates already let that many through is warm at once")
  void clientsUpgradesCount(Vertx vertx) throws Exception {
    PulseConfig config = deploy(vertx, new JsonObject().put("warmup_connections", 1000));
    NodeStatus status = NodeStatus.of(vertx);
    io.vertx.core.http.WebSocketClient ws = vertx.createWebSocketClient();
    for (String uri : java.util.List.of("/metrics/stream", "/chat?nickname=early", "/metrics/stream")) {
      ws.connect(config.http().port(), "127.0.0.1", uri).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    assertThat(status.upgradesAdmitted().get()).as("upgrades through the gates").isEqualTo(3);
    // as if a storm had already brought 997 more before the warm-up began
    status.upgradesAdmitted().addAndGet(997);
    HandshakeWarmUp.Result result = warmUp(vertx, config).toCompletionStage().toCompletableFuture().get(45, TimeUnit.SECONDS);
    assertThat(result.state()).isEqualTo("done");
    assertThat(result.done()).as("own connects needed").isZero();
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a node already draining does not warm up")
  void notWhileDraining(Vertx vertx) throws Exception {
    PulseConfig config = deploy(vertx, new JsonObject().put("warmup_connections", 2000));
    NodeStatus.of(vertx).markDraining();
    HandshakeWarmUp.Result result = warmUp(vertx, config).toCompletionStage().toCompletableFuture().get(45, TimeUnit.SECONDS);
    assertThat(result.state()).isEqualTo("draining");
    assertThat(result.done()).isZero();
  }
}
