package com.chatroom.pulse.reliability;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.JarProcess;
import com.chatroom.pulse.RedisServer;
import com.chatroom.pulse.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Redis killed ({@code SIGKILL}) under a 1 Hz sampler, chat traffic, a stream subscriber and a firing alert, against
 * the fat JAR; restarted on the same port after {@code pulse.outage.seconds} (15 in CI; {@code -Dpulse.long=true}: 60).
 * Redis keeps an append-only file as deployed ({@code appendfsync everysec}), so what it acknowledged survives the kill.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Redis outage under traffic, the whole node from the fat JAR")
class RedisOutageIT {

  private static final Logger LOG = LoggerFactory.getLogger(RedisOutageIT.class);
  private static final String NODE = "outage-node";
  private static final String ROOM = "outage-room";
  private static final int OUTAGE_SECONDS = Integer.getInteger("pulse.outage.seconds",
    Boolean.getBoolean("pulse.long") ? 60 : 15);

  private JarProcess jar;
  private RedisServer redis;
  private HttpClient http;
  private WebSocketClient ws;
  private HttpServer receiver;

  @AfterEach
  void stop() throws InterruptedException {
    if (jar != null) {
      jar.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  /** One chat message the sender has tried to post: its id, when it was acked, with which seq, and refusals before. */
  private static final class Sent {
    final String id;
    long seq = -1;
    long ackedAtMs;
    final List<String> refusals = new ArrayList<>();

    Sent(String id) {
      this.id = id;
    }
  }

  @Test
  @Timeout(value = 420, timeUnit = TimeUnit.SECONDS)
  @DisplayName("the node stays live and ready-degraded; afterwards no sample of the outage is missing, every acked chat message is in history once, and the firing alert was notified once")
  void redisOutageUnderTraffic(Vertx vertx, VertxTestContext ctx, @TempDir Path redisDir) throws Exception {
    redis = new RedisServer(redisDir).start();
    int port = Edge.freePort();
    int hookPort = Edge.freePort();
    List<JsonObject> notifications = new CopyOnWriteArrayList<>();
    receiver = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      notifications.add(new JsonObject(body).put("_key", req.getHeader("Idempotency-Key")));
      req.response().end("ok");
    }));
    // a rule that fires on the first sample and holds; one webhook channel, no repeats
    JsonObject conf = new JsonObject()
      .put("alerts", new JsonObject()
        .put("rules", new JsonArray().add(new JsonObject().put("name", "always_on").put("metric", "cpu_percent")
          .put("op", ">=").put("threshold", 0).put("for", "0s").put("severity", "warning")))
        .put("channels", new JsonArray().add(new JsonObject().put("name", "hook").put("type", "webhook")
          .put("url", "http://127.0.0.1:" + hookPort + "/hook").put("repeat_interval", 0))))
      .put("chat", new JsonObject().put("messages_per_second", 50).put("burst", 50).put("history_size", 2000));
    jar = JarProcess.start(Map.of("HTTP_PORT", Integer.toString(port), "INSTANCE_ID", NODE, "REDIS_URL", redis.url(),
      "SAMPLER_INTERVAL_MS", "1000", "CHAT_ALLOW_ANONYMOUS", "true", "OPTIMIZER_ENABLED", "false"),
      List.of(), "-conf", conf.encode());
    http = vertx.createHttpClient();
    ws = WsClient.newClient(vertx, 0);

    Map<String, Sent> sent = new LinkedHashMap<>();
    int[] next = {1};
    String[] inFlight = {null};
    long[] outage = {0, 0}; // kill and restart, epoch ms
    long[] senderTimer = {-1};
    List<Long> liveFailures = new CopyOnWriteArrayList<>();
    List<String> readyDuringOutage = new CopyOnWriteArrayList<>();
    WsClient[] clients = new WsClient[3]; // stream, chat sender, chat reader afterwards
    JsonObject[] firingBefore = new JsonObject[1];
    long[] flushedMs = {0};

