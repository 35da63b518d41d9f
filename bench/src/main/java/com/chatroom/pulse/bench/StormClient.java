package com.chatroom.pulse.bench;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Load client of the connection-storm benchmark ({@code bench/run-storm.sh}). Existing clients first: one
 * {@code /metrics/stream} reader (system and app streams; the client posts {@code app-rate} app samples a second, and
 * the reader's latency is post time → receipt of those, so that it has more than one point a second) and {@code chat-members} anonymous members of one room, each sending a
 * message every {@code chat-interval-ms} that carries its send time. Then {@code connects} WebSocket connects issued
 * evenly over {@code storm-seconds}, alternating {@code /metrics/stream} and {@code /chat}, on their own event loop;
 * each one's outcome is recorded (its {@code hello}, or its close code, or the handshake failure) and the admitted ones
 * stay open to the end. The existing clients' latency is cut into before / during (storm start until every connect has
 * an outcome) / after; at the end they are checked for anything missed. Server VmRSS every 100 ms. One JSON line out.
 */
public final class StormClient {

  private static final String ROOM = "existing";
  private static final int BEFORE = 0;
  private static final int DURING = 1;
  private static final int AFTER = 2;
  private static final String[] PHASES = {"before", "during", "after"};

  private final String host;
  private final int port;
  private final int connects;
  private final int stormSeconds;
  private final int beforeSeconds;
  private final int afterSeconds;
  private final int chatMembers;
  private final int chatIntervalMs;
  private final int appRate;
  private final String ingestToken;
  private final long serverPid;
  private final int warmupConnects;

  private volatile int phase = -1;
  private volatile long stormStartNanos;
  /** Existing clients' deliveries slower than 250 ms during the storm: [arrival ms after the storm began, latency ms]. */
  private final java.util.List<double[]> slowStream = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
  private final java.util.List<double[]> slowChat = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
  private final Histogram[] streamLatency = new Histogram[3];
  private final Histogram[] chatLatency = new Histogram[3];
  private final long[] rssMaxKiB = {-1, -1, -1};
  private volatile long rssBeforeKiB = -1;
  private final Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
  private final AtomicInteger decided = new AtomicInteger();
  /** Kept reachable for the whole run: Vert.x 5 closes sockets nobody references. */
  private final List<Object> keep = java.util.Collections.synchronizedList(new ArrayList<>());
  private final Map<String, AtomicInteger> existingCloses = new ConcurrentHashMap<>();
  private Vertx vertx;
  private Context existingContext;
  private Context stormContext;
  private HttpClient http;

  // existing clients' state, touched only on existingContext
  private long streamLastSeq = -1;
  private long streamGaps;
  private long streamSkipped;
  private long appReceived;
  private long appAccepted;
  private final long[] memberLastSeq;
  private final long[] memberGaps;
  private long sent;
  private long acked;
  private long chatErrors;
  private long maxAckedSeq;
  private final List<WebSocket> members = new ArrayList<>();

  private StormClient(Options o) {
    host = o.string("host", "127.0.0.1");
    port = o.integer("port", 8888, 1, 65535);
    connects = o.integer("connects", 10_000, 0, 100_000);
    stormSeconds = o.seconds("storm-seconds", 5, 1, 600);
    beforeSeconds = o.seconds("before", 10, 1, 600);
    afterSeconds = o.seconds("after", 10, 1, 600);
    chatMembers = o.integer("chat-members", 4, 1, 100);
    chatIntervalMs = o.integer("chat-interval-ms", 250, 10, 60_000);
    appRate = o.integer("app-rate", 20, 1, 1000);
    ingestToken = o.string("ingest-token", "bench-ingest-token-0001");
    serverPid = o.integer("server-pid", 0, 0, Integer.MAX_VALUE);
    warmupConnects = o.integer("warmup-connects", 0, 0, 100_000);
    for (int p = 0; p < 3; p++) {
      streamLatency[p] = new Histogram(60_000_000L, 3);
      chatLatency[p] = new Histogram(60_000_000L, 3);
    }
    memberLastSeq = new long[chatMembers];
    memberGaps = new long[chatMembers];
  }

