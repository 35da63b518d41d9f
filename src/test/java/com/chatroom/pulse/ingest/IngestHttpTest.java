package com.chatroom.pulse.ingest;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.Samples;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.ApplicationMetrics;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("POST /api/metrics/app")
class IngestHttpTest {

  static final String TOKEN = "ingest-token-0123456789";
  private HttpClient http;

  /** The seed's asdict(ApplicationMetrics(...)): exactly its nine fields, Python floats and ints. */
  static JsonObject seed(int users) {
    return new JsonObject().put("timestamp", 1764146820.5).put("active_users", users).put("total_messages", 1200)
      .put("messages_per_minute", 35).put("ai_requests_per_minute", 4).put("file_transfers_active", 1)
      .put("database_connections", 5).put("response_time_avg", 42.5).put("error_rate", 0.02);
  }

  record Reply(int status, JsonObject body) {
  }

  private Future<Reply> post(int port, String token, String contentType, String body) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port).setURI("/api/metrics/app");
    if (token != null) {
      options.putHeader("Authorization", "Bearer " + token);
    }
    if (contentType != null) {
      options.putHeader("Content-Type", contentType);
    }
    return http.request(options).compose(req -> req.send(Buffer.buffer(body)))
      .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(), b.length() == 0 ? new JsonObject() : new JsonObject(b))));
  }

  /** Completes once {@code published} holds at least {@code n} records (polled on Vert.x timers). */
  private static Future<Void> published(Vertx vertx, List<ApplicationMetrics> published, int n) {
    if (published.size() >= n) {
      return Future.succeededFuture();
    }
    return Future.<Void>future(p -> vertx.setTimer(10, id -> p.complete())).compose(v -> published(vertx, published, n));
  }

  private Future<Integer> start(Vertx vertx, List<ApplicationMetrics> published) {
    http = vertx.createHttpClient();
    vertx.eventBus().<Object>localConsumer(Addresses.METRICS_APP, m -> {
      if (m.body() instanceof ApplicationMetrics a && !a.service().equals("chat-gateway")) {
        published.add(a);
      }
    });
    return Edge.deploy(vertx, new JsonObject().put("http", new JsonObject().put("ingest_token", TOKEN))).map(c -> c.http().port());
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a token is required; the seed's asdict() output is accepted as is and published as a record")
  void tokenAndSingleObject(Vertx vertx, VertxTestContext ctx) {
    List<ApplicationMetrics> published = new CopyOnWriteArrayList<>();
    int[] port = new int[1];
    List<Integer> refusals = new ArrayList<>();
    start(vertx, published)
      .compose(p -> {
        port[0] = p;
        return post(p, null, "application/json", seed(3).encode());
      })
      .compose(r -> { refusals.add(r.status()); return post(port[0], "wrong-token-0123456789", "application/json", seed(3).encode()); })
      .compose(r -> { refusals.add(r.status()); return post(port[0], TOKEN, "text/plain", seed(3).encode()); })
      .compose(r -> { refusals.add(r.status()); return post(port[0], TOKEN, "application/json; charset=utf-8", seed(3).encode()); })
      // the reply can overtake the bus delivery to this test's consumer: wait for it
      .compose(r -> published(vertx, published, 1).map(r))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertThat(refusals).containsExactly(401, 401, 415);
        assertThat(r.status()).isEqualTo(202);
        assertThat(r.body()).isEqualTo(new JsonObject().put("accepted", 1).put("rejected", new JsonArray()));
        assertThat(published).singleElement().satisfies(a -> {
          assertThat(a.activeUsers()).isEqualTo(3);
          assertThat(a.errorRate()).isEqualTo(0.02);
          assertThat(a.instance()).isEqualTo(ApplicationMetrics.DEFAULT_INSTANCE);
        });
        assertThat(Meters.registry(vertx).get(MeterNames.HTTP_AUTH_REFUSED).tags("group", "ingest", "reason", "missing").counter().count()).isEqualTo(1);
        assertThat(Meters.registry(vertx).get(MeterNames.INGEST_ACCEPTED).tags("source", "http").counter().count()).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a batch with bad items publishes the good ones and answers 207 naming each bad item's index and field")
  void batchWithBadItems(Vertx vertx, VertxTestContext ctx) {
    List<ApplicationMetrics> published = new CopyOnWriteArrayList<>();
    JsonArray batch = new JsonArray().add(seed(1)).add(seed(2).put("active_users", "many")).add(seed(3))
      .add(seed(4).put("timestamp", 1764146820500L)).add("not an object").add(Samples.app("pod-x", 9).toJson());
    start(vertx, published)
      .compose(port -> post(port, TOKEN, "application/json", batch.encode())
        .compose(mixed -> post(port, TOKEN, "application/json", new JsonArray().add(seed(1).copy().putNull("error_rate")).encode())
          .map(allBad -> List.of(mixed, allBad))))
      .compose(r -> published(vertx, published, 3).map(r))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        Reply mixed = r.get(0);
        assertThat(mixed.status()).isEqualTo(207);
        assertThat(mixed.body().getInteger("accepted")).isEqualTo(3);
        JsonArray rejected = mixed.body().getJsonArray("rejected");
        assertThat(rejected).extracting(x -> ((JsonObject) x).getInteger("index")).containsExactly(1, 3, 4);
        assertThat(rejected).extracting(x -> ((JsonObject) x).getString("field")).containsExactly("active_users", "timestamp", "$");
        assertThat(rejected.getJsonObject(1).getString("message")).contains("milliseconds");
        assertThat(published).extracting(ApplicationMetrics::activeUsers).containsExactly(1L, 3L, 42L);
        assertThat(published.get(2).instance()).isEqualTo("pod-x");
        Reply allBad = r.get(1);
        assertThat(allBad.status()).isEqualTo(400);
        assertThat(allBad.body().getString("error")).isEqualTo("no_valid_item");
        assertThat(allBad.body().getJsonArray("rejected").getJsonObject(0).getString("field")).isEqualTo("error_rate");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a corpus of malformed bodies each gets 400 (413 when too large) with the problem named, and nothing is published")
  void malformedCorpus(Vertx vertx, VertxTestContext ctx) {
    List<ApplicationMetrics> published = new CopyOnWriteArrayList<>();
    List<String[]> corpus = List.of(
      new String[] {"", "400", "malformed"},
      new String[] {"{", "400", "malformed"},
      new String[] {"null", "400", "wrong_type"},
      new String[] {"42", "400", "wrong_type"},
      new String[] {"\"text\"", "400", "wrong_type"},
      new String[] {"[]", "400", "out_of_range"},
      new String[] {"{}", "400", "missing_field"},
      new String[] {seed(1).put("active_users", -1).encode(), "400", "out_of_range"},
      new String[] {seed(1).put("active_users", 1.5).encode(), "400", "wrong_type"},
      new String[] {seed(1).put("error_rate", 1.5).encode(), "400", "out_of_range"},
      new String[] {seed(1).put("response_time_avg", "fast").encode(), "400", "wrong_type"},
      new String[] {seed(1).put("instance", "").encode(), "400", "out_of_range"},
      new String[] {"{\"timestamp\":1e400}", "400", "out_of_range"},
      new String[] {"[" + (seed(1).encode() + ",").repeat(1000) + seed(1).encode() + "]", "400", "out_of_range"},
      new String[] {"[\"" + "x".repeat(1_100_000) + "\"]", "413", "payload_too_large"});
    List<String> results = new ArrayList<>();
    int[] port = new int[1];
    Future<Void> all = start(vertx, published).compose(p -> {
      port[0] = p;
      Future<Void> f = Future.succeededFuture();
      for (String[] c : corpus) {
        f = f.compose(v -> post(port[0], TOKEN, "application/json", c[0]).map(r -> {
          results.add(r.status() + " " + r.body().getString("error"));
          return null;
        }));
      }
      return f;
    });
    all.onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      assertThat(results).containsExactlyElementsOf(corpus.stream().map(c -> c[1] + " " + c[2]).toList());
      assertThat(published).isEmpty();
      assertThat(Meters.registry(vertx).get(MeterNames.INGEST_REJECTED).tags("source", "http", "reason", "too_large").counter().count()).isEqualTo(1);
      ctx.completeNow();
    })));
  }
}