    receiver.listen(hookPort, "127.0.0.1")
      .compose(s -> until(vertx, port, "/health/ready", 200, r -> true, 60_000))
      .compose(r -> WsClient.connect(ws, port, null, "/metrics/stream?streams=system,alerts"))
      .compose(stream -> {
        clients[0] = stream;
        return WsClient.connect(ws, port, null, "/chat?nickname=sender");
      })
      .compose(chat -> {
        clients[1] = chat;
        return within(vertx, chat.awaitType("hello"), 30_000, "chat hello");
      })
      .compose(hello -> {
        clients[1].ws.writeTextMessage(new JsonObject().put("type", "join").put("room", ROOM).encode());
        return within(vertx, clients[1].awaitType("joined"), 30_000, "joined " + clients[1].frames());
      })
      .compose(joined -> {
        WsClient chat = clients[1];
        // one message in flight at a time, every 100 ms; a refused one is resent with the same id (de-duplicated)
        chat.ws.textMessageHandler(null);
        chat.ws.textMessageHandler(text -> {
          JsonObject f = new JsonObject(text);
          String type = f.getString("type");
          String id = f.getString("id");
          if ("ack".equals(type) && id != null && id.equals(inFlight[0])) {
            Sent s = sent.get(id);
            s.seq = f.getLong("seq");
            s.ackedAtMs = System.currentTimeMillis();
            inFlight[0] = null;
            next[0]++;
          } else if ("error".equals(type) && id != null && id.equals(inFlight[0])) {
            sent.get(id).refusals.add(f.getString("code"));
            inFlight[0] = null;
          }
        });
        senderTimer[0] = vertx.setPeriodic(100, t -> {
          if (inFlight[0] == null) {
            String id = "m" + next[0];
            sent.computeIfAbsent(id, Sent::new);
            inFlight[0] = id;
            chat.ws.writeTextMessage(new JsonObject().put("type", "send").put("room", ROOM).put("id", id)
              .put("text", "message " + next[0]).encode());
          }
        });
        // warm-up: the alert fired and was notified, samples are in history, messages are acked
        return until(vertx, () -> notifications.size() >= 1 && clients[0].ofType("system").size() >= 5
          && next[0] > 20, 60_000);
      })
      .compose(v -> getJson(port, "/api/alerts?rule=always_on"))
      .compose(alerts -> {
        ctx.verify(() -> assertThat(alerts.getJsonArray("alerts")).hasSize(1));
        firingBefore[0] = alerts.getJsonArray("alerts").getJsonObject(0);
        ctx.verify(() -> assertThat(firingBefore[0].getString("state")).isEqualTo("firing"));
        return vertx.executeBlocking(() -> {
          redis.kill();
          outage[0] = System.currentTimeMillis();
          return null;
        });
      })
      .compose(v -> {
        LOG.info("Redis killed; outage of {} s", OUTAGE_SECONDS);
        // during the outage: liveness and readiness polled every 250 ms
        long probe = vertx.setPeriodic(250, t -> {
          get(port, "/health/live").onComplete(ar -> {
            if (ar.failed() || ar.result().statusCode != 200) {
              liveFailures.add(System.currentTimeMillis());
            }
          });
          get(port, "/health/ready").onSuccess(r -> readyDuringOutage.add(r.statusCode + " " + r.body));
        });
        return until(vertx, () -> readyDuringOutage.stream().anyMatch(r -> r.contains("\"state\":\"degraded\"")), 20_000)
          .compose(x -> Future.<Void>future(p -> vertx.setTimer(Math.max(1, outage[0] + OUTAGE_SECONDS * 1000L - System.currentTimeMillis()),
            id -> p.complete())))
          .onComplete(x -> vertx.cancelTimer(probe));
      })
      .compose(v -> vertx.executeBlocking(() -> {
        redis.start();
        outage[1] = System.currentTimeMillis();
        return null;
      }))
      .compose(v -> until(vertx, port, "/health/ready", 200,
        r -> r.contains("\"state\":\"ok\"") && r.contains("\"buffered\":0"), 60_000))
      .compose(r -> {
        flushedMs[0] = System.currentTimeMillis() - outage[1];
        int target = next[0] + 20;
        // traffic goes on after the restart: twenty more messages acked
        return until(vertx, () -> next[0] > target, 60_000);
      })
      .compose(v -> {
        vertx.cancelTimer(senderTimer[0]);
        return until(vertx, () -> inFlight[0] == null, 10_000);
      })
      .recover(e -> Future.failedFuture(new AssertionError(e.getMessage() + " (sender at m" + next[0] + ", in flight "
        + inFlight[0] + ")", e)))
      .compose(v -> WsClient.connect(ws, port, null, "/chat?nickname=reader"))
      .compose(reader -> {
        clients[2] = reader;
        return within(vertx, reader.awaitType("hello"), 30_000, "reader hello");
      })
      .compose(hello -> {
        clients[2].ws.writeTextMessage(new JsonObject().put("type", "join").put("room", ROOM).put("since", 0).encode());
        long last = sent.values().stream().mapToLong(s -> s.seq).max().orElse(0);
        return within(vertx, clients[2].await(f -> "message".equals(f.getString("type")) && f.getLong("seq") == last), 30_000,
          "room history up to seq " + last + " for the reader: got " + clients[2].ofType("message").size() + " messages, "
            + clients[2].ofType("joined") + clients[2].ofType("error"));
      })
      .compose(m -> {
        // the window from 5 s before the kill to the restart, plus the samples the stream saw after it
        double from = outage[0] / 1000d - 5;
        double to = System.currentTimeMillis() / 1000d - 2;
        long expected = clients[0].ofType("system").stream().map(f -> f.getJsonObject("data").getDouble("timestamp"))
          .filter(t -> t >= from && t < to).count();
        String uri = "/api/metrics/history?metric=cpu_percent&step=1&instance=" + NODE + "&from=" + from + "&to=" + to;
        return until(vertx, port, uri, 200, b -> rawCount(new JsonObject(b)) >= expected, 30_000)
          .map(b -> new JsonObject().put("history", new JsonObject(b)).put("expected", expected).put("from", from).put("to", to));
      })
      .compose(result -> getJson(port, "/api/alerts?rule=always_on").map(a -> result.put("alerts", a)))
      .onComplete(ctx.succeeding(result -> ctx.verify(() -> {
        // 1. the node stayed up, and ready with history degraded, for the whole outage
        assertThat(liveFailures).as("liveness failures during the outage").isEmpty();
        assertThat(readyDuringOutage).isNotEmpty().allSatisfy(r -> assertThat(r).startsWith("200 "));
        long buffered = readyDuringOutage.stream().filter(r -> r.contains("\"state\":\"degraded\"")).count();
        assertThat(buffered).as("readiness answers reporting history degraded").isPositive();

        // 2. the stream saw every tick (no seq gap), and history has every sample of the window
        List<Long> seqs = clients[0].ofType("system").stream().map(f -> f.getJsonObject("data").getLong("seq")).toList();
        for (int i = 1; i < seqs.size(); i++) {
          assertThat(seqs.get(i)).as("stream seq after " + seqs.get(i - 1)).isEqualTo(seqs.get(i - 1) + 1);
        }
        long expected = result.getLong("expected");
        long inHistory = rawCount(result.getJsonObject("history"));
        assertThat(expected).as("samples in the window").isGreaterThanOrEqualTo(OUTAGE_SECONDS);
        assertThat(inHistory).as("samples of the window in history after the outage").isEqualTo(expected);

        // 3. chat: every acked message is in history once, under its acked seq, with no gap
        List<JsonObject> history = clients[2].ofType("message").stream().filter(f -> ROOM.equals(f.getString("room"))).toList();
        List<Long> historySeqs = history.stream().map(f -> f.getLong("seq")).toList();
        assertThat(historySeqs).as("room history").doesNotHaveDuplicates().isSorted();
        assertThat(historySeqs.get(historySeqs.size() - 1) - historySeqs.get(0) + 1).as("no gap").isEqualTo(historySeqs.size());
        Map<String, Long> byId = new HashMap<>();
        history.forEach(f -> byId.merge(f.getString("id"), f.getLong("seq"), (a, b) -> -1L));
        List<Sent> acked = sent.values().stream().filter(s -> s.seq > 0).toList();
        assertThat(acked).allSatisfy(s -> assertThat(byId.get(s.id)).as("history seq of " + s.id).isEqualTo(s.seq));
        assertThat(byId).as("one history entry per acked id").hasSameSizeAs(acked);
        List<Sent> ackedDuring = acked.stream().filter(s -> s.ackedAtMs >= outage[0] && s.ackedAtMs < outage[1]).toList();
        List<Sent> refused = sent.values().stream().filter(s -> !s.refusals.isEmpty()).toList();
        long refusals = refused.stream().mapToLong(s -> s.refusals.size()).sum();
        assertThat(ackedDuring.size() + refusals).as("chat traffic went on during the outage").isPositive();
        assertThat(refused).as("sends refused while Redis was away").allSatisfy(s -> {
          assertThat(s.refusals).containsOnly("unavailable");
          assertThat(s.seq).as(s.id + " acked after a resend").isPositive();
        });

        // 4. the alert fired once before the outage, is still firing, and was not notified again
        JsonArray active = result.getJsonObject("alerts").getJsonArray("alerts");
        assertThat(active).hasSize(1);
        assertThat(active.getJsonObject(0).getString("state")).isEqualTo("firing");
        assertThat(active.getJsonObject(0).getValue("active_since")).isEqualTo(firingBefore[0].getValue("active_since"));
        assertThat(notifications).as("notifications to the webhook").hasSize(1);
        assertThat(notifications.get(0).getString("status")).isEqualTo("firing");

        assertThat(jar.process().isAlive()).isTrue();
        assertThat(jar.output()).as("the JAR's log").doesNotContain("refused a message", "Exception in", "ERROR");
        Figures.record(Boolean.getBoolean("pulse.long") ? "redis-outage-long" : "redis-outage", new JsonObject()
          .put("outage_seconds", (outage[1] - outage[0]) / 1000d)
          .put("samples_in_window", expected).put("samples_in_history", inHistory)
          .put("readiness_answers_during_outage", readyDuringOutage.size()).put("degraded_answers", buffered)
          .put("max_buffered", readyDuringOutage.stream().mapToLong(RedisOutageIT::buffered).max().orElse(0))
          .put("flushed_after_restart_ms", flushedMs[0])
          .put("chat_acked", acked.size()).put("chat_acked_during_outage", ackedDuring.size())
          .put("chat_messages_refused", refused.size()).put("chat_refusals", refusals)
          .put("first_ack_after_restart_ms", acked.stream().filter(s -> s.ackedAtMs >= outage[1])
            .mapToLong(s -> s.ackedAtMs - outage[1]).min().orElse(-1))
          .put("notifications", notifications.size()));
        Figures.keepLog("redis-outage-jar", jar.output());
        ctx.completeNow();
      })));
  }

  private static <T> Future<T> within(Vertx vertx, Future<T> future, long ms, String what) {
    Promise<T> result = Promise.promise();
    long timer = vertx.setTimer(ms, id -> result.tryFail("not within " + ms + " ms: " + what));
    future.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        result.tryComplete(ar.result());
      } else {
        result.tryFail(ar.cause());
      }
    });
    return result.future();
  }

  private static long buffered(String readiness) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"buffered\":(\\d+)").matcher(readiness);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  private static long rawCount(JsonObject history) {
    JsonArray points = history.getJsonArray("points");
    return points == null ? 0 : points.stream().mapToLong(p -> ((JsonObject) p).getLong("count")).sum();
  }

  private record Answer(int statusCode, String body) {
  }

  private Future<Answer> get(int port, String uri) {
    return http.request(HttpMethod.GET, port, "127.0.0.1", uri)
      .compose(req -> req.send().compose(resp -> resp.body().map(b -> new Answer(resp.statusCode(), b.toString()))));
  }

  private Future<JsonObject> getJson(int port, String uri) {
    return get(port, uri).compose(a -> a.statusCode == 200 ? Future.succeededFuture(new JsonObject(a.body))
      : Future.failedFuture("GET " + uri + " answered " + a.statusCode + ": " + a.body));
  }

  /** Polls on Vert.x timers until the answer has the status and the body matches; fails with the last answer. */
  private Future<String> until(Vertx vertx, int port, String uri, int status, Predicate<String> done, long timeoutMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    Promise<String> result = Promise.promise();
    String[] last = {"no answer"};
    poll(vertx, () -> get(port, uri).map(a -> {
      last[0] = a.statusCode + " " + a.body;
      return a.statusCode == status && done.test(a.body) ? a.body : null;
    }).otherwise(e -> {
      last[0] = e.toString();
      return null;
    }), deadline, result, () -> "GET " + uri + ": last answer " + last[0]);
    return result.future();
  }

  private static Future<Void> until(Vertx vertx, java.util.function.BooleanSupplier done, long timeoutMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    Promise<Void> result = Promise.promise();
    long timer = vertx.setPeriodic(20, id -> {
      if (done.getAsBoolean()) {
        result.tryComplete();
      } else if (System.currentTimeMillis() > deadline) {
        result.tryFail("condition not met within " + timeoutMs + " ms");
      }
    });
    return result.future().onComplete(x -> vertx.cancelTimer(timer));
  }

  private static void poll(Vertx vertx, java.util.function.Supplier<Future<String>> attempt, long deadline,
                           Promise<String> result, java.util.function.Supplier<String> failure) {
    attempt.get().onComplete(ar -> {
      if (ar.succeeded() && ar.result() != null) {
        result.tryComplete(ar.result());
      } else if (System.currentTimeMillis() > deadline) {
        result.tryFail(failure.get());
      } else {
        vertx.setTimer(100, id -> poll(vertx, attempt, deadline, result, failure));
      }
    });
  }
}
