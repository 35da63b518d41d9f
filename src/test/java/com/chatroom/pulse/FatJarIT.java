package com.chatroom.pulse;

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

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The whole node as a user runs it: {@code java -jar target/chatroom-pulse.jar}, then real clients. */
@ExtendWith(VertxExtension.class)
@DisplayName("The fat JAR, end to end")
class FatJarIT {

  private JarProcess jar;
  private Process process;
  private HttpClient http;
  private WebSocketClient ws;

  private Process launch(Map<String, String> env, String... args) throws IOException {
    jar = JarProcess.start(env, List.of(), args);
    process = jar.process();
    return process;
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (jar != null) {
      jar.close();
    }
  }

  private Future<Buffer> get(int port, String uri, int expectedStatus) {
    return http.request(HttpMethod.GET, port, "127.0.0.1", uri)
      .compose(req -> req.send())
      .compose(resp -> resp.statusCode() == expectedStatus ? resp.body()
        : resp.body().compose(b -> Future.failedFuture("GET " + uri + " answered " + resp.statusCode() + ": " + b)));
  }

  /** Polls readiness on Vert.x timers until it answers 200 (the process needs a few seconds to start). */
  private Future<Buffer> awaitReady(Vertx vertx, int port) {
    Promise<Buffer> ready = Promise.promise();
    long timer = vertx.setPeriodic(100, id -> get(port, "/health/ready", 200).onSuccess(b -> {
      vertx.cancelTimer(id);
      ready.tryComplete(b);
    }));
    return ready.future().onComplete(x -> vertx.cancelTimer(timer));
  }

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  @DisplayName("starts with java -jar, streams live host samples over /metrics/stream and exports /metrics")
  void streamsLiveSamples(Vertx vertx, VertxTestContext ctx) throws IOException {
    int port = Edge.freePort();
    launch(Map.of("HTTP_PORT", Integer.toString(port), "INSTANCE_ID", "e2e-node"),
      "-instances", "3", "-conf", "{\"sampler\":{\"interval_ms\":250}}");
    http = vertx.createHttpClient();
    ws = WsClient.newClient(vertx, 0);
    WsClient[] streamClient = new WsClient[1];
    awaitReady(vertx, port)
      .compose(b -> WsClient.connect(ws, port, null))
      .compose(client -> client.await(f -> client.ofType("system").size() >= 3).map(x -> {
        streamClient[0] = client;
        return client;
      }))
      .compose(client -> {
        List<JsonObject> samples = client.ofType("system");
        ctx.verify(() -> {
          assertThat(client.frames().get(0).getString("type")).isEqualTo("hello");
          assertThat(client.frames().get(0).getString("instance")).isEqualTo("e2e-node");
          for (int i = 1; i < samples.size(); i++) {
            JsonObject d = samples.get(i).getJsonObject("data");
            assertThat(d.getString("instance")).isEqualTo("e2e-node");
            assertThat(d.getLong("seq")).isEqualTo(samples.get(i - 1).getJsonObject("data").getLong("seq") + 1);
            assertThat(d.getDouble("cpu_percent")).isBetween(0d, 100d);
            assertThat(d.getDouble("memory_available_mb")).isPositive();
            assertThat(d.getJsonArray("load_average")).hasSize(3);
            assertThat(d.getDouble("timestamp")).isCloseTo(System.currentTimeMillis() / 1000d, org.assertj.core.data.Offset.offset(10d));
          }
        });
        return get(port, "/metrics", 200);
      })
      .compose(metrics -> {
        String text = metrics.toString();
        ctx.verify(() -> {
          assertThat(text).contains("pulse_sampler_samples_total", "pulse_sampler_duration_seconds_count",
            "pulse_host_cpu_utilization", "pulse_host_memory_available_bytes", "pulse_host_tcp_connections_established",
            "pulse_stream_subscribers 1.0", "pulse_stream_frames_sent_total", "pulse_stream_frames_skipped_total",
            "pulse_host_disk_utilization{mount=\"/\"}", "vertx_http_server_", "jvm_memory_used_bytes");
        });
        return get(port, "/metrics/stream", 400);
      })
      .compose(b -> get(port, "/api/metrics/current", 200))
      .compose(current -> {
        ctx.verify(() -> assertThat(new JsonObject(current).getString("instance")).isEqualTo("e2e-node"));
        jar.terminate();
        // graceful shutdown tells stream clients to go elsewhere: 1001 "going away"
        return streamClient[0].closedWith();
      })
      .compose(code -> {
        ctx.verify(() -> {
          assertThat(code).as("close code on SIGTERM").isEqualTo((short) 1001);
          assertThat(streamClient[0].ws.closeReason()).contains("reconnect");
        });
        // wait on a worker: the client's event loop must stay free to answer the server's closing handshake
        return vertx.executeBlocking(() -> process.waitFor(15, TimeUnit.SECONDS));
      })
      .onComplete(ctx.succeeding(exited -> ctx.verify(() -> {
        assertThat(exited).as("exits on SIGTERM").isTrue();
        String log = jar.output();
        assertThat(log).contains("Chat-Room Pulse is up: instance e2e-node", "(3 edge instances)", "every 250 ms");
        assertThat(log).doesNotContain("Exception", "\tat ", "SEVERE", "ERROR");
        ctx.completeNow();
      })));
  }

