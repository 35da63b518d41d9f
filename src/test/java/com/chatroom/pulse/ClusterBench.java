package com.chatroom.pulse;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Cluster figures for BENCHMARKS.md, from two fat JARs clustered on loopback sharing a Redis: the delivery latency
 * (sample timestamp → receipt) at a client on node A of node A's own samples versus node B's (one cluster hop), and
 * the time from kill -9 of node B until its client, reconnecting to node A, receives node B's history and A's live
 * samples again. Not a test: run with the command in BENCHMARKS.md.
 */
public final class ClusterBench {

  private ClusterBench() {
  }

  public static void main(String[] args) throws Exception {
    int seconds = Integer.parseInt(System.getProperty("seconds", "60"));
    Vertx vertx = Vertx.vertx();
    try (RedisServer redis = new RedisServer().start()) {
      int httpA = Edge.freePort();
      int httpB = Edge.freePort();
      int hzA = Edge.freePort();
      int hzB = Edge.freePort();
      String members = "127.0.0.1:" + hzA + ",127.0.0.1:" + hzB;
      String name = "pulse-bench-" + System.nanoTime();
      List<String> jvm = List.of("-Dhazelcast.wait.seconds.before.join=0");
      try (JarProcess a = JarProcess.start(env("node-a", httpA, hzA, members, name, redis), jvm);
           JarProcess b = JarProcess.start(env("node-b", httpB, hzB, members, name, redis), jvm)) {
        JsonObject result = run(vertx, httpA, httpB, b, seconds);
        LoggerFactory.getLogger(ClusterBench.class).warn("RESULT {}", result.encode());
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  private static Map<String, String> env(String instance, int http, int hz, String members, String name, RedisServer redis) {
    return ClusterIT.nodeEnv(instance, http, hz, Edge.freePort(), members, name, redis, 100);
  }

  private static <T> T await(Future<T> future) throws Exception {
    CompletableFuture<T> done = new CompletableFuture<>();
    future.onComplete(ar -> {
      if (ar.succeeded()) {
        done.complete(ar.result());
      } else {
        done.completeExceptionally(ar.cause());
      }
    });
    return done.get();
  }

  private static Future<Void> clusterOf(Vertx vertx, HttpClient http, int port, int nodes) {
    Promise<Void> ready = Promise.promise();
    vertx.setPeriodic(200, id -> http.request(HttpMethod.GET, port, "127.0.0.1", "/health/ready")
      .compose(req -> req.send().compose(resp -> resp.body().map(b -> resp.statusCode() == 200 && b.toString().contains("\"nodes\":" + nodes))))
      .onSuccess(ok -> {
        if (ok && ready.tryComplete()) {
          vertx.cancelTimer(id);
        }
      }));
    return ready.future();
  }

  static JsonObject run(Vertx vertx, int httpA, int httpB, JarProcess b, int seconds) throws Exception {
    HttpClient http = vertx.createHttpClient();
    WebSocketClient ws = WsClient.newClient(vertx, 0);
    await(clusterOf(vertx, http, httpA, 2));
    await(clusterOf(vertx, http, httpB, 2));
    Histogram local = new Histogram(3);
    Histogram remote = new Histogram(3);
    long measureFrom = System.currentTimeMillis() + 10_000;
    long measureTo = measureFrom + seconds * 1000L;
    WsClient onA = await(WsClient.connect(ws, httpA, null, "/metrics/stream?streams=system"));
    onA.ws.textMessageHandler(text -> {
      long now = System.currentTimeMillis();
      JsonObject frame = new JsonObject(text);
      if (now >= measureFrom && now < measureTo && "system".equals(frame.getString("type"))) {
        JsonObject data = frame.getJsonObject("data");
        long micros = Math.max(0, (long) ((now / 1000d - data.getDouble("timestamp")) * 1e6));
        ("node-a".equals(data.getString("instance")) ? local : remote).recordValue(micros);
      }
    });
    WsClient onB = await(WsClient.connect(ws, httpB, null, "/metrics/stream?streams=system"));
    Promise<Void> measured = Promise.promise();
    vertx.setTimer(measureTo - System.currentTimeMillis() + 500, id -> measured.complete());
    await(measured.future());

    // failover: kill node B; its client reconnects to node A (after noticing the loss) and catches up
    long killedAt = System.nanoTime();
    vertx.executeBlocking(() -> {
      b.crash();
      return null;
    });
    await(onB.closedWith());
    double noticedMs = (System.nanoTime() - killedAt) / 1e6;
    WsClient again = await(WsClient.connect(ws, httpA, null, "/metrics/stream?streams=system&backfill_minutes=1"));
    await(again.awaitType("backfill_done"));
    double backfilledMs = (System.nanoTime() - killedAt) / 1e6;
    await(again.await(f -> "system".equals(f.getString("type")) && !f.containsKey("backfill")));
    double liveMs = (System.nanoTime() - killedAt) / 1e6;
    await(clusterOf(vertx, http, httpA, 1));
    double viewMs = (System.nanoTime() - killedAt) / 1e6;

    return new JsonObject()
      .put("same_node_ms", percentiles(local))
      .put("cross_node_ms", percentiles(remote))
      .put("p99_extra_cross_node_ms", (remote.getValueAtPercentile(99) - local.getValueAtPercentile(99)) / 1000d)
      .put("failover", new JsonObject().put("client_noticed_ms", Math.round(noticedMs))
        .put("backfilled_on_other_node_ms", Math.round(backfilledMs)).put("live_on_other_node_ms", Math.round(liveMs))
        .put("cluster_view_dropped_node_ms", Math.round(viewMs)));
  }

  private static JsonObject percentiles(Histogram h) {
    return new JsonObject().put("p50", h.getValueAtPercentile(50) / 1000d).put("p99", h.getValueAtPercentile(99) / 1000d)
      .put("max", h.getMaxValue() / 1000d).put("samples", h.getTotalCount());
  }
}
