package com.chatroom.pulse;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SynchronizedHistogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Cluster figures for BENCHMARKS.md, from two fat JARs clustered on loopback sharing a Redis, repeated {@code -Druns}
 * times (default 3) on fresh nodes:
 * <ul>
 *   <li>stream: delivery latency (sample timestamp → receipt) at a client on node A of A's own samples versus B's
 *       (one cluster hop), for {@code -Dseconds};</li>
 *   <li>chat: send → receive of every message a client on A sends to a room at {@code -DchatRate} messages/s (default
 *       200) for {@code -Dseconds}, at a member of the room on A (same node) and one on B (one cluster hop); sender and
 *       receivers share this process's clock;</li>
 *   <li>failover: kill -9 of node B until its stream client, reconnecting to A, has B's history and A's live samples.</li>
 * </ul>
 * Not a test: run with the command in BENCHMARKS.md. Prints one RESULT line per run and a SUMMARY of medians.
 */
public final class ClusterBench {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterBench.class);
  /** The dashboard's first reconnect delay (stream.js: BACKOFF_MIN_MS × (0.8 + 0.4 × random)), added to failover. */
  static final long BROWSER_RECONNECT_MS = 500;
  static final long BROWSER_RECONNECT_JITTER_MS = 100;

  private ClusterBench() {
  }

  public static void main(String[] args) throws Exception {
    int seconds = Integer.parseInt(System.getProperty("seconds", "60"));
    int runs = Integer.parseInt(System.getProperty("runs", "3"));
    int chatRate = Integer.parseInt(System.getProperty("chatRate", "200"));
    Vertx vertx = Vertx.vertx();
    List<JsonObject> results = new ArrayList<>();
    try {
      for (int run = 1; run <= runs; run++) {
        JsonObject result = oneRun(vertx, seconds, chatRate).put("run", run);
        LOG.warn("RESULT {}", result.encode());
        results.add(result);
      }
      LOG.warn("SUMMARY {}", summary(results).encode());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  private static JsonObject oneRun(Vertx vertx, int seconds, int chatRate) throws Exception {
    String loadBefore = loadAverage();
    try (RedisServer redis = new RedisServer().start()) {
      int httpA = Edge.freePort();
      int httpB = Edge.freePort();
      int hzA = Edge.freePort();
      int hzB = Edge.freePort();
      String members = "127.0.0.1:" + hzA + ",127.0.0.1:" + hzB;
      String name = "pulse-bench-" + System.nanoTime();
      // the chat rate limit is per connection and defaults to 5/s: the bench's one sender needs chatRate
      List<String> jvm = List.of("-Dhazelcast.wait.seconds.before.join=0",
        "-Dpulse.chat.messages_per_second=" + Math.max(10, 2 * chatRate), "-Dpulse.chat.burst=" + Math.max(20, 2 * chatRate));
      try (JarProcess a = JarProcess.start(env("node-a", httpA, hzA, members, name, redis), jvm);
           JarProcess b = JarProcess.start(env("node-b", httpB, hzB, members, name, redis), jvm)) {
        return run(vertx, httpA, httpB, b, seconds, chatRate).put("load_average_before", loadBefore)
          .put("load_average_after", loadAverage());
      }
    }
  }

  private static String loadAverage() {
    try {
      return String.join(" ", List.of(Files.readString(Path.of("/proc/loadavg")).trim().split(" ")).subList(0, 3));
    } catch (Exception e) {
      return "unknown";
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

  private static Future<Void> sleep(Vertx vertx, long ms) {
    Promise<Void> p = Promise.promise();
    vertx.setTimer(Math.max(1, ms), id -> p.complete());
    return p.future();
  }

  static JsonObject run(Vertx vertx, int httpA, int httpB, JarProcess b, int seconds, int chatRate) throws Exception {
    HttpClient http = vertx.createHttpClient();
    WebSocketClient ws = WsClient.newClient(vertx, 0);
    await(clusterOf(vertx, http, httpA, 2));
    await(clusterOf(vertx, http, httpB, 2));
    JsonObject result = new JsonObject();

    // stream: A's own samples versus B's, at one client on A
    Histogram local = new SynchronizedHistogram(3);
    Histogram remote = new SynchronizedHistogram(3);
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
    await(sleep(vertx, measureTo - System.currentTimeMillis() + 500));
    result.put("stream", new JsonObject().put("same_node_ms", percentiles(local)).put("cross_node_ms", percentiles(remote))
      .put("p99_extra_cross_node_ms", (remote.getValueAtPercentile(99) - local.getValueAtPercentile(99)) / 1000d));

    result.put("chat", chat(vertx, ws, httpA, httpB, seconds, chatRate));

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
    http.close();
    ws.close();
    return result.put("failover", new JsonObject().put("client_noticed_ms", Math.round(noticedMs))
      .put("backfilled_on_other_node_ms", Math.round(backfilledMs)).put("live_on_other_node_ms", Math.round(liveMs))
      // what a dashboard adds: it waits 500 ms ± 20 % after the close before reconnecting
      .put("live_with_browser_delay_ms", Math.round(liveMs) + BROWSER_RECONNECT_MS)
      .put("cluster_view_dropped_node_ms", Math.round(viewMs)));
  }

  /**
   * One sender on A posts to a room at {@code rate}/s; one member on A and one on B record send → receive of every
   * message sent in the measured window (after a 5 s warm-up), then 3 s are left for the last ones to arrive.
   */
  private static JsonObject chat(Vertx vertx, WebSocketClient ws, int httpA, int httpB, int seconds, int rate) throws Exception {
    String room = "bench-" + Long.toHexString(System.nanoTime());
    WsClient sender = await(chatMember(ws, httpA, "sender", room));
    WsClient sameNode = await(chatMember(ws, httpA, "member-a", room));
    WsClient crossNode = await(chatMember(ws, httpB, "member-b", room));
    Map<String, Long> sentAt = new ConcurrentHashMap<>();
    Histogram same = new SynchronizedHistogram(3);
    Histogram cross = new SynchronizedHistogram(3);
    sameNode.ws.textMessageHandler(text -> onChatFrame(text, sentAt, same));
    crossNode.ws.textMessageHandler(text -> onChatFrame(text, sentAt, cross));
    long warmUntil = System.nanoTime() + 5_000_000_000L;
    long stopAt = warmUntil + seconds * 1_000_000_000L;
    long intervalNanos = 1_000_000_000L / rate;
    long[] next = {System.nanoTime()};
    int[] counter = {0};
    int[] measured = {0};
    Promise<Void> sent = Promise.promise();
    // a 1 ms tick sends whatever is due, so the rate holds whatever the timer's jitter
    vertx.setPeriodic(1, id -> {
      long now = System.nanoTime();
      if (now >= stopAt) {
        vertx.cancelTimer(id);
        sent.tryComplete();
        return;
      }
      while (next[0] <= now) {
        next[0] += intervalNanos;
        String msgId = "b" + (++counter[0]);
        if (now >= warmUntil) {
          sentAt.put(msgId, System.nanoTime());
          measured[0]++;
        }
        sender.ws.writeTextMessage("{\"type\":\"send\",\"room\":\"" + room + "\",\"id\":\"" + msgId + "\",\"text\":\"x\"}");
      }
    });
    await(sent.future().compose(v -> sleep(vertx, 3000)));
    long refused = sender.ofType("error").size();
    return new JsonObject().put("rate_per_second", rate).put("messages_measured", measured[0]).put("refused", refused)
      .put("same_node_ms", percentiles(same)).put("cross_node_ms", percentiles(cross))
      .put("p99_extra_cross_node_ms", (cross.getValueAtPercentile(99) - same.getValueAtPercentile(99)) / 1000d);
  }

  private static void onChatFrame(String text, Map<String, Long> sentAt, Histogram into) {
    long now = System.nanoTime();
    if (!text.startsWith("{\"type\":\"message\"")) {
      return;
    }
    Long t0 = sentAt.get(new JsonObject(text).getString("id"));
    if (t0 != null) {
      into.recordValue(Math.max(0, (now - t0) / 1000));
    }
  }

  private static Future<WsClient> chatMember(WebSocketClient ws, int port, String nickname, String room) {
    return WsClient.connect(ws, port, null, "/chat?nickname=" + nickname)
      .compose(c -> c.awaitType("hello").map(c))
      .compose(c -> {
        c.ws.writeTextMessage(new JsonObject().put("type", "join").put("room", room).encode());
        return c.await(f -> "joined".equals(f.getString("type"))).map(c);
      });
  }

  private static JsonObject percentiles(Histogram h) {
    return new JsonObject().put("p50", h.getValueAtPercentile(50) / 1000d).put("p99", h.getValueAtPercentile(99) / 1000d)
      .put("max", h.getMaxValue() / 1000d).put("samples", h.getTotalCount());
  }

  /** The median of every numeric leaf across runs, with the per-run values beside it. */
  static JsonObject summary(List<JsonObject> results) {
    JsonObject out = new JsonObject();
    collect(results, results.get(0), "", out);
    return out;
  }

  private static void collect(List<JsonObject> results, JsonObject shape, String prefix, JsonObject out) {
    for (String key : shape.fieldNames()) {
      Object v = shape.getValue(key);
      String path = prefix.isEmpty() ? key : prefix + "." + key;
      if (v instanceof JsonObject nested) {
        collect(results, nested, path, out);
      } else if (v instanceof Number && !key.equals("run")) {
        List<Double> values = new ArrayList<>();
        for (JsonObject r : results) {
          Object x = at(r, path);
          if (x instanceof Number n) {
            values.add(n.doubleValue());
          }
        }
        List<Double> sorted = values.stream().sorted().toList();
        double median = sorted.size() % 2 == 1 ? sorted.get(sorted.size() / 2)
          : (sorted.get(sorted.size() / 2 - 1) + sorted.get(sorted.size() / 2)) / 2;
        out.put(path, new JsonObject().put("median", median).put("runs", new JsonArray(values)));
      }
    }
  }

  private static Object at(JsonObject json, String path) {
    Object node = json;
    for (String part : path.split("\\.")) {
      node = node instanceof JsonObject o ? o.getValue(part) : null;
    }
    return node;
  }
}
