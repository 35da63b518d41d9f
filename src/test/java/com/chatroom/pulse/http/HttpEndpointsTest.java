package com.chatroom.pulse.http;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.Samples;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.SystemMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("Probes, current metrics and errors over real HTTP")
class HttpEndpointsTest {

  private HttpClient http;
  private int port;

  private record Response(int status, String contentType, Buffer body) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  private Future<Response> get(String uri) {
    return http.request(HttpMethod.GET, port, "127.0.0.1", uri)
      .compose(req -> req.send().compose(resp -> resp.body()
        .map(body -> new Response(resp.statusCode(), resp.getHeader("Content-Type"), body))));
  }

  private Future<Void> start(Vertx vertx, JsonObject overrides) {
    http = vertx.createHttpClient();
    return Edge.deploy(vertx, overrides).map(c -> {
      port = c.http().port();
      return null;
    });
  }

  /** Polls until the predicate holds, on Vert.x timers: no sleeping threads. */
  private Future<Response> until(Vertx vertx, String uri, java.util.function.Predicate<Response> done) {
    return get(uri).compose(r -> done.test(r) ? Future.succeededFuture(r)
      : Future.<Void>future(p -> vertx.setTimer(20, id -> p.complete())).compose(v -> until(vertx, uri, done)));
  }

