package com.chatroom.pulse.history;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.RedisServer;
import com.chatroom.pulse.Samples;
import com.chatroom.pulse.WsClient;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.SystemMetrics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("History through the bus and HTTP, with the real verticles")
class HistoryVerticleTest {

  private HttpClient http;
  private WebSocketClient ws;
  private int port;
  private RedisServer redis;

  @AfterEach
  void stopRedis() throws InterruptedException {
    if (redis != null) {
      redis.close();
    }
  }

  private Future<Void> start(Vertx vertx, JsonObject overrides) {
    http = vertx.createHttpClient();
    ws = WsClient.newClient(vertx, 0);
    return Edge.deploy(vertx, overrides).map(c -> {
      port = c.http().port();
      return null;
    });
  }

  private Future<JsonObject> get(String uri, int expected) {
    return http.request(HttpMethod.GET, port, "127.0.0.1", uri)
      .compose(req -> req.send().compose(resp -> resp.body().compose(body -> resp.statusCode() == expected
        ? Future.succeededFuture(new JsonObject(body))
        : Future.failedFuture("GET " + uri + " → " + resp.statusCode() + " " + body))));
  }

  /** Polls on Vert.x timers until the JSON answer satisfies the predicate. */
  private Future<JsonObject> until(Vertx vertx, String uri, Predicate<JsonObject> done) {
    return get(uri, 200).recover(e -> Future.succeededFuture(new JsonObject()))
      .compose(j -> done.test(j) ? Future.succeededFuture(j)
        : Future.<Void>future(p -> vertx.setTimer(50, id -> p.complete())).compose(v -> until(vertx, uri, done)));
  }

