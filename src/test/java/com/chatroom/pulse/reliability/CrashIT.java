package com.chatroom.pulse.reliability;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.JarProcess;
import com.chatroom.pulse.RedisServer;
import com.chatroom.pulse.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
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
import java.util.stream.LongStream;

import static com.chatroom.pulse.reliability.Waits.await;
import static com.chatroom.pulse.reliability.Waits.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code kill -9} of the fat JAR while anonymous chat clients send about 50 messages a second into a few rooms and an
 * alert is firing, then a restart on the same Redis (append-only file, {@code appendfsync always}). CI crashes it
 * once after 8 s of traffic; {@code -Dpulse.long=true} three times, after 30 s of traffic each.
 * <p>
 * The steps run in sequence on the test thread, awaiting Vert.x futures with deadlines (never on an event loop): the
 * scenario is a story of crashes and restarts, and a loop reads better than a chain of five nested compositions.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Crash of the fat JAR mid chat traffic, restarted on the same Redis")
class CrashIT {

  private static final Logger LOG = LoggerFactory.getLogger(CrashIT.class);
  private static final boolean LONG = Boolean.getBoolean("pulse.long");
  private static final int CYCLES = Integer.getInteger("pulse.crash.cycles", LONG ? 3 : 1);
  private static final long TRAFFIC_MS = LONG ? 30_000 : 8_000;
  private static final String NODE = "crash-node";
  private static final String RULE = "crash_always_on";
  private static final String[] ROOMS = {"crash-a", "crash-b", "crash-c"};
  private static final int SENDERS = 5;
  /** Each sender's period: 5 senders at 10 messages/s each, about 50 messages/s in all. */
  private static final long SEND_PERIOD_MS = 100;

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

  /** One anonymous chat user: its session (a stable identity across reconnects), its room and what it sent. */
  private static final class Sender {
    final int index;
    final String room;
    final String session;
    WsClient client;
    long timer = -1;
    int next = 1;
    /** Every id sent, with its text, in order. */
    final Map<String, String> sent = new LinkedHashMap<>();

    Sender(int index) {
      this.index = index;
      this.room = ROOMS[index % ROOMS.length];
      this.session = "crash-session-" + index + "-" + Long.toHexString(System.nanoTime());
    }

    String uri() {
      return "/chat?nickname=sender" + index + "&session=" + session;
    }

    void send(String id, String text) {
      sent.putIfAbsent(id, text);
      client.ws.writeTextMessage(new JsonObject().put("type", "send").put("room", room).put("id", id).put("text", text).encode());
    }

    /** The acks this connection received: id → seq. */
    Map<String, Long> acks() {
      Map<String, Long> acks = new LinkedHashMap<>();
      client.ofType("ack").forEach(a -> acks.put(a.getString("id"), a.getLong("seq")));
      return acks;
    }
  }

