package com.chatroom.pulse.bench;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Load client of the stalled-subscriber benchmark ({@code bench/run-stalled-stream.sh}): {@code subscribers}
 * WebSocket subscribers of {@code /metrics/stream}, of which {@code marked} (every 100th with the defaults) use a
 * small receive buffer ({@code rcvbuf}) and also subscribe to the {@code app} stream.
 * <ol>
 *   <li>phase 1, {@code phase-ticks} sampler ticks: everyone reads; latency (receipt − {@code data.timestamp}) of every
 *   {@code system} frame, split into readers and marked;</li>
 *   <li>with {@code --stall=true} the marked ones pause (stop reading). Then, in both kinds of run, {@code fill-seconds}
 *   of app samples are posted to {@code /api/metrics/app} (an instance only the marked subscribe to), so that a stalled
 *   socket's kernel buffers and write queue fill in seconds instead of the many minutes 1 sample/s would need; then
 *   {@code settle-seconds};</li>
 *   <li>phase 2, {@code phase-ticks} ticks: the readers (and, in a control run, the marked) are measured again;</li>
 *   <li>the marked resume; after {@code drain-seconds} each is checked: frames delivered + skipped counts reported
 *   = frames published to it; each reader got every tick, in order, with no skip notice.</li>
 * </ol>
 * A control run ({@code --stall=false}) does exactly the same, the fill included, with nobody pausing: its phase 2 /
 * phase 1 ratio is the noise the stalled run's ratio is compared with. Prints one JSON line on stdout.
 */
public final class StalledStreamClient {

  /** The instance of the posted app samples: long, so that each frame is ~650 bytes and a paused socket fills sooner. */
  private static final String FILL_INSTANCE = "fill-" + "x".repeat(240);

  private final String host;
  private final int port;
  private final int subscribers;
  private final int marked;
  private final boolean stall;
  private final int rcvbuf;
  private final int warmup;
  private final int phaseTicks;
  private final int fillSeconds;
  private final int fillPerSecond;
  private final int settle;
  private final int drain;
  private final int concurrency;
  private final String ingestToken;
  private final long serverPid;

  private final Conn[] conns;
  /** Kept reachable for the whole run: Vert.x 5 closes sockets nobody references. */
  private final WebSocket[] sockets;
  private final AtomicInteger connected = new AtomicInteger();
  private final AtomicInteger failed = new AtomicInteger();
  private final AtomicLong highestSeq = new AtomicLong(-1);
  /** [phase 1|2][reader|marked] latency in µs; written on the single event loop, read after the phase. */
  private final Histogram[][] latency = {
    {new Histogram(60_000_000L, 3), new Histogram(60_000_000L, 3)},
    {new Histogram(60_000_000L, 3), new Histogram(60_000_000L, 3)}};
  private final long[][] window = {{Long.MAX_VALUE, Long.MIN_VALUE}, {Long.MAX_VALUE, Long.MIN_VALUE}};
  private final List<JsonArray> rss = new ArrayList<>();
  private volatile String phaseName = "connect";
  private final long startMillis = System.currentTimeMillis();
  private long appPublished;
  private long appRejected;
  private Vertx vertx;
  private Context context;
  private WebSocketClient readerClient;
  private WebSocketClient markedClient;
  private HttpClient http;

  /** One subscriber; touched only on the client's single event loop. */
  private static final class Conn {
    final int id;
    final boolean marked;
    long firstSeq = -1;
    long lastSeq = -1;
    long system;
    long app;
    long otherApp;
    boolean pinged;
    long pongs;
    long skipped;
    long skipNotices;
    long gaps;
    long outOfOrder;
    Integer closeCode;

    Conn(int id, boolean marked) {
      this.id = id;
      this.marked = marked;
    }
  }

  private StalledStreamClient(Options o) {
    host = o.string("host", "127.0.0.1");
    port = o.integer("port", 8888, 1, 65535);
    subscribers = o.integer("subscribers", 10_000, 1, 100_000);
    marked = o.integer("marked", subscribers / 100, 0, subscribers);
    stall = o.bool("stall", true);
    rcvbuf = o.integer("rcvbuf", 65536, 1024, 1 << 24);
    warmup = o.seconds("warmup", 8, 0, 600);
    phaseTicks = o.integer("phase-ticks", 25, 2, 3600);
    fillSeconds = o.seconds("fill-seconds", 10, 0, 600);
    fillPerSecond = o.integer("fill-per-second", 1000, 10, 100_000);
    settle = o.seconds("settle-seconds", 3, 0, 600);
    drain = o.seconds("drain-seconds", 5, 1, 600);
    concurrency = o.integer("concurrency", 200, 1, 10_000);
    ingestToken = o.string("ingest-token", "bench-ingest-token-0001");
    serverPid = o.integer("server-pid", 0, 0, Integer.MAX_VALUE);
    conns = new Conn[subscribers];
    sockets = new WebSocket[subscribers];
  }