  private static List<SystemMetrics> recent(String instance, int count, double now) {
    List<SystemMetrics> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(Samples.at(instance, i + 1, now - count + i, 10 + i % 50, 40 + i % 7, 30));
    }
    return out;
  }

  private static long rawCount(JsonObject range) {
    return range.getJsonArray("points").stream().mapToLong(p -> ((JsonObject) p).getLong("count")).sum();
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("with Redis, history survives a restart of the verticle")
  void survivesRestart(Vertx vertx, VertxTestContext ctx) throws Exception {
    redis = new RedisServer().start();
    double now = System.currentTimeMillis() / 1000d;
    List<SystemMetrics> samples = recent("hist-r", 300, now);
    String uri = "/api/metrics/history?metric=cpu_percent&step=1&instance=hist-r&from=" + (now - 400) + "&to=" + (now + 1);
    JsonObject withRedis = new JsonObject().put("redis", new JsonObject().put("url", redis.url()));
    start(vertx, withRedis)
      .compose(v -> {
        samples.forEach(s -> vertx.eventBus().publish(Addresses.METRICS_SYSTEM, s));
        return until(vertx, uri, r -> r.containsKey("points") && rawCount(r) == samples.size());
      })
      // restart the node's verticles: everything in memory is gone, Redis keeps the history
      .compose(r -> Future.all(vertx.deploymentIDs().stream().map(vertx::undeploy).toList()))
      .compose(v -> start(vertx, withRedis))
      .compose(v -> get(uri, 200))
      .compose(r -> {
        ctx.verify(() -> assertThat(rawCount(r)).isEqualTo(samples.size()));
        return get("/api/metrics/summary?hours=1&instance=hist-r", 200);
      })
      .onComplete(ctx.succeeding(summary -> ctx.verify(() -> {
        assertThat(summary.getLong("sample_count")).isEqualTo(samples.size());
        assertThat(summary.getJsonObject("cpu").getDouble("max")).isEqualTo(59.0);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  @DisplayName("while Redis is down writes are buffered and readiness says degraded; after it returns nothing is missing")
  void redisOutage(Vertx vertx, VertxTestContext ctx) throws Exception {
    redis = new RedisServer().start();
    double now = System.currentTimeMillis() / 1000d;
    List<SystemMetrics> before = recent("hist-o", 100, now - 200);
    List<SystemMetrics> during = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      during.add(Samples.at("hist-o", 1000 + i, now - 100 + i * 0.5, 5, 5, 5));
    }
    String uri = "/api/metrics/history?metric=cpu_percent&step=1&instance=hist-o&from=" + (now - 400) + "&to=" + (now + 1);
    start(vertx, new JsonObject().put("redis", new JsonObject().put("url", redis.url())))
      .compose(v -> {
        before.forEach(s -> vertx.eventBus().publish(Addresses.METRICS_SYSTEM, s));
        return until(vertx, uri, r -> r.containsKey("points") && rawCount(r) == before.size());
      })
      .compose(r -> vertx.executeBlocking(() -> {
        redis.kill();
        return null;
      }))
      .compose(v -> {
        during.forEach(s -> vertx.eventBus().publish(Addresses.METRICS_SYSTEM, s));
        return until(vertx, "/health/ready", r -> r.encode().contains("\"state\":\"degraded\""));
      })
      .compose(ready -> {
        ctx.verify(() -> {
          assertThat(ready.getString("outcome")).as("degraded history keeps the node ready").isEqualTo("UP");
          assertThat(ready.encode()).contains("\"buffered\":");
        });
        return vertx.executeBlocking(() -> redis.start());
      })
      .compose(v -> until(vertx, "/health/ready", r -> r.encode().contains("\"state\":\"ok\"") && r.encode().contains("\"buffered\":0")))
      .compose(v -> get("/metrics", 200).recover(e -> Future.succeededFuture(new JsonObject())))
      .compose(v -> until(vertx, uri, r -> r.containsKey("points") && rawCount(r) >= during.size()))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        // Redis restarted empty (no persistence in the test): everything written after it came back is there,
        // and that is every sample published during the outage
        assertThat(rawCount(r)).isEqualTo(during.size());
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a stream client asking for backfill gets history then live samples with no gap and no duplicate")
  void backfillSeam(Vertx vertx, VertxTestContext ctx) {
    double now = System.currentTimeMillis() / 1000d;
    List<SystemMetrics> past = recent("seam", 40, now);
    String uri = "/api/metrics/history?metric=cpu_percent&step=1&instance=seam&from=" + (now - 100) + "&to=" + (now + 1);
    Promise<Void> liveDone = Promise.promise();
    start(vertx, new JsonObject())
      .compose(v -> {
        past.forEach(s -> vertx.eventBus().publish(Addresses.METRICS_SYSTEM, s));
        return until(vertx, uri, r -> r.containsKey("points") && rawCount(r) == past.size());
      })
      .compose(v -> {
        // live samples keep coming while the client connects and is backfilled; timestamps are cut to 20 ms, so
        // several samples share one (as when a late timer catches up): the seam must still tell them apart
        long[] seq = {41};
        vertx.setPeriodic(3, id -> {
          double ts = Math.max(now, Math.floor(System.currentTimeMillis() / 20d) / 50d);
          vertx.eventBus().publish(Addresses.METRICS_SYSTEM, Samples.at("seam", seq[0], ts, 1, 1, 1));
          if (++seq[0] > 140) {
            vertx.cancelTimer(id);
            liveDone.complete();
          }
        });
        return WsClient.connect(ws, port, null, "/metrics/stream?streams=system&instances=seam&backfill_minutes=5");
      })
      .compose(client -> liveDone.future().compose(v -> client.await(WsClient.sample("system", "seam", 140))).map(client))
      .onComplete(ctx.succeeding(client -> ctx.verify(() -> {
        List<Long> seqs = client.ofType("system").stream().map(f -> f.getJsonObject("data").getLong("seq")).toList();
        List<Long> expected = new ArrayList<>();
        for (long i = 1; i <= 140; i++) {
          expected.add(i);
        }
        assertThat(seqs).as("history then live, no gap, no duplicate").containsExactlyElementsOf(expected);
        assertThat(client.ofType("backfill_done")).singleElement()
          .satisfies(d -> assertThat(d.getInteger("frames")).isGreaterThanOrEqualTo(40));
        assertThat(client.frames().get(0).getDouble("backfill_since")).isNotNull();
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("bad history parameters get 400 with the parameter named")
  void badParameters(Vertx vertx, VertxTestContext ctx) {
    List<String[]> cases = List.of(
      new String[] {"/api/metrics/summary?hours=abc", "'hours' must be a number"},
      new String[] {"/api/metrics/summary?hours=-1", "'hours' must be between"},
      new String[] {"/api/metrics/summary?hours=100000", "'hours' must be between"},
      new String[] {"/api/metrics/summary?kind=disk", "'kind' must be 'system' or 'app'"},
      new String[] {"/api/metrics/summary?instance=", "'instance' must be 1 to 253"},
      new String[] {"/api/metrics/history", "'metric' is missing"},
      new String[] {"/api/metrics/history?metric=cpu", "unknown metric 'cpu'"},
      new String[] {"/api/metrics/history?metric=cpu_percent&from=10&to=5", "'from' must be between"},
      new String[] {"/api/metrics/history?metric=cpu_percent&from=NaN", "'from' must be between"},
      new String[] {"/api/metrics/history?metric=cpu_percent&step=0", "'step' must be between"},
      new String[] {"/api/metrics/history?metric=cpu_percent&from=0&to=86400&step=1", "'step' too small"},
      new String[] {"/api/metrics/app/history?metric=cpu_percent", "unknown metric 'cpu_percent'"},
      new String[] {"/api/metrics/instances?kind=%3Cscript%3E", "'kind' must be"});
    start(vertx, new JsonObject())
      .compose(v -> {
        Future<Void> chain = Future.succeededFuture();
        for (String[] c : cases) {
          chain = chain.compose(x -> http.request(HttpMethod.GET, port, "127.0.0.1", c[0])
            .compose(req -> req.send().compose(resp -> resp.body().map(b -> {
              ctx.verify(() -> {
                assertThat(resp.statusCode()).as(c[0]).isEqualTo(400);
                JsonObject body = new JsonObject((Buffer) b);
                assertThat(body.getString("error")).isEqualTo("bad_request");
                assertThat(body.getString("message")).as(c[0]).contains(c[1]);
              });
              return null;
            }))));
        }
        return chain;
      })
      .compose(v -> get("/api/metrics/summary?hours=1&instance=nobody-here", 404))
      .onComplete(ctx.succeeding(nf -> ctx.verify(() -> {
        assertThat(nf.getString("message")).contains("nobody-here");
        ctx.completeNow();
      })));
  }
}