  @Test
  @Timeout(value = 600, timeUnit = TimeUnit.SECONDS)
  @DisplayName("every acked message is in the room's history under its seq; seqs go on without gap or reuse; a resent id is not delivered twice; samples survive; the firing alert is not re-notified")
  void crashMidChatTraffic(Vertx vertx, @TempDir Path redisDir) throws Exception {
    // appendfsync always: Redis fsyncs every write before it answers, so nothing it acknowledged is lost even if the
    // host went down with the JAR (with everysec an OS crash could lose the last second or two: acked messages,
    // de-duplication keys, and the room counter, whose rollback would hand out acked seqs a second time)
    redis = new RedisServer(redisDir, "always").start();
    int port = Edge.freePort();
    int hookPort = Edge.freePort();
    List<JsonObject> notifications = new CopyOnWriteArrayList<>();
    receiver = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      notifications.add(new JsonObject(body).put("_key", req.getHeader("Idempotency-Key")));
      req.response().end("ok");
    }));
    await(receiver.listen(hookPort, "127.0.0.1"), 10_000, "webhook receiver");
    // a rule that fires on the node's first sample and holds; one webhook channel, no repeats
    JsonObject conf = new JsonObject()
      .put("alerts", new JsonObject()
        .put("rules", new JsonArray().add(new JsonObject().put("name", RULE).put("metric", "cpu_percent")
          .put("op", ">=").put("threshold", 0).put("for", "0s").put("severity", "warning")))
        .put("channels", new JsonArray().add(new JsonObject().put("name", "hook").put("type", "webhook")
          .put("url", "http://127.0.0.1:" + hookPort + "/hook").put("repeat_interval", 0))))
      .put("chat", new JsonObject().put("messages_per_second", 50).put("burst", 50).put("history_size", 10_000));
    Map<String, String> env = Map.of("HTTP_PORT", Integer.toString(port), "INSTANCE_ID", NODE, "REDIS_URL", redis.url(),
      "SAMPLER_INTERVAL_MS", "500", "CHAT_ALLOW_ANONYMOUS", "true", "OPTIMIZER_ENABLED", "false");
    http = vertx.createHttpClient();
    ws = WsClient.newClient(vertx, 0);

    long startedAt = System.currentTimeMillis();
    jar = JarProcess.start(env, List.of(), "-conf", conf.encode());
    awaitReady(vertx, port);
    await(until(vertx, () -> notifications.size() >= 1, 60_000, () -> "the alert's first notification"), 70_000, "alert fired");
    JsonObject firing = alert(vertx, port);
    assertThat(firing.getString("state")).isEqualTo("firing");

    List<Sender> senders = new ArrayList<>();
    for (int i = 0; i < SENDERS; i++) {
      senders.add(new Sender(i));
    }
    /** Every ack any sender ever got, per room: id → seq (an id acked twice must get the same seq). */
    Map<String, Map<String, Long>> acked = new HashMap<>();
    List<JsonObject> cycles = new ArrayList<>();
    connectAndJoin(vertx, port, senders, 0);

    for (int cycle = 1; cycle <= CYCLES; cycle++) {
      JsonObject figures = new JsonObject().put("cycle", cycle);
      // traffic: every sender on its own 100 ms timer, whether or not its last message was acked
      for (Sender s : senders) {
        int c = cycle;
        s.timer = vertx.setPeriodic(SEND_PERIOD_MS, t -> {
          String id = "s" + s.index + "-c" + c + "-" + s.next++;
          s.send(id, "message " + id);
        });
      }
      long trafficFrom = System.currentTimeMillis();
      await(until(vertx, () -> System.currentTimeMillis() - trafficFrom >= TRAFFIC_MS, TRAFFIC_MS + 5_000, () -> "traffic"),
        TRAFFIC_MS + 10_000, "traffic before the crash");
      // samples in history just before the crash (what Redis has: the JAR's own buffer dies with it)
      double windowFrom = startedAt / 1000d - 5;
      double windowTo = System.currentTimeMillis() / 1000d - 1;
      long samplesBefore = rawCount(getJson(vertx, port, historyUri(windowFrom, windowTo)));

      // kill -9 while the timers are still sending
      long crashAt = System.currentTimeMillis();
      jar.crash();
      for (Sender s : senders) {
        await(s.client.closedWith(), 15_000, "sender " + s.index + " sees the connection drop");
        vertx.cancelTimer(s.timer);
      }
      // the acks received before the crash: the server sent them before it died
      long ackedThisCycle = 0;
      List<String> unacked = new ArrayList<>();
      Map<Sender, String> lastAcked = new HashMap<>();
      for (Sender s : senders) {
        Map<String, Long> acks = s.acks();
        for (Map.Entry<String, Long> a : acks.entrySet()) {
          Long before = acked.computeIfAbsent(s.room, r -> new HashMap<>()).putIfAbsent(a.getKey(), a.getValue());
          assertThat(before == null || before.equals(a.getValue())).as("one seq per id: " + a.getKey()).isTrue();
        }
        ackedThisCycle += acks.keySet().stream().filter(id -> id.contains("-c" + figures.getInteger("cycle") + "-")).count();
        assertThat(s.client.ofType("error")).as("errors to sender " + s.index + " before the crash").isEmpty();
        s.sent.keySet().stream().filter(id -> !acked.get(s.room).containsKey(id)).forEach(unacked::add);
        lastAcked.put(s, acks.keySet().stream().reduce((a, b) -> b).orElseThrow());
      }
      LOG.info("cycle {}: crashed after {} acked messages, {} sent without an ack", cycle, ackedThisCycle, unacked.size());

      // restart on the same Redis
      jar = JarProcess.start(env, List.of(), "-conf", conf.encode());
      awaitReady(vertx, port);
      long readyMs = System.currentTimeMillis() - crashAt;
      connectAndJoin(vertx, port, senders, 0);

      // 1. every acked message is in history under its seq, and history has no gap and no duplicate
      Map<String, Map<Long, String>> histories = new HashMap<>();
      for (String room : ROOMS) {
        Sender reader = senders.stream().filter(s -> s.room.equals(room)).findFirst().orElseThrow();
        Map<Long, String> history = history(reader);
        histories.put(room, history);
        long last = reader.client.ofType("joined").get(0).getLong("last_seq");
        assertThat(history.keySet()).as("history of " + room + " after the restart")
          .containsExactlyElementsOf(LongStream.rangeClosed(1, last).boxed().toList());
        Map<String, Long> byId = new HashMap<>();
        history.forEach((seq, id) -> assertThat(byId.put(id, seq)).as("one entry per id in " + room + ": " + id).isNull());
        acked.getOrDefault(room, Map.of()).forEach((id, seq) ->
          assertThat(byId.get(id)).as("history seq of acked " + id).isEqualTo(seq));
      }

      // 2. resend each sender's last acked id and every id left without an ack: a duplicate gets its first seq back
      long firstAckAt = 0;
      for (Sender s : senders) {
        String id = lastAcked.get(s);
        s.send(id, s.sent.get(id));
        JsonObject ack = await(ack(s, id), 15_000, "ack of the resent " + id);
        firstAckAt = firstAckAt == 0 ? System.currentTimeMillis() : firstAckAt;
        assertThat(ack.getBoolean("duplicate")).as("the resent " + id + " is a duplicate").isTrue();
        assertThat(ack.getLong("seq")).isEqualTo(acked.get(s.room).get(id));
      }
      int resentUnackedDuplicates = 0;
      for (String id : unacked) {
        Sender s = senders.get(Integer.parseInt(id.substring(1, id.indexOf('-'))));
        s.send(id, s.sent.get(id));
        JsonObject ack = await(ack(s, id), 15_000, "ack of the resent unacked " + id);
        Long inHistory = histories.get(s.room).entrySet().stream().filter(e -> e.getValue().equals(id)).map(Map.Entry::getKey)
          .findFirst().orElse(null);
        // sequenced before the crash (its ack lost with the process): the same seq again; never sequenced: a new one
        assertThat(ack.getBoolean("duplicate")).as(id + " duplicate iff it was in history").isEqualTo(inHistory != null);
        if (inHistory != null) {
          assertThat(ack.getLong("seq")).isEqualTo(inHistory);
          resentUnackedDuplicates++;
        }
        acked.get(s.room).put(id, ack.getLong("seq"));
      }
      // 3. new messages continue the sequence: the next seq, no gap, no reuse; every member sees each message once
      for (Sender s : senders) {
        String id = "s" + s.index + "-after-" + cycle;
        s.send(id, "after the crash " + cycle);
        JsonObject ack = await(ack(s, id), 15_000, "ack of " + id);
        assertThat(ack.getBoolean("duplicate")).isFalse();
        acked.get(s.room).put(id, ack.getLong("seq"));
      }
      for (Sender s : senders) {
        long top = acked.get(s.room).values().stream().mapToLong(Long::longValue).max().orElseThrow();
        await(s.client.await(f -> "message".equals(f.getString("type")) && f.getLong("seq") == top), 15_000,
          "sender " + s.index + " receives seq " + top);
        List<Long> seqs = s.client.ofType("message").stream().map(f -> f.getLong("seq")).toList();
        assertThat(seqs).as("messages to sender " + s.index + " since its rejoin")
          .containsExactlyElementsOf(LongStream.rangeClosed(1, top).boxed().toList());
        List<String> ids = s.client.ofType("message").stream().map(f -> f.getString("id")).toList();
        assertThat(ids).as("each id delivered once to sender " + s.index).doesNotHaveDuplicates();
      }

      // 4. samples from before the crash are still in history
      long samplesAfter = rawCount(getJson(vertx, port, historyUri(windowFrom, windowTo)));
      assertThat(samplesAfter).as("samples before the crash, in history after the restart").isGreaterThanOrEqualTo(samplesBefore);

      // 5. the alert is still firing, since the same moment, and the restarted node has evaluated several samples
      double restartedAt = (crashAt + readyMs) / 1000d;
      await(Waits.poll(vertx, () -> fetchJson(port, historyUri(restartedAt, System.currentTimeMillis() / 1000d + 1))
        .map(h -> rawCount(h) >= 6 ? h : null), 30_000, () -> "six samples after the restart"), 40_000, "samples after restart");
      JsonObject after = alert(vertx, port);
      assertThat(after.getString("state")).isEqualTo("firing");
      assertThat(after.getValue("active_since")).isEqualTo(firing.getValue("active_since"));
      assertThat(notifications).as("webhook notifications after crash " + cycle).hasSize(1);

      cycles.add(figures.put("acked_before_crash", ackedThisCycle).put("sent_without_ack", unacked.size())
        .put("unacked_found_sequenced", resentUnackedDuplicates)
        .put("restart_to_ready_ms", readyMs)
        .put("first_ack_after_crash_ms", firstAckAt - crashAt)
        .put("room_last_seqs", new JsonObject(Map.of(ROOMS[0], top(acked, ROOMS[0]), ROOMS[1], top(acked, ROOMS[1]), ROOMS[2], top(acked, ROOMS[2]))))
        .put("samples_before", samplesBefore).put("samples_after", samplesAfter)
        .put("notifications", notifications.size()));
    }

    assertThat(notifications.get(0).getString("status")).isEqualTo("firing");
    assertThat(jar.output()).as("the restarted JAR's log").doesNotContain("Exception in", "ERROR");
    Figures.record(LONG ? "crash-long" : "crash", new JsonObject().put("cycles", new JsonArray(cycles))
      .put("senders", SENDERS).put("rooms", ROOMS.length).put("messages_per_second", SENDERS * 1000 / SEND_PERIOD_MS)
      .put("traffic_ms_per_cycle", TRAFFIC_MS).put("appendfsync", "always"));
    Figures.keepLog(LONG ? "crash-long-jar" : "crash-jar", jar.output());
  }

  private static long top(Map<String, Map<String, Long>> acked, String room) {
    return acked.getOrDefault(room, Map.of()).values().stream().mapToLong(Long::longValue).max().orElse(0);
  }

  /** New connections for every sender (same session, so the same user), each joined to its room with since=0. */
  private void connectAndJoin(Vertx vertx, int port, List<Sender> senders, long since) {
    for (Sender s : senders) {
      s.client = await(WsClient.connect(ws, port, null, s.uri()), 15_000, "sender " + s.index + " connects");
      await(s.client.awaitType("hello"), 15_000, "hello");
      s.client.ws.writeTextMessage(new JsonObject().put("type", "join").put("room", s.room).put("since", since).encode());
      JsonObject joined = await(s.client.awaitType("joined"), 15_000, "joined " + s.room);
      long last = joined.getLong("last_seq");
      if (last > 0) {
        await(s.client.await(f -> "message".equals(f.getString("type")) && f.getLong("seq") == last), 30_000,
          "history of " + s.room + " up to " + last);
      }
    }
  }

  /** What a sender's connection received of its room since it (re)joined: seq → id. */
  private static Map<Long, String> history(Sender s) {
    Map<Long, String> h = new LinkedHashMap<>();
    s.client.ofType("message").forEach(f -> h.putIfAbsent(f.getLong("seq"), f.getString("id")));
    return h;
  }

  private static Future<JsonObject> ack(Sender s, String id) {
    return s.client.await(f -> id.equals(f.getString("id")) && ("ack".equals(f.getString("type")) || "error".equals(f.getString("type"))))
      .compose(f -> "ack".equals(f.getString("type")) ? Future.succeededFuture(f)
        : Future.failedFuture("refused: " + f.encode()));
  }

  private JsonObject alert(Vertx vertx, int port) {
    JsonArray alerts = getJson(vertx, port, "/api/alerts?rule=" + RULE).getJsonArray("alerts");
    assertThat(alerts).as("active alerts of " + RULE).hasSize(1);
    return alerts.getJsonObject(0);
  }

  private static String historyUri(double from, double to) {
    return "/api/metrics/history?metric=cpu_percent&step=1&instance=" + NODE + "&from=" + from + "&to=" + to;
  }

  private static long rawCount(JsonObject history) {
    JsonArray points = history.getJsonArray("points");
    return points == null ? 0 : points.stream().mapToLong(p -> ((JsonObject) p).getLong("count")).sum();
  }

  private void awaitReady(Vertx vertx, int port) {
    await(Waits.poll(vertx, () -> http.request(HttpMethod.GET, port, "127.0.0.1", "/health/ready")
      .compose(req -> req.send()).map(r -> r.statusCode() == 200 ? r : null)
      .otherwise(e -> null), 60_000, () -> "/health/ready 200"), 70_000, "the JAR is ready");
  }

  private JsonObject getJson(Vertx vertx, int port, String uri) {
    return await(fetchJson(port, uri), 15_000, "GET " + uri);
  }

  private Future<JsonObject> fetchJson(int port, String uri) {
    return http.request(HttpMethod.GET, port, "127.0.0.1", uri)
      .compose(req -> req.send().compose(resp -> resp.body().compose(b -> resp.statusCode() == 200
        ? Future.succeededFuture(new JsonObject(b))
        : Future.failedFuture("GET " + uri + " answered " + resp.statusCode() + ": " + b))));
  }
}