  public static void main(String[] args) throws Exception {
    Options.launch(args, o -> new StormClient(o)::run);
  }

  private int run() throws Exception {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2).setBlockedThreadCheckInterval(10_000)
      .setPreferNativeTransport(true));
    // two event loops: the storm's handshakes must not delay the frames of the clients it is measured against
    existingContext = vertx.getOrCreateContext();
    stormContext = vertx.getOrCreateContext();
    http = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(host).setDefaultPort(port));
    WebSocketClient existingClient = vertx.createWebSocketClient(new WebSocketClientOptions().setDefaultHost(host)
      .setDefaultPort(port).setMaxConnections(chatMembers + 2));
    WebSocketClient stormClient = vertx.createWebSocketClient(new WebSocketClientOptions().setDefaultHost(host)
      .setDefaultPort(port).setMaxConnections(connects + 10).setConnectTimeout(60_000));
    keep.add(existingClient);
    keep.add(stormClient);
    vertx.setPeriodic(100, id -> sampleRss());

    if (warmupConnects > 0) {
      long t0 = System.nanoTime();
      on(stormContext, () -> warmUp(stormClient)).get(300, TimeUnit.SECONDS);
      log("warm-up: %d connects opened and closed in %.2f s", warmupConnects, (System.nanoTime() - t0) / 1e9);
    }
    on(existingContext, () -> connectExisting(existingClient)).get(60, TimeUnit.SECONDS);
    log("existing clients connected: 1 stream reader, %d chat members in room '%s'", chatMembers, ROOM);
    on(existingContext, () -> {
      vertx.setPeriodic(1000 / appRate, id -> postApp());
      vertx.setPeriodic(chatIntervalMs, id -> sendChat());
      return Future.succeededFuture();
    }).get();
    Thread.sleep(3000);
    rssBeforeKiB = ProcStats.rssKiB(serverPid);
    phase = BEFORE;
    Thread.sleep(beforeSeconds * 1000L);

    long stormStart = System.nanoTime();
    stormStartNanos = stormStart;
    phase = DURING;
    double[] issuedIn = new double[1];
    on(stormContext, () -> storm(stormClient).map(v -> {
      issuedIn[0] = (System.nanoTime() - stormStart) / 1e9;
      return null;
    })).get(120, TimeUnit.SECONDS);
    log("%d connects issued in %.2f s", connects, issuedIn[0]);
    long deadline = System.currentTimeMillis() + 60_000;
    while (decided.get() < connects && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
    }
    double decidedIn = (System.nanoTime() - stormStart) / 1e9;
    log("%d of %d connects decided after %.2f s: %s", decided.get(), connects, decidedIn, outcomes);
    phase = AFTER;
    Thread.sleep(afterSeconds * 1000L);
    phase = 3;
    // stop the traffic, let the last frames arrive, then check the existing clients
    stopTraffic = true;
    Thread.sleep(2000);
    JsonObject live = on(existingContext, () -> http.request(HttpMethod.GET, "/health/live")
      .compose(req -> req.send()).map(r -> new JsonObject().put("status", r.statusCode()))).get(10, TimeUnit.SECONDS);
    JsonObject result = on(existingContext, () -> Future.succeededFuture(result(issuedIn[0], decidedIn, live)))
      .get(10, TimeUnit.SECONDS);
    System.out.println(result.encode());
    return 0;
  }

  private volatile boolean stopTraffic;

  private Future<Void> connectExisting(WebSocketClient client) {
    Future<WebSocket> reader = client.connect(new WebSocketConnectOptions().setAllowOriginHeader(false)
      .setURI("/metrics/stream?streams=system,app")).onSuccess(ws -> {
        keep.add(ws);
        ws.handler(this::onStreamFrame);
        ws.closeHandler(v -> existingCloses.computeIfAbsent("stream." + ws.closeStatusCode(), k -> new AtomicInteger())
          .incrementAndGet());
      });
    List<Future<?>> joined = new ArrayList<>();
    joined.add(reader);
    for (int m = 0; m < chatMembers; m++) {
      int member = m;
      Promise<Void> inRoom = Promise.promise();
      joined.add(inRoom.future());
      client.connect(new WebSocketConnectOptions().setAllowOriginHeader(false).setURI("/chat?nickname=member" + m))
        .onFailure(inRoom::fail)
        .onSuccess(ws -> {
          keep.add(ws);
          members.add(ws);
          ws.textMessageHandler(text -> onChatFrame(member, ws, text, inRoom));
          ws.closeHandler(v -> existingCloses.computeIfAbsent("chat." + ws.closeStatusCode(), k -> new AtomicInteger())
            .incrementAndGet());
        });
    }
    return Future.all(joined).mapEmpty();
  }

  private void onStreamFrame(Buffer data) {
    long received = StreamStats.wallMicros();
    byte[] frame = data.getBytes();
    FrameScan.Kind kind = FrameScan.kind(frame);
    if (kind == FrameScan.Kind.SKIPPED) {
      long count = FrameScan.count(frame);
      streamSkipped += count == FrameScan.MISSING ? 1 : count;
      return;
    }
    if (kind == FrameScan.Kind.SYSTEM) {
      long seq = FrameScan.seq(frame);
      if (streamLastSeq >= 0 && seq > streamLastSeq + 1) {
        streamGaps += seq - streamLastSeq - 1;
      }
      // checked for gaps, not timed: a system sample's timestamp is taken before the ~100 ms host read, which would
      // dominate the p99 of a reader that gets 20 app samples for each system one
      streamLastSeq = Math.max(streamLastSeq, seq);
    } else if (data.toString().startsWith("{\"type\":\"app\"") && data.toString().contains("\"service\":\"storm-bench\"")) {
      appReceived++;
      record(streamLatency, slowStream, received - FrameScan.timestampMicros(frame));
    }
  }

  private void onChatFrame(int member, WebSocket ws, String text, Promise<Void> inRoom) {
    JsonObject f = new JsonObject(text);
    switch (f.getString("type", "")) {
      case "hello" -> ws.writeTextMessage(new JsonObject().put("type", "join").put("room", ROOM).encode());
      case "joined" -> {
        memberLastSeq[member] = f.getLong("last_seq", 0L);
        inRoom.tryComplete();
      }
      case "message" -> {
        long seq = f.getLong("seq");
        if (seq > memberLastSeq[member] + 1) {
          memberGaps[member] += seq - memberLastSeq[member] - 1;
        }
        memberLastSeq[member] = Math.max(memberLastSeq[member], seq);
        String body = f.getString("text", "");
        if (body.startsWith("t=")) {
          record(chatLatency, slowChat, (System.nanoTime() - Long.parseLong(body.substring(2))) / 1000);
        }
      }
      case "ack" -> {
        acked++;
        maxAckedSeq = Math.max(maxAckedSeq, f.getLong("seq", 0L));
      }
      case "error" -> chatErrors++;
      default -> { }
    }
  }

  private void record(Histogram[] histograms, java.util.List<double[]> slow, long micros) {
    int p = phase;
    if (p >= 0 && p < 3) {
      histograms[p].recordValue(Math.max(0, Math.min(micros, 59_999_999L)));
    }
    if (p == DURING && micros > 250_000 && slow.size() < 1000) {
      slow.add(new double[] {Math.round((System.nanoTime() - stormStartNanos) / 1e5) / 10d, Math.round(micros / 100d) / 10d});
    }
  }

  /** The slow deliveries as {"at_ms": [...], "latency_ms": [...]}, in arrival order. */
  private static JsonObject slowList(java.util.List<double[]> slow) {
    io.vertx.core.json.JsonArray at = new io.vertx.core.json.JsonArray();
    io.vertx.core.json.JsonArray latency = new io.vertx.core.json.JsonArray();
    synchronized (slow) {
      slow.forEach(x -> {
        at.add(x[0]);
        latency.add(x[1]);
      });
    }
    return new JsonObject().put("at_ms", at).put("latency_ms", latency);
  }

  private void sendChat() {
    if (stopTraffic) {
      return;
    }
    for (WebSocket ws : members) {
      ws.writeTextMessage(new JsonObject().put("type", "send").put("room", ROOM).put("id", "m" + ++sent)
        .put("text", "t=" + System.nanoTime()).encode());
    }
  }

  private void postApp() {
    if (stopTraffic) {
      return;
    }
    JsonObject sample = new JsonObject().put("timestamp", System.currentTimeMillis() / 1000d).put("active_users", 1)
      .put("total_messages", 0).put("messages_per_minute", 0).put("ai_requests_per_minute", 0)
      .put("file_transfers_active", 0).put("database_connections", 0).put("response_time_avg", 1.0)
      .put("error_rate", 0.0).put("instance", "storm-bench").put("service", "storm-bench");
    http.request(new RequestOptions().setMethod(HttpMethod.POST).setURI("/api/metrics/app")
        .putHeader("Authorization", "Bearer " + ingestToken).putHeader("Content-Type", "application/json"))
      .compose(req -> req.send(sample.toBuffer()))
      .onComplete(ar -> {
        if (ar.succeeded() && ar.result().statusCode() == 202) {
          appAccepted++;
        }
      });
  }

  /**
   * Before anything is measured: {@code warmup-connects} connects, alternating endpoints, 20 at a time, each closed
   * once its hello arrives, so the server's handshake paths are compiled before the storm (what a node that has
   * served for a while has, and a freshly started one has not).
   */
  private Future<Void> warmUp(WebSocketClient client) {
    Promise<Void> done = Promise.promise();
    int[] next = {0};
    int[] finished = {0};
    Runnable[] one = new Runnable[1];
    one[0] = () -> {
      if (next[0] >= warmupConnects) {
        return;
      }
      int i = next[0]++;
      boolean stream = i % 2 == 0;
      ClientWebSocket ws = client.webSocket();
      ws.textMessageHandler(text -> ws.close());
      ws.closeHandler(v -> {
        if (++finished[0] == warmupConnects) {
          done.tryComplete();
        }
        one[0].run();
      });
      ws.connect(new WebSocketConnectOptions().setAllowOriginHeader(false)
          .setURI(stream ? "/metrics/stream?streams=alerts" : "/chat?nickname=warm" + i))
        .onFailure(e -> done.tryFail(e));
    };
    for (int k = 0; k < Math.min(20, warmupConnects); k++) {
      one[0].run();
    }
    return done.future();
  }

  /** Issues the connects evenly over the storm, alternating endpoints, every 10 ms. */
  private Future<Void> storm(WebSocketClient client) {
    Promise<Void> issued = Promise.promise();
    int ticks = stormSeconds * 100;
    long start = System.nanoTime();
    int[] done = {0};
    vertx.setPeriodic(10, id -> {
      // as many as are due by now, so a late timer catches up instead of stretching the storm
      long due = Math.min(connects, (long) Math.ceil((System.nanoTime() - start) / 1e7 * connects / (double) ticks) + 1);
      while (done[0] < due) {
        int i = done[0]++;
        String kind = i % 2 == 0 ? "stream" : "chat";
        ClientWebSocket ws = client.webSocket();
        keep.add(ws);
        boolean[] hello = {false};
        ws.textMessageHandler(text -> {
          if (!hello[0] && text.contains("\"type\":\"hello\"")) {
            hello[0] = true;
            outcome(kind + ".hello", true);
          }
        });
        ws.closeHandler(v -> outcome(kind + (hello[0] ? ".closed_after_hello." : ".closed.") + ws.closeStatusCode(),
          !hello[0]));
        ws.connect(new WebSocketConnectOptions().setAllowOriginHeader(false)
            .setURI(kind.equals("stream") ? "/metrics/stream?streams=alerts" : "/chat?nickname=storm" + i))
          .onFailure(e -> outcome(kind + ".failed." + shortCause(e), true));
      }
      if (done[0] >= connects) {
        vertx.cancelTimer(id);
        issued.complete();
      }
    });
    return issued.future();
  }

  private void outcome(String key, boolean decides) {
    outcomes.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
    if (decides) {
      decided.incrementAndGet();
    }
  }

  private static String shortCause(Throwable e) {
    String s = e.getClass().getSimpleName() + ": " + e.getMessage();
    return s.length() > 80 ? s.substring(0, 80) : s;
  }

  private void sampleRss() {
    int p = phase;
    if (serverPid > 0 && p >= 0 && p < 3) {
      rssMaxKiB[p] = Math.max(rssMaxKiB[p], ProcStats.rssKiB(serverPid));
    }
  }

  private JsonObject result(double issuedIn, double decidedIn, JsonObject live) {
    JsonObject o = new JsonObject();
    new TreeMap<>(outcomes).forEach((k, v) -> o.put(k, v.get()));
    JsonObject streamP99 = new JsonObject();
    JsonObject chatP99 = new JsonObject();
    JsonObject detail = new JsonObject();
    for (int p = 0; p < 3; p++) {
      streamP99.put(PHASES[p], Report.ms(streamLatency[p].getValueAtPercentile(99)));
      chatP99.put(PHASES[p], Report.ms(chatLatency[p].getValueAtPercentile(99)));
      detail.put(PHASES[p], new JsonObject()
        .put("stream", pct(streamLatency[p])).put("chat", pct(chatLatency[p]))
        .put("server_rss_max_mib", Report.round(rssMaxKiB[p] / 1024d, 1)));
    }
    long memberGapsTotal = 0;
    long membersBehind = 0;
    for (int m = 0; m < chatMembers; m++) {
      memberGapsTotal += memberGaps[m];
      if (memberLastSeq[m] != maxAckedSeq) {
        membersBehind++;
      }
    }
    long missing = streamGaps + streamSkipped + (appAccepted - appReceived) + memberGapsTotal + membersBehind
      + (sent - acked);
    JsonObject existing = new JsonObject()
      .put("stream_p99_ms", streamP99).put("chat_p99_ms", chatP99).put("missing", missing)
      .put("stream_seq_gaps", streamGaps).put("stream_skipped", streamSkipped)
      .put("app_posted_accepted", appAccepted).put("app_received", appReceived)
      .put("chat_sent", sent).put("chat_acked", acked).put("chat_errors", chatErrors)
      .put("chat_member_gaps", memberGapsTotal).put("chat_members_behind", membersBehind)
      .put("closes", new JsonObject(new TreeMap<>(existingCloses).entrySet().stream()
        .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> (Object) e.getValue().get()))))
      .put("phases", detail)
      .put("slow_during", new JsonObject().put("stream", slowList(slowStream)).put("chat", slowList(slowChat)));
    long peak = Math.max(rssMaxKiB[0], Math.max(rssMaxKiB[1], rssMaxKiB[2]));
    return new JsonObject().put("connects", connects).put("storm_seconds", stormSeconds)
      .put("issued_seconds", Report.round(issuedIn, 2)).put("all_decided_seconds", Report.round(decidedIn, 2))
      .put("decided", decided.get()).put("outcomes", o).put("existing", existing)
      .put("server_rss_before_mib", Report.round(rssBeforeKiB / 1024d, 1))
      .put("server_rss_peak_mib", Report.round(peak / 1024d, 1))
      .put("live_after", live.getInteger("status"));
  }

  private static JsonObject pct(Histogram h) {
    return new JsonObject().put("count", h.getTotalCount()).put("p50", Report.ms(h.getValueAtPercentile(50)))
      .put("p99", Report.ms(h.getValueAtPercentile(99))).put("max", Report.ms(h.getMaxValue()));
  }

  private <T> CompletableFuture<T> on(Context context, java.util.function.Supplier<Future<T>> action) {
    return Contexts.call(context, action);
  }

  private static void log(String format, Object... args) {
    System.err.printf("[storm %tT] %s%n", System.currentTimeMillis(), String.format(format, args));
  }
}
