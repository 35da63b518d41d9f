package com.chatroom.pulse.alerts;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.File;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Latency from the sample that completes a rule's {@code for} duration to the webhook request arriving at a real HTTP
 * receiver (a second Vert.x instance in this JVM, over loopback): event-bus delivery, evaluation, the channel queue,
 * the claim (in memory, or Redis SET NX), the POST. One alert episode at a time; prints percentiles in ms.
 */
public final class AlertLatencyBench {

  private static final int WARMUP = 300;
  private static final int MEASURED = 3000;

  private AlertLatencyBench() {
  }

  public static void main(String[] args) throws Exception {
    run("in-memory claims", null);
    if (new File("/usr/bin/redis-server").canExecute()) {
      Vertx helper = Vertx.vertx();
      RedisServer redis = new RedisServer();
      try {
        redis.start(helper).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
        run("Redis claims (SET NX + SET sent per notification)", redis.url());
      } finally {
        redis.stop();
        helper.close();
      }
    }
  }

  private static void run(String label, String redisUrl) throws Exception {
    Vertx node = Vertx.vertx();
    Vertx receiverSide = Vertx.vertx();
    Map<String, CompletableFuture<Long>> waiting = new ConcurrentHashMap<>();
    int port = com.chatroom.pulse.Edge.freePort();
    HttpServer server = receiverSide.createHttpServer().requestHandler(req -> {
      long arrived = System.nanoTime();
      CompletableFuture<Long> f = waiting.remove(req.getHeader("Idempotency-Key"));
      if (f != null) {
        f.complete(arrived);
      }
      req.response().end("ok");
    }).listen(port, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    JsonObject alerts = new JsonObject()
      .put("rules", new JsonArray().add(AlertTestKit.cpuRule("lat", 90, 1, 80, 0)))
      .put("channels", new JsonArray().add(AlertTestKit.channel("hook", "webhook", "http://127.0.0.1:" + port + "/hook")
        .put("send_resolved", false)))
      .put("flapping", new JsonObject().put("enabled", false));
    AlertTestKit.deploy(node, AlertTestKit.config("bench", alerts, redisUrl))
      .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);

    double[] ms = new double[MEASURED];
    for (int i = 0; i < WARMUP + MEASURED; i++) {
      String instance = "host-" + (i % 50);
      double t = i * 10;
      AlertTestKit.publish(node, AlertTestKit.cpu(instance, t, 95)); // pending
      String key = "lat/" + instance + "/firing/" + Math.round((AlertTestKit.BASE + t) * 1000);
      CompletableFuture<Long> arrived = new CompletableFuture<>();
      waiting.put(key, arrived);
      long start = System.nanoTime();
      AlertTestKit.publish(node, AlertTestKit.cpu(instance, t + 1, 96)); // completes the 1 s 'for': firing
      long end = arrived.get(10, TimeUnit.SECONDS);
      AlertTestKit.publish(node, AlertTestKit.cpu(instance, t + 2, 10)); // resolved (not sent: send_resolved false)
      if (i >= WARMUP) {
        ms[i - WARMUP] = (end - start) / 1e6;
      }
    }
    Arrays.sort(ms);
    System.out.printf("Change to webhook, %s, %d episodes: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms%n",
      label, MEASURED, pct(ms, 50), pct(ms, 90), pct(ms, 99), pct(ms, 99.9), ms[ms.length - 1]);
    server.close();
    node.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    receiverSide.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static double pct(double[] sorted, double p) {
    int index = (int) Math.ceil(p / 100 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }
}
