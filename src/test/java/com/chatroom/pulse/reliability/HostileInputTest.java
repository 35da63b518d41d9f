package com.chatroom.pulse.reliability;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.Samples;
import com.chatroom.pulse.WsClient;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.BusMessages;
import com.chatroom.pulse.bus.InvalidMessageException;
import com.chatroom.pulse.config.ConfigException;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A thousand generated hostile inputs per entry point, each answered with a precise error, while valid traffic
 * alongside is delivered intact and the node stays healthy. Seeds are fixed so a failure is reproducible.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Hostile input, a thousand per entry point")
class HostileInputTest {

  private static final int N = 1000;
  private WebSocketClient ws;
  private HttpClient http;
  private int port;

  private Future<Void> start(Vertx vertx, JsonObject overrides) {
    ws = WsClient.newClient(vertx, 0);
    http = vertx.createHttpClient();
    return Edge.deployWithAlerts(vertx, overrides).map(c -> {
      port = c.http().port();
      return null;
    });
  }

  private static double counter(Vertx vertx, String name, String... tags) {
    return Meters.registry(vertx).find(name).tags(tags).counters().stream().mapToDouble(c -> c.count()).sum();
  }

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  @DisplayName("/metrics/stream: every hostile frame gets exactly one answer, valid pings all get their pong, samples keep flowing")
  void streamFrames(Vertx vertx, VertxTestContext ctx) {
    List<String> corpus = new Hostile(11).corpus(new JsonObject().put("type", "ping").put("id", 1), N);
    JsonObject limits = new JsonObject().put("stream", new JsonObject().put("inbound_per_second", 10_000).put("inbound_burst", 100_000));
    start(vertx, limits)
      .compose(v -> WsClient.connect(ws, port, null).compose(attacker -> WsClient.connect(ws, port, null)
        .map(watcher -> List.of(attacker, watcher))))
      .compose(pair -> pair.get(1).awaitType("hello").map(pair))
      .compose(pair -> {
        WsClient attacker = pair.get(0);
        for (int i = 0; i < corpus.size(); i++) {
          attacker.ws.writeTextMessage(corpus.get(i));
          if (i % 10 == 0) {
            attacker.ws.writeTextMessage("{\"type\":\"ping\",\"id\":\"valid-" + i + "\"}");
            vertx.eventBus().publish(Addresses.METRICS_SYSTEM, Samples.system("during-attack", i / 10 + 1));
          }
        }
        attacker.ws.writeTextMessage("{\"type\":\"ping\",\"id\":\"last\"}");
        return attacker.await(f -> "pong".equals(f.getString("type")) && "last".equals(f.getValue("id")))
          .compose(x -> pair.get(1).await(WsClient.sample("system", "during-attack", N / 10)))
          .map(pair);
      })
      .onComplete(ctx.succeeding(pair -> ctx.verify(() -> {
        WsClient attacker = pair.get(0);
        List<JsonObject> answers = attacker.frames().stream()
          .filter(f -> List.of("pong", "error", "subscribed").contains(f.getString("type"))).toList();
        long suppressed = answers.stream().filter(f -> "errors_suppressed".equals(f.getString("code")))
          .mapToLong(f -> f.getLong("count")).sum();
        long direct = answers.stream().filter(f -> !"errors_suppressed".equals(f.getString("code"))).count();
        assertThat(direct + suppressed).as("one answer per frame sent, or counted in a suppression notice")
          .isEqualTo(corpus.size() + N / 10 + 1);
        assertThat(answers.stream().filter(f -> "error".equals(f.getString("type"))))
          .isNotEmpty().allSatisfy(e -> {
            assertThat(e.getString("code")).isNotBlank();
            assertThat(e.getString("message")).isNotBlank();
          });
        List<Object> validIds = attacker.ofType("pong").stream().map(f -> f.getValue("id"))
          .filter(id -> id instanceof String s && s.startsWith("valid-")).toList();
        assertThat(validIds).hasSize(N / 10);
        assertThat(attacker.ws.isClosed()).isFalse();
        assertThat(pair.get(1).ofType("system")).hasSize(N / 10);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  @DisplayName("metrics.app on the bus: every invalid body is refused and counted, every valid one reaches the stream")
  void busMessages(Vertx vertx, VertxTestContext ctx) {
    JsonObject valid = Samples.app("bus-valid", 1).toJson();
    List<String> corpus = new Hostile(22).corpus(valid, N);
    Random random = new Random(23);
    List<Object> bodies = new ArrayList<>();
    int expectedInvalid = 0;
    for (String text : corpus) {
      Object body = switch (random.nextInt(3)) {
        case 0 -> text;
        case 1 -> Buffer.buffer(text.getBytes(StandardCharsets.UTF_8)).appendBytes(new byte[] {(byte) 0xC3, (byte) 0x28});
        default -> tryParse(text);
      };
      bodies.add(body);
      if (!isValid(body)) {
        expectedInvalid++;
      }
    }
    int invalid = expectedInvalid;
    start(vertx, new JsonObject())
      .compose(v -> WsClient.connect(ws, port, null, "/metrics/stream?streams=app&instances=bus-valid"))
      .compose(client -> client.awaitType("hello").map(client))
      .compose(client -> {
        long seq = 0;
        for (Object body : bodies) {
          vertx.eventBus().publish(Addresses.METRICS_APP, body);
          if (seq % 10 == 0) {
            vertx.eventBus().publish(Addresses.METRICS_APP, Samples.app("bus-valid", 1_000_000 + seq));
          }
          seq++;
        }
        vertx.eventBus().publish(Addresses.METRICS_APP, Samples.app("bus-valid", 9_999_999));
        return client.await(WsClient.sample("app", "bus-valid", 9_999_999)).map(client);
      })
      // the stream's client has the last sample; history and alerts consume on their own event loops and may still be
      // working through the corpus: wait until each has counted as many refusals as expected (more still fails below)
      .compose(client -> Waits.until(vertx, () -> Stream.of("stream", "history", "alerts")
          .allMatch(consumer -> counter(vertx, MeterNames.BUS_REJECTED, "address", "metrics.app", "consumer", consumer) >= invalid),
        10_000, () -> "every consumer counted " + invalid + " refusals").map(client))
      .onComplete(ctx.succeeding(client -> ctx.verify(() -> {
        List<Long> delivered = client.ofType("app").stream().map(f -> f.getJsonObject("data").getLong("total_messages"))
          .filter(t -> t >= 1_000_000).toList();
        List<Long> expected = new ArrayList<>();
        for (long s = 0; s < N; s += 10) {
          expected.add(1_000_000 + s);
        }
        expected.add(9_999_999L);
        assertThat(delivered).as("every valid message, in order").containsExactlyElementsOf(expected);
        assertThat(counter(vertx, MeterNames.BUS_REJECTED, "address", "metrics.app", "consumer", "stream"))
          .as("each invalid body counted once by the stream").isEqualTo(invalid);
        assertThat(counter(vertx, MeterNames.BUS_REJECTED, "address", "metrics.app", "consumer", "history")).isEqualTo(invalid);
        assertThat(counter(vertx, MeterNames.BUS_REJECTED, "address", "metrics.app", "consumer", "alerts")).isEqualTo(invalid);
        ctx.completeNow();
      })));
  }

  private static Object tryParse(String text) {
    try {
      return new JsonObject(text);
    } catch (RuntimeException e) {
      return text;
    }
  }

  private static boolean isValid(Object body) {
    try {
      BusMessages.applicationMetrics(body);
      return true;
    } catch (InvalidMessageException e) {
      return false;
    }
  }

  @Test
  @Timeout(value = 180, timeUnit = TimeUnit.SECONDS)
  @DisplayName("/api query parameters: hostile values get a 4xx JSON error, never a 500, and the node stays ready")
  void queryParameters(Vertx vertx, VertxTestContext ctx) {
    Random random = new Random(33);
    String[] routes = {"/api/metrics/summary", "/api/metrics/history", "/api/metrics/app/summary",
      "/api/metrics/app/history", "/api/metrics/current", "/api/metrics/instances", "/api/alerts", "/api/alerts/history"};
    String[] names = {"hours", "metric", "from", "to", "step", "instance", "kind", "limit", "since"};
    String[] values = {"", "-1", "0", "1e999", "NaN", "-Infinity", "abc", "%00", "<script>", "9".repeat(400),
      "cpu_percent", "x".repeat(3000), "1.5", "system", "app", "💥", "' or 1=1", "..%2F..%2Fetc"};
    List<String> uris = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      StringBuilder uri = new StringBuilder(routes[random.nextInt(routes.length)]).append('?');
      for (int p = 0; p < 1 + random.nextInt(4); p++) {
        uri.append(names[random.nextInt(names.length)]).append('=')
          .append(URLEncoder.encode(values[random.nextInt(values.length)], StandardCharsets.UTF_8)).append('&');
      }
      uris.add(uri.toString());
    }
    List<Integer> statuses = new ArrayList<>();
    start(vertx, new JsonObject())
      .compose(v -> {
        Future<Void> chain = Future.succeededFuture();
        for (String uri : uris) {
          chain = chain.compose(x -> http.request(HttpMethod.GET, port, "127.0.0.1", uri)
            .compose(req -> req.send().compose(resp -> resp.body().map(body -> {
              statuses.add(resp.statusCode());
              if (resp.statusCode() >= 400) {
                ctx.verify(() -> assertThat(new JsonObject(body).getString("message")).as(uri).isNotBlank());
              }
              return null;
            }))));
        }
        return chain;
      })
      .compose(v -> http.request(HttpMethod.GET, port, "127.0.0.1", "/health/live").compose(req -> req.send()))
      .onComplete(ctx.succeeding(live -> ctx.verify(() -> {
        assertThat(statuses).hasSize(N).allSatisfy(s -> assertThat(s).isLessThan(500));
        assertThat(statuses).as("most hostile queries are refused").filteredOn(s -> s >= 400).hasSizeGreaterThan(N / 2);
        assertThat(live.statusCode()).isEqualTo(200);
        ctx.completeNow();
      })));
  }

  @Test
  @DisplayName("config documents: every mutation either loads or stops with a ConfigException naming a key")
  void configDocuments() {
    JsonObject valid = new JsonObject()
      .put("instance_id", "cfg")
      .put("http", new JsonObject().put("port", 8888).put("instances", 2).put("max_frame_bytes", 65536))
      .put("sampler", new JsonObject().put("interval_ms", 1000).put("enabled", true))
      .put("stream", new JsonObject().put("max_subscribers", 100).put("inbound_burst", 5))
      .put("history", new JsonObject().put("raw_retention_minutes", 120))
      .put("redis", new JsonObject().put("url", ""));
    Hostile hostile = new Hostile(44);
    int loaded = 0;
    int refused = 0;
    for (int i = 0; i < N; i++) {
      JsonObject doc;
      try {
        doc = new JsonObject(hostile.mutate(valid));
      } catch (RuntimeException notJson) {
        continue;
      }
      // also mutate inside one section, where most keys live
      String section = List.of("http", "sampler", "stream", "history").get(i % 4);
      if (doc.getValue(section) instanceof JsonObject inner && !inner.isEmpty()) {
        try {
          doc.put(section, new JsonObject(hostile.mutate(inner)));
        } catch (RuntimeException notJson) {
          // keep the outer mutation only
        }
      }
      try {
        PulseConfig.from(doc);
        loaded++;
      } catch (ConfigException e) {
        assertThat(e.key()).as(doc.encode()).isNotBlank();
        assertThat(e.getMessage()).contains("invalid config key '" + e.key() + "'");
        refused++;
      }
    }
    // every mutation that is JSON at all was either loaded or refused with a key: nothing else escaped
    assertThat(loaded + refused).as("documents that parse as JSON").isGreaterThan(N / 2);
    assertThat(refused).isGreaterThan((loaded + refused) / 2);
  }
}