  /** Polls a JSON endpoint on Vert.x timers until the predicate holds. */
  private Future<JsonObject> until(Vertx vertx, int port, String uri, java.util.function.Predicate<JsonObject> done) {
    return get(port, uri, 200).map(JsonObject::new).recover(e -> Future.succeededFuture(new JsonObject()))
      .compose(j -> done.test(j) ? Future.succeededFuture(j)
        : Future.<Void>future(p -> vertx.setTimer(100, id -> p.complete())).compose(v -> until(vertx, port, uri, done)));
  }

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  @DisplayName("with REDIS_URL, history is kept in Redis and survives kill -9 of the JAR")
  void historyInRedisSurvivesCrash(Vertx vertx, VertxTestContext ctx) throws Exception {
    RedisServer redis = new RedisServer().start();
    int port = Edge.freePort();
    Map<String, String> env = Map.of("HTTP_PORT", Integer.toString(port), "INSTANCE_ID", "e2e-redis",
      "REDIS_URL", redis.url(), "SAMPLER_INTERVAL_MS", "200");
    launch(env);
    http = vertx.createHttpClient();
    ws = WsClient.newClient(vertx, 0);
    long[] before = new long[1];
    awaitReady(vertx, port)
      .compose(ready -> {
        ctx.verify(() -> assertThat(ready.toString()).contains("\"backend\":\"redis\""));
        return until(vertx, port, "/api/metrics/summary?hours=1", s -> s.getLong("sample_count", 0L) >= 5);
      })
      .compose(summary -> {
        before[0] = summary.getLong("sample_count");
        ctx.verify(() -> {
          assertThat(summary.getJsonObject("cpu").getDouble("max")).isBetween(0d, 100d);
          assertThat(summary.getJsonObject("current").getString("instance")).isEqualTo("e2e-redis");
        });
        return WsClient.connect(ws, port, null, "/metrics/stream?streams=system&backfill_minutes=5");
      })
      .compose(client -> client.awaitType("backfill_done").map(done -> {
        ctx.verify(() -> assertThat(done.getInteger("frames")).isGreaterThanOrEqualTo(5));
        return client;
      }))
      .compose(client -> vertx.executeBlocking(() -> {
        // a crash, not a shutdown: no flush, no goodbye
        process.destroyForcibly().waitFor(15, TimeUnit.SECONDS);
        return null;
      }))
      .compose(v -> get(port, "/health/live", 200).transform(ar -> Future.succeededFuture(ar.succeeded())))
      .compose(stillUp -> {
        ctx.verify(() -> assertThat(stillUp).as("the killed JAR no longer answers").isFalse());
        try {
          launch(env);
        } catch (IOException e) {
          return Future.failedFuture(e);
        }
        return awaitReady(vertx, port);
      })
      .compose(ready -> get(port, "/api/metrics/history?metric=cpu_percent&step=1&instance=e2e-redis&from="
        + (System.currentTimeMillis() / 1000d - 600), 200))
      .onComplete(ar -> {
        try {
          redis.close();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        ctx.verify(() -> {
          assertThat(ar.succeeded()).as(String.valueOf(ar.cause())).isTrue();
          long samples = new JsonObject(ar.result()).getJsonArray("points").stream()
            .mapToLong(p -> ((JsonObject) p).getLong("count")).sum();
          assertThat(samples).as("samples from before the crash are still in history").isGreaterThanOrEqualTo(before[0]);
        });
        ctx.completeNow();
      });
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("with LOG_FORMAT=json every log line is a JSON object carrying level, logger, message and instance")
  void jsonLogs(Vertx vertx, VertxTestContext ctx) throws IOException {
    int port = Edge.freePort();
    launch(Map.of("HTTP_PORT", Integer.toString(port), "INSTANCE_ID", "json-logs", "LOG_FORMAT", "json"));
    http = vertx.createHttpClient();
    awaitReady(vertx, port).onComplete(ctx.succeeding(ready -> ctx.verify(() -> {
      List<String> lines = jar.output().lines().filter(l -> !l.isBlank()).toList();
      assertThat(lines).isNotEmpty();
      for (String line : lines) {
        JsonObject json = new JsonObject(line);
        assertThat(json.getString("instance")).as(line).isEqualTo("json-logs");
        assertThat(json.getString("level")).isIn("INFO", "WARN", "ERROR", "DEBUG");
        assertThat(json.getString("@timestamp")).isNotBlank();
        assertThat(json.getString("logger_name")).isNotBlank();
        assertThat(json.getString("message")).isNotNull();
      }
      assertThat(lines).anySatisfy(l -> assertThat(new JsonObject(l).getString("message")).contains("Chat-Room Pulse is up"));
      ctx.completeNow();
    })));
  }

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  @DisplayName("chat and ingest are wired in the JAR: a nickname joins, sends and receives; an app sample is ingested and streamed")
  void chatAndIngest(Vertx vertx, VertxTestContext ctx) throws IOException {
    int port = Edge.freePort();
    String token = "e2e-ingest-token-0123456789";
    launch(Map.of("HTTP_PORT", Integer.toString(port), "INSTANCE_ID", "e2e-chat", "CHAT_ALLOW_ANONYMOUS", "true",
      "PULSE_INGEST_TOKEN", token, "SAMPLER_ENABLED", "false"));
    http = vertx.createHttpClient();
    ws = WsClient.newClient(vertx, 0);
    JsonObject sample = new JsonObject().put("timestamp", System.currentTimeMillis() / 1000d).put("active_users", 3)
      .put("total_messages", 1200).put("messages_per_minute", 35).put("ai_requests_per_minute", 4)
      .put("file_transfers_active", 1).put("database_connections", 5).put("response_time_avg", 42.5).put("error_rate", 0.02)
      .put("instance", "seed-server");
    WsClient[] clients = new WsClient[2];
    awaitReady(vertx, port)
      .compose(b -> WsClient.connect(ws, port, null, "/metrics/stream?streams=app&instances=seed-server"))
      .compose(stream -> {
        clients[1] = stream;
        return WsClient.connect(ws, port, null, "/chat?nickname=e2e");
      })
      .compose(chat -> {
        clients[0] = chat;
        return chat.awaitType("hello");
      })
      .compose(hello -> {
        clients[0].ws.writeTextMessage("{\"type\":\"join\",\"room\":\"lobby\"}");
        return clients[0].awaitType("joined");
      })
      .compose(joined -> {
        clients[0].ws.writeTextMessage("{\"type\":\"send\",\"room\":\"lobby\",\"id\":\"e1\",\"text\":\"hello from the jar\"}");
        return clients[0].await(f -> "message".equals(f.getString("type")) && f.getLong("seq") == 1);
      })
      .compose(message -> {
        ctx.verify(() -> assertThat(message.getString("text")).isEqualTo("hello from the jar"));
        return http.request(new io.vertx.core.http.RequestOptions().setMethod(HttpMethod.POST).setPort(port).setHost("127.0.0.1")
          .setURI("/api/metrics/app").putHeader("Authorization", "Bearer " + token).putHeader("Content-Type", "application/json"));
      })
      .compose(req -> req.send(sample.encode()))
      .compose(resp -> {
        ctx.verify(() -> assertThat(resp.statusCode()).isEqualTo(202));
        return clients[1].await(f -> "app".equals(f.getString("type")));
      })
      .onComplete(ctx.succeeding(app -> ctx.verify(() -> {
        assertThat(app.getJsonObject("data").getLong("active_users")).isEqualTo(3);
        assertThat(clients[0].ofType("ack")).singleElement().satisfies(a -> assertThat(a.getLong("seq")).isEqualTo(1));
        assertThat(jar.output()).contains("chat on", "bridge off").doesNotContain("ERROR", "Exception");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("refuses to start on invalid configuration, naming the key")
  void invalidConfig() throws Exception {
    launch(Map.of("HTTP_PORT", "eighty", "SAMPLER_INTERVAL_MS", "1000"));
    assertThat(process.waitFor(45, TimeUnit.SECONDS)).as("the process stops by itself").isTrue();
    assertThat(process.exitValue()).isNotZero();
    assertThat(jar.output()).contains("invalid config key 'http.port'").contains("eighty");
  }

  /** redis-cli against the test's own server, for what a node left behind after it exited. */
  private static String redisCli(RedisServer redis, String... args) throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>(List.of("redis-cli", "-p", Integer.toString(redis.port())));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return out;
  }

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  @DisplayName("SIGTERM drains: chat clients get 1001 'reconnect', and the last samples and their minute rollup are in Redis after exit")
  void sigtermDrainsChatAndFlushesHistory(Vertx vertx, VertxTestContext ctx) throws Exception {
    RedisServer redis = new RedisServer().start();
    int port = Edge.freePort();
    String instance = "e2e-drain";
    launch(Map.of("HTTP_PORT", Integer.toString(port), "INSTANCE_ID", instance, "REDIS_URL", redis.url(),
      "SAMPLER_INTERVAL_MS", "200", "CHAT_ALLOW_ANONYMOUS", "true"));
    http = vertx.createHttpClient();
    ws = WsClient.newClient(vertx, 0);
    WsClient[] clients = new WsClient[2];
    JsonObject[] lastSeen = new JsonObject[1];
    awaitReady(vertx, port)
      .compose(ready -> WsClient.connect(ws, port, null, "/chat?nickname=drain"))
      .compose(chat -> {
        clients[0] = chat;
        chat.ws.writeTextMessage("{\"type\":\"join\",\"room\":\"lobby\"}");
        return chat.awaitType("joined");
      })
      .compose(joined -> WsClient.connect(ws, port, null, "/metrics/stream?streams=system"))
      .compose(stream -> {
        clients[1] = stream;
        return stream.await(f -> stream.ofType("system").size() >= 5);
      })
      .compose(enough -> {
        List<JsonObject> samples = clients[1].ofType("system");
        lastSeen[0] = samples.get(samples.size() - 1).getJsonObject("data");
        jar.terminate(); // SIGTERM, keeping the shutdown's log
        return Future.all(clients[0].closedWith(), clients[1].closedWith());
      })
      .compose(closed -> {
        ctx.verify(() -> {
          assertThat((Short) closed.resultAt(0)).as("chat close code on SIGTERM").isEqualTo((short) 1001);
          assertThat(clients[0].ws.closeReason()).contains("reconnect");
          assertThat((Short) closed.resultAt(1)).as("stream close code on SIGTERM").isEqualTo((short) 1001);
        });
        return vertx.executeBlocking(() -> process.waitFor(30, TimeUnit.SECONDS));
      })
      .compose(exited -> vertx.executeBlocking(() -> {
        double ts = lastSeen[0].getDouble("timestamp");
        long hour = (long) Math.floor(ts / 3600) * 3600;
        long minute = (long) Math.floor(ts / 60) * 60;
        long day = (long) Math.floor(ts / 86400) * 86400;
        String raw = redisCli(redis, "ZRANGE", "pulse:hist:system:" + instance + ":raw:" + hour, "-1", "-1");
        String minutes = redisCli(redis, "HKEYS", "pulse:hist:system:" + instance + ":min:" + day);
        return new Object[] {exited, raw, minutes, minute};
      }))
      .onComplete(ar -> {
        try {
          redis.close();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        ctx.verify(() -> {
          assertThat(ar.succeeded()).as(String.valueOf(ar.cause())).isTrue();
          Object[] r = ar.result();
          assertThat((boolean) r[0]).as("exits on SIGTERM").isTrue();
          // the newest raw sample in Redis is at least the last one the client saw before SIGTERM
          JsonObject newest = new JsonObject((String) r[1]);
          assertThat(newest.getLong("seq")).isGreaterThanOrEqualTo(lastSeen[0].getLong("seq"));
          // and the minute it fell in was rolled up on the way out, though it had not ended
          assertThat(((String) r[2]).lines()).contains(r[3] + ":cpu_percent");
          String log = jar.output();
          assertThat(log).contains("Shutting down: readiness is now 503", "Drained in").doesNotContain("Drain incomplete", "ERROR");
        });
        ctx.completeNow();
      });
  }
}