  public static void main(String[] args) throws Exception {
    Options.launch(args, o -> new StalledStreamClient(o)::run);
  }

  private int run() throws Exception {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setBlockedThreadCheckInterval(10_000)
      .setPreferNativeTransport(true));
    context = vertx.getOrCreateContext();
    readerClient = vertx.createWebSocketClient(new WebSocketClientOptions().setDefaultHost(host).setDefaultPort(port)
      .setMaxConnections(subscribers + concurrency).setConnectTimeout(30_000));
    // a small receive buffer, so that a paused subscriber's socket is full after a few KB rather than megabytes
    markedClient = vertx.createWebSocketClient(new WebSocketClientOptions().setDefaultHost(host).setDefaultPort(port)
      .setMaxConnections(marked + concurrency).setConnectTimeout(30_000).setReceiveBufferSize(rcvbuf));
    http = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(host).setDefaultPort(port));
    vertx.setPeriodic(1000, id -> sampleRss());

    log("connecting %d subscribers (%d marked, stall=%s, rcvbuf %d) to ws://%s:%d", subscribers, marked, stall, rcvbuf,
      host, port);
    long t0 = System.nanoTime();
    onContext(this::connectAll).get(10, TimeUnit.MINUTES);
    double connectSeconds = (System.nanoTime() - t0) / 1e9;
    log("connected %d (%d failed) in %.1f s", connected.get(), failed.get(), connectSeconds);
    if (connected.get() < subscribers) {
      System.out.println(new JsonObject().put("error", "only " + connected.get() + " of " + subscribers + " connected").encode());
      return 1;
    }
    System.gc();
    phaseName = "warmup";
    sleep(warmup * 1000L);

    phaseName = "phase1";
    measure(0);
    log("phase 1 done: ticks %d..%d", window[0][0], window[0][1]);

    phaseName = "fill";
    JsonObject skippedBefore = scrape();
    if (stall) {
      onContext(() -> {
        forMarked(ws -> ws.pause());
        return Future.succeededFuture();
      }).get();
      log("%d marked subscribers paused", marked);
    }
    fill();
    phaseName = "settle";
    sleep(settle * 1000L);
    JsonObject skippedAfterFill = scrape();

    phaseName = "phase2";
    measure(1);
    log("phase 2 done: ticks %d..%d", window[1][0], window[1][1]);
    JsonObject skippedEnd = scrape();

    phaseName = "drain";
    if (stall) {
      onContext(() -> {
        forMarked(ws -> ws.resume());
        return Future.succeededFuture();
      }).get();
    }
    // the marked ones get their skip notice and the newest of each held sample; then one more tick for everybody
    sleep(drain * 1000L);
    long last = highestSeq.get();
    waitForTick(last + 1, 10_000);
    // the final tick: every subscriber must reach it (the client's own event loop may still be working through the
    // last fan-out), after which the checks are exact
    long finalSeq = highestSeq.get();
    long settleDeadline = System.currentTimeMillis() + 15_000;
    while (System.currentTimeMillis() < settleDeadline
      && onContext(() -> Future.succeededFuture(behind(finalSeq))).get() > 0) {
      sleep(100);
    }
    // a subscriber still behind: is the path to it alive? A pong is written straight to the socket, past anything the
    // server holds for it, so a pong with no newer sample means the server holds its frames and never drained them
    int stuck = onContext(() -> {
      int n = 0;
      for (Conn c : conns) {
        if (c.lastSeq < finalSeq && c.closeCode == null && sockets[c.id] != null) {
          c.pinged = true;
          sockets[c.id].writeTextMessage("{\"type\":\"ping\",\"id\":\"probe\"}");
          n++;
        }
      }
      return Future.succeededFuture(n);
    }).get();
    if (stuck > 0) {
      log("%d subscribers still behind tick %d: pinged them", stuck, finalSeq);
      sleep(3000);
    }
    sampleRss();
    JsonObject result = onContext(() -> Future.succeededFuture(result(finalSeq, connectSeconds, skippedBefore,
      skippedAfterFill, skippedEnd))).get(30, TimeUnit.SECONDS);
    System.out.println(result.encode());
    return 0;
  }

  /** Waits for a window of {@code phaseTicks} ticks, starting with the second tick after now. */
  private void measure(int phase) throws Exception {
    // set on the event loop that reads it
    onContext(() -> {
      long current = highestSeq.get();
      window[phase][0] = current + 2;
      window[phase][1] = current + 1 + phaseTicks;
      return Future.succeededFuture();
    }).get();
    // frames are classified by seq, so the window covers whole fan-outs however long each one takes
    waitForTick(window[phase][1] + 1, (phaseTicks + 10) * 2000L);
    sleep(500);
  }

  private void waitForTick(long seq, long timeoutMs) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (highestSeq.get() < seq) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("tick " + seq + " did not arrive within " + timeoutMs + " ms");
      }
      sleep(50);
    }
  }

  private Future<Void> connectAll() {
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    AtomicInteger next = new AtomicInteger();
    AtomicInteger finished = new AtomicInteger();
    int stride = marked == 0 ? Integer.MAX_VALUE : subscribers / marked;
    Runnable[] connectNext = new Runnable[1];
    connectNext[0] = () -> {
      int id = next.getAndIncrement();
      if (id >= subscribers) {
        return;
      }
      boolean isMarked = marked > 0 && id % stride == stride - 1 && id / stride < marked;
      Conn conn = new Conn(id, isMarked);
      conns[id] = conn;
      (isMarked ? markedClient : readerClient).connect(new WebSocketConnectOptions().setAllowOriginHeader(false)
          .setURI(isMarked ? "/metrics/stream?streams=system,app" : "/metrics/stream?streams=system"))
        .onComplete(ar -> {
          if (ar.succeeded()) {
            onConnected(conn, ar.result());
            connected.incrementAndGet();
          } else {
            failed.incrementAndGet();
            log("connect failed: %s", ar.cause());
          }
          if (finished.incrementAndGet() == subscribers) {
            done.complete();
          } else {
            connectNext[0].run();
          }
        });
    };
    for (int i = 0; i < concurrency; i++) {
      connectNext[0].run();
    }
    return done.future();
  }

  private void onConnected(Conn conn, WebSocket ws) {
    sockets[conn.id] = ws;
    ws.handler(data -> onFrame(conn, data));
    ws.exceptionHandler(e -> { });
    ws.closeHandler(v -> {
      Short code = ws.closeStatusCode();
      conn.closeCode = code == null ? -1 : (int) code;
    });
  }

  private void onFrame(Conn conn, Buffer data) {
    long received = StreamStats.wallMicros();
    byte[] frame = data.getBytes();
    switch (FrameScan.kind(frame)) {
      case SYSTEM -> onSystem(conn, frame, received);
      case SKIPPED -> {
        long count = FrameScan.count(frame);
        conn.skipped += count == FrameScan.MISSING ? 0 : count;
        conn.skipNotices++;
      }
      default -> {
        String text = data.toString();
        if (text.startsWith("{\"type\":\"pong\"")) {
          conn.pongs++;
        }
        if (text.startsWith("{\"type\":\"app\"")) {
          if (text.contains(FILL_INSTANCE)) {
            conn.app++;
          } else {
            conn.otherApp++;
          }
        }
      }
    }
  }

  private void onSystem(Conn conn, byte[] frame, long received) {
    long timestamp = FrameScan.timestampMicros(frame);
    long seq = FrameScan.seq(frame);
    if (seq == FrameScan.MISSING || timestamp == FrameScan.MISSING) {
      return;
    }
    highestSeq.accumulateAndGet(seq, Math::max);
    conn.system++;
    if (conn.firstSeq < 0) {
      conn.firstSeq = seq;
    } else if (seq > conn.lastSeq + 1) {
      conn.gaps += seq - conn.lastSeq - 1;
    } else if (seq <= conn.lastSeq) {
      conn.outOfOrder++;
    }
    conn.lastSeq = Math.max(conn.lastSeq, seq);
    for (int phase = 0; phase < 2; phase++) {
      if (seq >= window[phase][0] && seq <= window[phase][1]) {
        latency[phase][conn.marked ? 1 : 0].recordValue(Math.max(0, Math.min(received - timestamp, 59_999_999L)));
      }
    }
  }

  /** Posts batches of app samples for {@code fill-seconds}, ten batches a second, and counts what was accepted. */
  private void fill() throws Exception {
    if (fillSeconds == 0 || marked == 0) {
      return;
    }
    String instance = FILL_INSTANCE;
    String service = "s".repeat(128);
    int perBatch = Math.max(1, fillPerSecond / 10);
    long end = System.currentTimeMillis() + fillSeconds * 1000L;
    long n = 0;
    List<CompletableFuture<JsonObject>> replies = new ArrayList<>();
    while (System.currentTimeMillis() < end) {
      long batchStart = System.currentTimeMillis();
      JsonArray batch = new JsonArray();
      for (int i = 0; i < perBatch; i++) {
        batch.add(new JsonObject().put("timestamp", System.currentTimeMillis() / 1000d).put("active_users", ++n)
          .put("total_messages", n).put("messages_per_minute", 0).put("ai_requests_per_minute", 0)
          .put("file_transfers_active", 0).put("database_connections", 0).put("response_time_avg", 1.0)
          .put("error_rate", 0.0).put("instance", instance).put("service", service));
      }
      replies.add(http.request(new RequestOptions().setMethod(HttpMethod.POST).setURI("/api/metrics/app")
          .putHeader("Authorization", "Bearer " + ingestToken).putHeader("Content-Type", "application/json"))
        .compose(req -> req.send(batch.toBuffer()).compose(HttpClientResponse::body))
        .map(Buffer::toJsonObject).toCompletionStage().toCompletableFuture());
      sleep(Math.max(1, 100 - (System.currentTimeMillis() - batchStart)));
    }
    for (CompletableFuture<JsonObject> reply : replies) {
      JsonObject body = reply.get(30, TimeUnit.SECONDS);
      appPublished += body.getInteger("accepted", 0);
      appRejected += body.getJsonArray("rejected", new JsonArray()).size();
    }
    log("fill: %d app samples accepted (%d rejected)", appPublished, appRejected);
  }

  private int behind(long seq) {
    int n = 0;
    for (Conn c : conns) {
      if (c.lastSeq < seq && c.closeCode == null) {
        n++;
      }
    }
    return n;
  }

  /** The checks; every subscriber must have reached tick {@code lastSeq}. */
  private JsonObject result(long lastSeq, double connectSeconds, JsonObject before, JsonObject afterFill, JsonObject end) {
    long[] bad = new long[8]; // readers: incomplete, gaps, skip notices, out of order | marked: unbalanced, never skipped, closed, gaps
    long readerFrames = 0;
    long markedDelivered = 0;
    long markedSkipped = 0;
    long markedPublished = 0;
    long otherApp = 0;
    long pinged = 0;
    long pingedAnswered = 0;
    List<String> examples = new ArrayList<>();
    for (Conn c : conns) {
      if (c.pinged) {
        pinged++;
        pingedAnswered += c.pongs > 0 ? 1 : 0;
      }
      if (c.closeCode != null) {
        bad[c.marked ? 6 : 0]++;
      }
      // every tick up to the newest this subscriber has seen was published to it (a later one may be on its way)
      long published = c.firstSeq < 0 ? 0 : c.lastSeq - c.firstSeq + 1;
      if (!c.marked) {
        readerFrames += c.system;
        if (c.system != published || c.lastSeq < lastSeq) {
          bad[0]++;
        }
        bad[1] += c.gaps;
        bad[2] += c.skipNotices;
        bad[3] += c.outOfOrder;
      } else {
        long delivered = c.system + c.app;
        long toIt = published + appPublished;
        markedDelivered += delivered;
        otherApp += c.otherApp;
        markedSkipped += c.skipped;
        markedPublished += toIt;
        if (delivered + c.skipped != toIt || c.lastSeq < lastSeq) {
          bad[4]++;
          if (examples.size() < 5) {
            examples.add("#" + c.id + ": system " + c.system + " (seq " + c.firstSeq + ".." + c.lastSeq + ") + app " + c.app
              + " + skipped " + c.skipped + " != " + published + " + " + appPublished);
          }
        }
        if (c.skipped == 0) {
          bad[5]++;
        }
        bad[7] += c.gaps;
      }
    }
    JsonObject json = new JsonObject()
      .put("subscribers", subscribers).put("marked", marked).put("stall", stall).put("rcvbuf", rcvbuf)
      .put("connect_seconds", Report.round(connectSeconds, 1))
      .put("phase_ticks", phaseTicks)
      .put("phase1_ticks", new JsonArray().add(window[0][0]).add(window[0][1]))
      .put("phase2_ticks", new JsonArray().add(window[1][0]).add(window[1][1]))
      .put("phase1_readers", percentiles(latency[0][0]))
      .put("phase1_marked", percentiles(latency[0][1]))
      .put("phase1_all", percentiles(merged(latency[0][0], latency[0][1])))
      .put("phase2_readers", percentiles(latency[1][0]))
      .put("phase2_marked", percentiles(latency[1][1]))
      .put("readers_p99_ratio", ratio(latency[1][0], latency[0][0], 99))
      .put("readers_p50_ratio", ratio(latency[1][0], latency[0][0], 50))
      .put("readers_p99_9_ratio", ratio(latency[1][0], latency[0][0], 99.9))
      .put("fill_app_samples", appPublished).put("fill_rejected", appRejected)
      .put("last_seq", lastSeq)
      .put("reader_frames", readerFrames)
      .put("readers_incomplete_or_closed", bad[0]).put("readers_gaps", bad[1]).put("readers_skip_notices", bad[2])
      .put("readers_out_of_order", bad[3])
      .put("marked_delivered", markedDelivered).put("marked_skipped_reported", markedSkipped)
      .put("marked_published", markedPublished)
      .put("marked_unbalanced", bad[4]).put("marked_never_skipped", bad[5]).put("marked_closed", bad[6])
      .put("marked_seq_gaps", bad[7])
      .put("marked_other_app_frames", otherApp)
      .put("behind_at_end_pinged", pinged).put("behind_at_end_answered_pong", pingedAnswered)
      .put("unbalanced_examples", new JsonArray(examples))
      .put("server_skipped_counter", new JsonObject().put("before_fill", before).put("after_fill", afterFill).put("end", end))
      .put("server_rss_mib", new JsonArray(rss));
    return json;
  }

  private static JsonObject percentiles(Histogram h) {
    return new JsonObject().put("count", h.getTotalCount())
      .put("p50", Report.ms(h.getValueAtPercentile(50))).put("p99", Report.ms(h.getValueAtPercentile(99)))
      .put("p99_9", Report.ms(h.getValueAtPercentile(99.9))).put("max", Report.ms(h.getMaxValue()));
  }

  private static Histogram merged(Histogram a, Histogram b) {
    Histogram h = a.copy();
    h.add(b);
    return h;
  }

  private static Double ratio(Histogram phase2, Histogram phase1, double percentile) {
    long base = phase1.getValueAtPercentile(percentile);
    return base == 0 ? null : Report.round(phase2.getValueAtPercentile(percentile) / (double) base, 3);
  }

  private void forMarked(java.util.function.Consumer<WebSocket> action) {
    for (Conn c : conns) {
      if (c.marked && sockets[c.id] != null) {
        action.accept(sockets[c.id]);
      }
    }
  }

  private void sampleRss() {
    if (serverPid > 0) {
      long kib = ProcStats.rssKiB(serverPid);
      synchronized (rss) {
        rss.add(new JsonArray().add(Report.round((System.currentTimeMillis() - startMillis) / 1000d, 1))
          .add(Report.round(kib / 1024d, 1)).add(phaseName));
      }
    }
  }

  /** The stream's skip counter from {@code /metrics}, a cross-check of what the marked subscribers report. */
  private JsonObject scrape() {
    try {
      String body = http.request(HttpMethod.GET, "/metrics").compose(req -> req.send().compose(HttpClientResponse::body))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).toString();
      JsonObject values = new JsonObject();
      for (String line : body.split("\n")) {
        for (String name : new String[] {"pulse_stream_frames_skipped_total", "pulse_stream_frames_sent_total"}) {
          if (line.startsWith(name + " ")) {
            values.put(name, Double.parseDouble(line.substring(name.length() + 1).trim()));
          }
        }
      }
      return values;
    } catch (Exception e) {
      log("could not scrape /metrics: %s", e);
      return null;
    }
  }

  private <T> CompletableFuture<T> onContext(java.util.function.Supplier<Future<T>> action) {
    return Contexts.call(context, action);
  }

  private static void sleep(long millis) throws InterruptedException {
    Thread.sleep(millis);
  }

  private static void log(String format, Object... args) {
    System.err.printf("[stalled %tT] %s%n", System.currentTimeMillis(), String.format(format, args));
  }
}