  private static SystemMetrics fresh(String instance, long seq) {
    SystemMetrics s = Samples.system(instance, seq);
    return new SystemMetrics(System.currentTimeMillis() / 1000d, s.cpuPercent(), s.memoryPercent(), s.memoryUsedMb(),
      s.memoryAvailableMb(), s.diskUsagePercent(), s.diskFreeGb(), s.networkBytesSent(), s.networkBytesRecv(),
      s.activeConnections(), s.loadAverage(), instance, seq, s.memoryTotalMb(), s.cpuCount(), s.networkSentPerSec(),
      s.networkRecvPerSec(), s.disks());
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("readiness is 503 until this instance's first sample arrives, then 200; liveness is always 200")
  void readiness(Vertx vertx, VertxTestContext ctx) {
    start(vertx, new JsonObject().put("sampler", new JsonObject().put("enabled", true)))
      .compose(v -> get("/health/ready"))
      .compose(notReady -> {
        ctx.verify(() -> {
          assertThat(notReady.status()).isEqualTo(503);
          assertThat(notReady.body().toString()).contains("no sample yet");
        });
        return get("/health/live");
      })
      .compose(live -> {
        ctx.verify(() -> assertThat(live.status()).isEqualTo(200));
        vertx.eventBus().publish(Addresses.METRICS_SYSTEM, fresh("some-other-node", 1));
        vertx.eventBus().publish(Addresses.METRICS_SYSTEM, fresh("edge-test", 1));
        return until(vertx, "/health/ready", r -> r.status() == 200);
      })
      .onComplete(ctx.succeeding(ready -> ctx.verify(() -> {
        assertThat(ready.json().getString("outcome")).isEqualTo("UP");
        assertThat(ready.json().getJsonArray("checks").encode()).contains("\"seq\":1");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("readiness reports a stalled sampler as 503 with the reason")
  void stalledSampler(Vertx vertx, VertxTestContext ctx) {
    start(vertx, new JsonObject().put("sampler", new JsonObject().put("enabled", true)))
      .compose(v -> {
        // a sample a minute old: the sampler has not produced anything since
        vertx.eventBus().publish(Addresses.METRICS_SYSTEM, Samples.system("edge-test", 1));
        return until(vertx, "/health/ready", r -> r.body().toString().contains("stalled"));
      })
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertThat(r.status()).isEqualTo(503);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("/api/metrics/current answers the newest sample of this or a named instance, in the seed's field names")
  void current(Vertx vertx, VertxTestContext ctx) {
    start(vertx, new JsonObject().put("sampler", new JsonObject().put("enabled", true)))
      .compose(v -> get("/api/metrics/current"))
      .compose(none -> {
        ctx.verify(() -> assertThat(none.status()).isEqualTo(503));
        vertx.eventBus().publish(Addresses.METRICS_SYSTEM, fresh("edge-test", 1));
        vertx.eventBus().publish(Addresses.METRICS_SYSTEM, fresh("edge-test", 2));
        vertx.eventBus().publish(Addresses.METRICS_SYSTEM, fresh("pod-b", 5));
        return until(vertx, "/api/metrics/current?instance=pod-b", r -> r.status() == 200);
      })
      .compose(podB -> {
        ctx.verify(() -> assertThat(podB.json().getLong("seq")).isEqualTo(5));
        return until(vertx, "/api/metrics/current", r -> r.status() == 200 && r.json().getLong("seq") == 2);
      })
      .compose(own -> {
        ctx.verify(() -> {
          assertThat(own.contentType()).isEqualTo("application/json");
          assertThat(own.json().fieldNames()).contains("timestamp", "cpu_percent", "memory_percent", "memory_used_mb",
            "memory_available_mb", "disk_usage_percent", "disk_free_gb", "network_bytes_sent", "network_bytes_recv",
            "active_connections", "load_average", "instance");
        });
        return get("/api/metrics/current?instance=nobody");
      })
      .compose(unknown -> {
        ctx.verify(() -> {
          assertThat(unknown.status()).isEqualTo(404);
          assertThat(unknown.json().getString("error")).isEqualTo("not_found");
          assertThat(unknown.json().getString("message")).contains("nobody");
        });
        return get("/api/metrics/current?instance=");
      })
      .onComplete(ctx.succeeding(empty -> ctx.verify(() -> {
        assertThat(empty.status()).isEqualTo(400);
        assertThat(empty.json().getString("message")).contains("'instance'");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("unknown routes and wrong methods answer JSON errors; / serves the page; /metrics is Prometheus text")
  void errorsAndPages(Vertx vertx, VertxTestContext ctx) {
    start(vertx, new JsonObject())
      .compose(v -> get("/api/nothing-here"))
      .compose(r -> {
        ctx.verify(() -> {
          assertThat(r.status()).isEqualTo(404);
          assertThat(r.json().getString("error")).isEqualTo("not_found");
        });
        return http.request(HttpMethod.DELETE, port, "127.0.0.1", "/api/metrics/current")
          .compose(req -> req.send().compose(resp -> resp.body().map(b -> new Response(resp.statusCode(), null, b))));
      })
      .compose(r -> {
        ctx.verify(() -> assertThat(r.status()).isIn(404, 405));
        ctx.verify(() -> assertThat(r.json().containsKey("error")).isTrue());
        return get("/");
      })
      .compose(page -> {
        ctx.verify(() -> {
          assertThat(page.status()).isEqualTo(200);
          assertThat(page.contentType()).startsWith("text/html");
        });
        return get("/metrics");
      })
      .onComplete(ctx.succeeding(metrics -> ctx.verify(() -> {
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.body().toString()).contains("pulse_stream_subscribers", "pulse_stream_frames_sent_total");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("the page and its chart module load uPlot from the WebJar on the classpath, at the pom's uplot.version")
  void uplotFollowsThePom(Vertx vertx, VertxTestContext ctx) throws Exception {
    java.util.Properties webjar = new java.util.Properties();
    try (var in = getClass().getResourceAsStream("/META-INF/maven/org.webjars.npm/uplot/pom.properties")) {
      webjar.load(in);
    }
    String base = "/webjars/uplot/" + webjar.getProperty("version") + "/dist/";
    start(vertx, new JsonObject())
      .compose(v -> Future.all(get("/"), get("/js/charts.js")))
      .compose(pages -> {
        String page = pages.<Response>resultAt(0).body().toString();
        String charts = pages.<Response>resultAt(1).body().toString();
        ctx.verify(() -> {
          assertThat(page).contains("href=\"" + base + "uPlot.min.css\"").doesNotContain("@uplot.version@");
          assertThat(charts).contains("from '" + base + "uPlot.esm.js'").doesNotContain("@uplot.version@");
        });
        return Future.all(get(base + "uPlot.min.css"), get(base + "uPlot.esm.js"));
      })
      .onComplete(ctx.succeeding(assets -> ctx.verify(() -> {
        assertThat(assets.<Response>resultAt(0).status()).as(base + "uPlot.min.css").isEqualTo(200);
        assertThat(assets.<Response>resultAt(1).status()).as(base + "uPlot.esm.js").isEqualTo(200);
        ctx.completeNow();
      })));
  }
}
