package com.chatroom.pulse.stream;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.Samples;
import com.chatroom.pulse.WsClient;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("/metrics/stream with real WebSocket clients")
class StreamEndpointTest {

  /** Clients live in fields: Vert.x 5 closes clients that become unreachable. */
  private WebSocketClient client;
  private WebSocketClient slowClient;
  private HttpClient http;

  private Future<Integer> start(Vertx vertx, JsonObject overrides) {
    client = WsClient.newClient(vertx, 0);
    http = vertx.createHttpClient();
    return Edge.deploy(vertx, overrides).map(c -> c.http().port());
  }

  private static double counter(Vertx vertx, String name, String... tags) {
    var search = Meters.registry(vertx).find(name).tags(tags);
    return search.counter() == null ? 0 : search.counter().count();
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("without a subscribe frame a client gets the hello, then every sample and app metric, in publish order")
  void everythingInOrder(Vertx vertx, VertxTestContext ctx) {
    start(vertx, new JsonObject())
      .compose(port -> WsClient.connect(client, port, null))
      .compose(ws -> ws.awaitType("hello").map(ws))
      .compose(ws -> {
        for (int i = 1; i <= 50; i++) {
          vertx.eventBus().publish(Addresses.METRICS_SYSTEM, Samples.system("n1", i));
          vertx.eventBus().publish(Addresses.METRICS_APP, Samples.app("n1", i));
        }
        return ws.await(WsClient.sample("app", "n1", 50)).map(ws);
      })
      .onComplete(ctx.succeeding(ws -> ctx.verify(() -> {
        List<JsonObject> frames = ws.frames();
        assertThat(frames.get(0).getString("type")).isEqualTo("hello");
        assertThat(frames.get(0).getJsonArray("streams")).containsExactly("system", "app", "alerts", "optimizer");
        List<String> order = frames.subList(1, frames.size()).stream()
          .map(f -> f.getString("type") + ":" + f.getJsonObject("data").getString("instance") + ":"
            + (f.getString("type").equals("system") ? f.getJsonObject("data").getLong("seq") : f.getJsonObject("data").getLong("total_messages")))
          .toList();
        List<String> expected = new ArrayList<>();
        for (int i = 1; i <= 50; i++) {
          expected.add("system:n1:" + i);
          expected.add("app:n1:" + i);
        }
        assertThat(order).isEqualTo(expected);
        assertThat(frames.get(1).getJsonObject("data")).isEqualTo(Samples.system("n1", 1).toJson().copy()
          .put("timestamp", frames.get(1).getJsonObject("data").getValue("timestamp")));
        assertThat(counter(vertx, MeterNames.STREAM_FRAMES_SENT)).isGreaterThanOrEqualTo(100);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a subscribe frame narrows the stream to the chosen streams and instances")
  void filtering(Vertx vertx, VertxTestContext ctx) {
    start(vertx, new JsonObject())
      .compose(port -> WsClient.connect(client, port, null))
      .compose(ws -> {
        ws.ws.writeTextMessage(new JsonObject().put("type", "subscribe").put("streams", new JsonArray().add("app"))
          .put("instances", new JsonArray().add("n2")).encode());
        return ws.awaitType("subscribed").map(ws);
      })
      .compose(ws -> {
        for (int i = 1; i <= 5; i++) {
          vertx.eventBus().publish(Addresses.METRICS_SYSTEM, Samples.system("n2", i));
          vertx.eventBus().publish(Addresses.METRICS_APP, Samples.app("n1", i));
          vertx.eventBus().publish(Addresses.METRICS_APP, Samples.app("n2", i));
          vertx.eventBus().publish(Addresses.ALERTS_EVENTS, new JsonObject().put("instance", "n2").put("state", "firing"));
        }
        return ws.await(WsClient.sample("app", "n2", 5)).map(ws);
      })
      .onComplete(ctx.succeeding(ws -> ctx.verify(() -> {
        List<JsonObject> data = ws.ofType("app");
        assertThat(data).hasSize(5).allSatisfy(f -> assertThat(f.getJsonObject("data").getString("instance")).isEqualTo("n2"));
        assertThat(ws.ofType("system")).isEmpty();
        assertThat(ws.ofType("alerts")).isEmpty();
        JsonObject subscribed = ws.ofType("subscribed").get(0);
        assertThat(subscribed.getJsonArray("streams")).containsExactly("app");
        assertThat(subscribed.getJsonArray("instances")).containsExactly("n2");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a new subscriber first gets the newest sample of each instance, and a re-subscribe never repeats one")
  void snapshot(Vertx vertx, VertxTestContext ctx) {
    start(vertx, new JsonObject())
      .compose(port -> {
        vertx.eventBus().publish(Addresses.METRICS_SYSTEM, Samples.system("a", 1));
        vertx.eventBus().publish(Addresses.METRICS_SYSTEM, Samples.system("a", 2));
        vertx.eventBus().publish(Addresses.METRICS_SYSTEM, Samples.system("b", 9));
        // a first client proves the samples reached the edge before the second one connects
        return WsClient.connect(client, port, null).compose(first -> first.await(WsClient.sample("system", "b", 9)))
          .compose(x -> WsClient.connect(client, port, null));
      })
      .compose(ws -> ws.await(WsClient.sample("system", "b", 9)).map(ws))
      .compose(ws -> {
        ws.ws.writeTextMessage("{\"type\":\"subscribe\",\"streams\":[\"system\"],\"instances\":[\"a\"]}");
        ws.ws.writeTextMessage("{\"type\":\"ping\",\"id\":1}");
        return ws.awaitType("pong").map(ws);
      })
      .onComplete(ctx.succeeding(ws -> ctx.verify(() -> {
        List<String> systems = ws.ofType("system").stream()
          .map(f -> f.getJsonObject("data").getString("instance") + f.getJsonObject("data").getLong("seq")).toList();
        assertThat(systems).containsExactlyInAnyOrder("a2", "b9");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("every bad frame gets an error frame naming the problem, and the connection stays up")
  void badFrames(Vertx vertx, VertxTestContext ctx) {
    List<String[]> cases = List.of(
      new String[] {"{", "malformed_json"},
      new String[] {"not json at all", "malformed_json"},
      new String[] {"", "malformed_json"},
      new String[] {"[1,2,3]", "wrong_type"},
      new String[] {"null", "wrong_type"},
      new String[] {"\"subscribe\"", "wrong_type"},
      new String[] {"{}", "missing_field"},
      new String[] {"{\"type\":42}", "wrong_type"},
      new String[] {"{\"type\":\"unsubscribe\"}", "unknown_type"},
      new String[] {"{\"type\":\"<script>alert(1)</script>\"}", "unknown_type"},
      new String[] {"{\"type\":\"subscribe\",\"streams\":\"system\"}", "wrong_type"},
      new String[] {"{\"type\":\"subscribe\",\"streams\":[\"system\",\"disk\"]}", "unknown_stream"},
      new String[] {"{\"type\":\"subscribe\",\"streams\":[]}", "out_of_range"},
      new String[] {"{\"type\":\"subscribe\",\"streams\":[1]}", "wrong_type"},
      new String[] {"{\"type\":\"subscribe\",\"instances\":[\"\"]}", "wrong_type"},
      new String[] {"{\"type\":\"subscribe\",\"instances\":{\"a\":1}}", "wrong_type"},
      new String[] {"{\"type\":\"ping\",\"id\":{\"nested\":true}}", "wrong_type"},
      new String[] {"{\"type\":\"subscribe\",\"pad\":\"" + "x".repeat(5000) + "\"}", "frame_too_large"},
      new String[] {"{\"type\":\"subscribe\",\"instances\":" + "[".repeat(100) + "]".repeat(100) + "}", "wrong_type"});
    start(vertx, new JsonObject().put("stream", new JsonObject().put("inbound_burst", 100)))
      .compose(port -> WsClient.connect(client, port, null))
      .compose(ws -> ws.awaitType("hello").map(ws))
      .compose(ws -> {
        cases.forEach(c -> ws.ws.writeTextMessage(c[0]));
        ws.ws.writeBinaryMessage(Buffer.buffer(new byte[] {1, 2, 3}));
        ws.ws.writeTextMessage("{\"type\":\"ping\",\"id\":\"after-errors\"}");
        ws.ws.writeTextMessage("{\"type\":\"subscribe\",\"streams\":[\"system\"]}");
        return ws.awaitType("subscribed").map(ws);
      })
      .compose(ws -> {
        vertx.eventBus().publish(Addresses.METRICS_SYSTEM, Samples.system("still-up", 1));
        return ws.await(WsClient.sample("system", "still-up", 1)).map(ws);
      })
      .onComplete(ctx.succeeding(ws -> ctx.verify(() -> {
        List<JsonObject> errors = ws.ofType("error");
        List<String> expected = new ArrayList<>(cases.stream().map(c -> c[1]).toList());
        expected.add("unsupported_frame");
        assertThat(errors).extracting(e -> e.getString("code")).containsExactlyElementsOf(expected);
        assertThat(errors).allSatisfy(e -> assertThat(e.getString("message")).isNotBlank());
        assertThat(errors.get(11).getString("message")).contains("'disk'");
        assertThat(errors.get(11).getString("field")).isEqualTo("streams");
        assertThat(ws.ofType("pong")).singleElement().satisfies(p -> assertThat(p.getString("id")).isEqualTo("after-errors"));
        assertThat(counter(vertx, MeterNames.STREAM_INBOUND_REJECTED, "reason", "malformed_json")).isEqualTo(3);
        assertThat(counter(vertx, MeterNames.STREAM_INBOUND_REJECTED, "reason", "unknown_type")).isEqualTo(2);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a client flooding frames is told it is rate limited, then disconnected with 1008 if it goes on")
  void inboundRateLimit(Vertx vertx, VertxTestContext ctx) {
    start(vertx, new JsonObject().put("stream", new JsonObject().put("inbound_burst", 5).put("inbound_per_second", 0.1)))
      .compose(port -> WsClient.connect(client, port, null))
      .compose(ws -> ws.awaitType("hello").map(ws))
      .compose(ws -> {
        for (int i = 0; i < 10; i++) {
          ws.ws.writeTextMessage("{\"type\":\"ping\",\"id\":" + i + "}");
        }
        return ws.await(f -> ws.ofType("error").size() == 5).map(ws);
      })
      .compose(ws -> {
        List<JsonObject> firstTen = ws.frames();
        for (int i = 0; i < 60; i++) {
          ws.ws.writeTextMessage("{\"type\":\"ping\"}");
        }
        return ws.closedWith().map(code -> new Object[] {code, firstTen});
      })
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        @SuppressWarnings("unchecked")
        List<JsonObject> firstTen = (List<JsonObject>) r[1];
        assertThat(firstTen.stream().filter(f -> f.getString("type").equals("pong"))).hasSize(5);
        assertThat(firstTen.stream().filter(f -> f.getString("type").equals("error")))
          .hasSize(5).allSatisfy(e -> assertThat(e.getString("code")).isEqualTo("rate_limited"));
        assertThat(r[0]).isEqualTo((short) 1008);
        assertThat(counter(vertx, MeterNames.STREAM_INBOUND_REJECTED, "reason", "abuse")).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("an oversized frame closes that socket with 1009 while other subscribers keep receiving")
  void oversizedFrame(Vertx vertx, VertxTestContext ctx) {
    Checkpoint done = ctx.checkpoint(2);
    start(vertx, new JsonObject().put("http", new JsonObject().put("max_frame_bytes", 1024)))
      .compose(port -> WsClient.connect(client, port, null).compose(good ->
        WsClient.connect(client, port, null).map(bad -> List.of(good, bad))))
      .onComplete(ctx.succeeding(pair -> {
        WsClient good = pair.get(0);
        WsClient bad = pair.get(1);
        bad.ws.writeTextMessage("x".repeat(4000));
        bad.closedWith().onComplete(ctx.succeeding(code -> {
          ctx.verify(() -> assertThat(code).isEqualTo((short) 1009));
          done.flag();
          vertx.eventBus().publish(Addresses.METRICS_SYSTEM, Samples.system("after", 1));
          good.await(WsClient.sample("system", "after", 1)).onComplete(ctx.succeeding(f -> done.flag()));
        }));
      }));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("past stream.max_subscribers the next client is closed with 1013 and a reason; the others keep receiving")
  void maxSubscribers(Vertx vertx, VertxTestContext ctx) {
    int[] port = new int[1];
    start(vertx, new JsonObject().put("stream", new JsonObject().put("max_subscribers", 2)))
      .compose(p -> {
        port[0] = p;
        return WsClient.connect(client, p, null);
      })
      .compose(a -> a.awaitType("hello").compose(x -> WsClient.connect(client, port[0], null)).compose(b -> b.awaitType("hello").map(List.of(a, b))))
      .compose(two -> WsClient.connect(client, port[0], null).compose(third -> third.closedWith().map(code -> {
        ctx.verify(() -> {
          assertThat(code).isEqualTo((short) 1013);
          assertThat(third.ws.closeReason()).contains("too many subscribers");
        });
        return two;
      })))
      .compose(two -> {
        vertx.eventBus().publish(Addresses.METRICS_SYSTEM, Samples.system("n", 1));
        return Future.all(two.get(0).await(WsClient.sample("system", "n", 1)), two.get(1).await(WsClient.sample("system", "n", 1)));
      })
      .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
        assertThat(counter(vertx, MeterNames.STREAM_REFUSED, "reason", "max_subscribers")).isEqualTo(1);
        assertThat(Meters.registry(vertx).get(MeterNames.STREAM_SUBSCRIBERS).gauge().value()).isEqualTo(2);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a browser from another origin is refused with 403; same origin and allow-listed origins connect")
  void origins(Vertx vertx, VertxTestContext ctx) {
    int[] port = new int[1];
    start(vertx, new JsonObject().put("stream", new JsonObject().put("allowed_origins", "https://ops.example.com")))
      .compose(p -> {
        port[0] = p;
        return WsClient.connect(client, p, "https://evil.example.com")
          .transform(ar -> Future.succeededFuture(ar.cause()));
      })
      .compose(failure -> {
        ctx.verify(() -> assertThat(failure).isInstanceOfSatisfying(UpgradeRejectedException.class,
          e -> assertThat(e.getStatus()).isEqualTo(403)));
        return WsClient.connect(client, port[0], "http://127.0.0.1:" + port[0]);
      })
      .compose(same -> same.awaitType("hello"))
      .compose(x -> WsClient.connect(client, port[0], "https://ops.example.com"))
      .compose(allowed -> allowed.awaitType("hello"))
      .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
        assertThat(counter(vertx, MeterNames.STREAM_REFUSED, "reason", "origin")).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a client offering permessage-deflate (as every browser does) gets uncompressed frames")
  void noCompression(Vertx vertx, VertxTestContext ctx) {
    slowClient = vertx.createWebSocketClient(new io.vertx.core.http.WebSocketClientOptions().setTryUsePerMessageCompression(true));
    start(vertx, new JsonObject())
      .compose(port -> WsClient.connect(slowClient, port, null))
      .onComplete(ctx.succeeding(client -> ctx.verify(() -> {
        assertThat(client.ws.headers().get("Sec-WebSocket-Extensions")).as("negotiated extensions").isNull();
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a plain GET on the WebSocket path answers 400 with a JSON error")
  void plainGet(Vertx vertx, VertxTestContext ctx) {
    start(vertx, new JsonObject())
      .compose(port -> http.request(HttpMethod.GET, port, "127.0.0.1", "/metrics/stream"))
      .compose(req -> req.send().compose(resp -> resp.body().map(body -> new Object[] {resp.statusCode(), body})))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertThat(r[0]).isEqualTo(400);
        assertThat(new JsonObject((Buffer) r[1]).getString("error")).isEqualTo("websocket_required");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("an invalid bus message is counted and refused with the field named; valid ones around it are delivered")
  void invalidBusMessages(Vertx vertx, VertxTestContext ctx) {
    JsonObject valid = Samples.app("json-producer", 1).toJson();
    start(vertx, new JsonObject())
      .compose(port -> WsClient.connect(client, port, null))
      .compose(ws -> ws.awaitType("hello").map(ws))
      .compose(ws -> {
        vertx.eventBus().publish(Addresses.METRICS_APP, valid.copy().put("active_users", "lots"));
        vertx.eventBus().publish(Addresses.METRICS_APP, "{not json");
        vertx.eventBus().publish(Addresses.METRICS_APP, 42);
        vertx.eventBus().publish(Addresses.METRICS_APP, valid);
        vertx.eventBus().publish(Addresses.METRICS_APP, valid.encode().replace("\"total_messages\":1", "\"total_messages\":2"));
        return vertx.eventBus().request(Addresses.METRICS_APP, valid.copy().putNull("error_rate"))
          .transform(ar -> Future.succeededFuture(ar.cause()))
          .compose(failure -> {
            ctx.verify(() -> assertThat(failure).isInstanceOfSatisfying(ReplyException.class, e -> {
              assertThat(e.failureCode()).isEqualTo(400);
              assertThat(e.getMessage()).contains("'error_rate'");
            }));
            return ws.await(WsClient.sample("app", "json-producer", 2)).map(ws);
          });
      })
      .onComplete(ctx.succeeding(ws -> ctx.verify(() -> {
        assertThat(ws.ofType("app")).extracting(f -> f.getJsonObject("data").getLong("total_messages")).containsExactly(1L, 2L);
        assertThat(counter(vertx, MeterNames.BUS_REJECTED, "address", "metrics.app", "consumer", "stream", "reason", "wrong_type")).isEqualTo(1);
        assertThat(counter(vertx, MeterNames.BUS_REJECTED, "address", "metrics.app", "consumer", "stream", "reason", "malformed")).isEqualTo(1);
        assertThat(counter(vertx, MeterNames.BUS_REJECTED, "address", "metrics.app", "consumer", "stream", "reason", "unsupported_body")).isEqualTo(1);
        assertThat(counter(vertx, MeterNames.BUS_REJECTED, "address", "metrics.app", "consumer", "stream", "reason", "missing_field")).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a client that stops reading is coalesced to the newest sample and told what it missed; a healthy one loses nothing")
  void slowClientCoalesced(Vertx vertx, VertxTestContext ctx) {
    int total = 3000;
    int chunk = 100;
    slowClient = WsClient.newClient(vertx, 4096);
    WsClient[] clients = new WsClient[2];
    start(vertx, new JsonObject().put("stream", new JsonObject().put("write_queue_bytes", 4096)))
      .compose(port -> WsClient.connect(client, port, null).compose(healthy -> {
        clients[0] = healthy;
        return WsClient.connect(slowClient, port, null);
      }))
      .compose(slow -> {
        clients[1] = slow;
        return slow.awaitType("hello");
      })
      .compose(x -> {
        clients[1].ws.pause();
        return publishPaced(vertx, clients[0], 1, total, chunk);
      })
      .compose(x -> {
        clients[1].ws.resume();
        return clients[1].await(WsClient.sample("system", "n1", total));
      })
      .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
        List<Long> healthySeqs = clients[0].ofType("system").stream().map(f -> f.getJsonObject("data").getLong("seq")).toList();
        assertThat(healthySeqs).hasSize(total);
        for (int i = 0; i < total; i++) {
          assertThat(healthySeqs.get(i)).isEqualTo(i + 1L);
        }
        assertThat(clients[0].ofType("skipped")).isEmpty();

        List<Long> slowSeqs = clients[1].ofType("system").stream().map(f -> f.getJsonObject("data").getLong("seq")).toList();
        long skipped = clients[1].ofType("skipped").stream().mapToLong(f -> f.getLong("count")).sum();
        assertThat(skipped).as("frames the slow client was told it missed").isPositive();
        assertThat(slowSeqs).isSorted().doesNotHaveDuplicates();
        assertThat(slowSeqs.size() + skipped).as("every sample is either delivered or reported skipped").isEqualTo(total);
        assertThat(slowSeqs.get(slowSeqs.size() - 1)).isEqualTo(total);
        assertThat(counter(vertx, MeterNames.STREAM_FRAMES_SKIPPED)).isEqualTo(skipped);
        ctx.completeNow();
      })));
  }

  /** Publishes samples in chunks, each once the healthy client has the previous chunk: it never falls behind. */
  private Future<Void> publishPaced(Vertx vertx, WsClient healthy, int from, int to, int chunk) {
    if (from > to) {
      return Future.succeededFuture();
    }
    int last = Math.min(to, from + chunk - 1);
    for (int seq = from; seq <= last; seq++) {
      vertx.eventBus().publish(Addresses.METRICS_SYSTEM, Samples.bigSystem("n1", seq));
    }
    return healthy.await(WsClient.sample("system", "n1", last)).compose(f -> publishPaced(vertx, healthy, last + 1, to, chunk));
  }
}
