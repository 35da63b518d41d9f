package com.chatroom.pulse.bench;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Fan-out load client for {@code /metrics/stream}: opens N WebSocket subscribers, lets them warm up, then measures
 * for a fixed window the delivery latency of every {@code system} frame (receipt wall clock minus
 * {@code data.timestamp}), missing sequence numbers, the server's skip notices and the CPU both processes used.
 * Prints one JSON line on stdout and exits; progress goes to stderr.
 *
 * <pre>java -jar bench/target/pulse-bench.jar --port=8888 --subscribers=10000 --warmup=15 --duration=60 [--server-pid=PID]</pre>
 *
 * The window is a whole number of ticks ({@code duration} / {@code interval-ms}): see {@link StreamStats}. Frames
 * received must then equal subscribers x ticks exactly when nothing is lost.
 */
public final class StreamLoadClient {

  private final String host;
  private final int port;
  private final String path;
  private final int subscribers;
  private final int warmupSeconds;
  private final int durationSeconds;
  private final int concurrency;
  private final int eventLoops;
  private final long serverPid;
  private final int intervalMs;
  private final boolean scrape;
  private final boolean nativeTransport;
  private final boolean compression;

  private final StreamStats stats = new StreamStats();
  private final StreamStats.Conn[] conns;
  /** Kept reachable for the whole run: Vert.x 5 closes clients and sockets nobody references. */
  private final WebSocket[] sockets;
  private final AtomicInteger connected = new AtomicInteger();
  private final LongAdder connectFailures = new LongAdder();
  private final Map<String, LongAdder> failureCauses = new ConcurrentHashMap<>();
  private final Map<Integer, LongAdder> closeCodes = new ConcurrentHashMap<>();
  private final AtomicLong maxServerRssKiB = new AtomicLong(-1);
  private Vertx vertx;
  private WebSocketClient wsClient;
  private HttpClient httpClient;

  private StreamLoadClient(Options o) {
    host = o.string("host", "127.0.0.1");
    port = o.integer("port", 8888, 1, 65535);
    path = o.string("path", "/metrics/stream");
    subscribers = o.integer("subscribers", 10_000, 1, 1_000_000);
    warmupSeconds = o.seconds("warmup", 15, 0, 3600);
    durationSeconds = o.seconds("duration", 60, 1, 24 * 3600);
    concurrency = o.integer("concurrency", 200, 1, 10_000);
    eventLoops = o.integer("event-loops", 1, 1, 64);
    serverPid = o.integer("server-pid", 0, 0, Integer.MAX_VALUE);
    intervalMs = o.integer("interval-ms", 1000, 10, 3_600_000);
    scrape = o.bool("scrape", true);
    nativeTransport = o.bool("native", true);
    compression = o.bool("compression", false);
    conns = new StreamStats.Conn[subscribers];
    sockets = new WebSocket[subscribers];
  }

  public static void main(String[] args) throws Exception {
    Options.launch(args, o -> new StreamLoadClient(o)::run);
  }

  private int run() throws Exception {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(eventLoops).setBlockedThreadCheckInterval(10_000)
      .setPreferNativeTransport(nativeTransport));
    if (nativeTransport && !vertx.isNativeTransportEnabled()) {
      log("native transport unavailable (%s): using NIO", vertx.unavailableNativeTransportCause());
    }
    wsClient = vertx.createWebSocketClient(new WebSocketClientOptions()
      .setDefaultHost(host).setDefaultPort(port)
      .setMaxConnections(subscribers + concurrency)
      .setConnectTimeout(30_000)
      // a browser always offers permessage-deflate; --compression=true does the same, to measure what that costs
      .setTryUsePerMessageCompression(compression)
      .setTryUsePerFrameCompression(false));
    httpClient = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(host).setDefaultPort(port));

    log("connecting %d subscribers to ws://%s:%d%s, %d in flight, %d event loop(s)",
      subscribers, host, port, path, concurrency, eventLoops);
    long connectStart = System.nanoTime();
    AtomicInteger next = new AtomicInteger();
    vertx.deployVerticle(() -> new Connector(next), new DeploymentOptions().setInstances(eventLoops))
      .toCompletionStage().toCompletableFuture().get(30, TimeUnit.MINUTES);
    double connectSeconds = (System.nanoTime() - connectStart) / 1e9;
    log("connected %d of %d in %.1f s (%d failed)", connected.get(), subscribers, connectSeconds, connectFailures.sum());
    if (connected.get() == 0) {
      System.out.println(new JsonObject().put("error", "no subscriber could connect").put("failures", causes()).encode());
      return 1;
    }

    // collect the connection set-up garbage now, so that the client's own GC stays out of the measured window
    System.gc();
    // a server's first scrape runs cold (hundreds of ms of interpreted code on a one-core server): get it over with
    scrapeMetrics();
    await(warmupSeconds * 1000L);

    long ticks = Math.max(1, Math.round(durationSeconds * 1000d / intervalMs));
    int openAtArm = openConnections();
    // the server's counters are read before the window, not at its first tick: a scrape costs the server's event loop
    // 10-60 ms (Prometheus text of every meter), which would land on the window's first fan-outs
    JsonObject metricsBefore = scrapeMetrics();
    await(intervalMs); // the scrape's work on the server is over before the window's first tick
    // the window's snapshots are taken on the event loop, at a tick's first frame: load and run their code (JMX
    // beans, /proc readers) once here, or the first one stalls the event loop with 10,000 frames waiting
    for (int i = 0; i < 3; i++) {
      new Snapshot(serverPid);
    }
    stats.arm(ticks, () -> new Snapshot(serverPid));
    log("window armed: ticks %d..%d (%d ticks of %d ms)", stats.firstSeq(), stats.lastSeq(), ticks, intervalMs);
    long budget = 3 * intervalMs + ticks * intervalMs * 3 / 2 + 30_000;
    Snapshot first;
    try {
      first = (Snapshot) stats.opened.get(3L * intervalMs + 10_000, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      System.out.println(new JsonObject().put("error", "no tick arrived within " + (3 * intervalMs + 10_000) + " ms")
        .encode());
      return 1;
    }
    int openAtStart = openConnections();
    log("window opened at tick %d", stats.firstSeq());
    ScheduledExecutorService rss = startRssSampling();
    Snapshot last;
    boolean complete = true;
    try {
      last = (Snapshot) stats.closed.get(budget, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      complete = false;
      last = new Snapshot(serverPid);
      log("the tick after the window never came: closing it after %d ms", budget);
    }
    rss.shutdownNow();
    sampleServerRss();
    // frames of the last tick may still be on their way: give them one more interval before reading the results
    await(intervalMs);
    JsonObject metricsAfter = scrapeMetrics();
    Histogram latency = stats.results();
    log("window closed at tick %d", stats.lastSeq() + 1);

    double seconds = (last.nanos - first.nanos) / 1e9;
    long clientCpuNanos = last.clientCpuNanos - first.clientCpuNanos;
    double serverCpu = serverPid > 0 ? (last.serverTicks - first.serverTicks) / (double) ProcStats.CLK_TCK : -1;
    JsonObject result = result(connectSeconds, complete, Math.min(openAtArm, openAtStart), latency, seconds,
      first.wallMillis, last.wallMillis, clientCpuNanos, serverCpu, metricsBefore, metricsAfter);
    result.put("client_gc_in_window", new JsonObject().put("count", last.gc[0] - first.gc[0])
      .put("millis", last.gc[1] - first.gc[1]));
    result.put("cpu_split_percent_of_core", new JsonObject()
      .put("client_user", Report.splitPercent(first.clientSplit, last.clientSplit, 0, seconds))
      .put("client_system", Report.splitPercent(first.clientSplit, last.clientSplit, 1, seconds))
      .put("server_user", Report.splitPercent(first.serverSplit, last.serverSplit, 0, seconds))
      .put("server_system", Report.splitPercent(first.serverSplit, last.serverSplit, 1, seconds)));
    result.put("host", Report.host(first.jiffies, last.jiffies, seconds, clientCpuNanos / 1e9, Math.max(0, serverCpu)));
    System.out.println(result.encode());
    return 0;
  }

  /** Everything read at the two instants that bound the window; taken on the event loop that saw the tick. */
  private static final class Snapshot {
    final long nanos = System.nanoTime();
    final long wallMillis = System.currentTimeMillis();
    final long clientCpuNanos = Report.processCpuNanos();
    final long serverTicks;
    final long[] serverSplit;
    final long[] clientSplit = ProcStats.cpuTicksSplit("self");
    final long[] gc = Report.gcCountAndMillis();
    final long[][] jiffies = ProcStats.cpuJiffies();

    Snapshot(long serverPid) {
      serverSplit = serverPid > 0 ? ProcStats.cpuTicksSplit(serverPid) : null;
      serverTicks = serverSplit == null ? -1 : serverSplit[0] + serverSplit[1];
    }
  }

  /** Connects its share of the subscribers from one event loop, at most concurrency / event-loops at a time. */
  private final class Connector extends VerticleBase {
    private final AtomicInteger next;
    private final Promise<Void> done = Promise.promise();
    private int inFlight;

    Connector(AtomicInteger next) {
      this.next = next;
    }

    @Override
    public Future<?> start() {
      int slots = Math.max(1, concurrency / eventLoops);
      for (int i = 0; i < slots; i++) {
        connectNext();
      }
      return done.future();
    }

    private void connectNext() {
      int id = next.getAndIncrement();
      if (id >= subscribers) {
        if (inFlight == 0) {
          done.tryComplete();
        }
        return;
      }
      inFlight++;
      StreamStats.Conn conn = new StreamStats.Conn(id);
      conns[id] = conn;
      wsClient.connect(new WebSocketConnectOptions().setURI(path).setAllowOriginHeader(false))
        .onComplete(ar -> {
          inFlight--;
          if (ar.succeeded()) {
            onConnected(conn, ar.result());
          } else {
            conn.open = false;
            connectFailures.increment();
            failureCauses.computeIfAbsent(String.valueOf(ar.cause()), k -> new LongAdder()).increment();
          }
          int n = connected.get();
          if (ar.succeeded() && n % 1000 == 0) {
            log("  %d connected", n);
          }
          connectNext();
        });
    }
  }

  private void onConnected(StreamStats.Conn conn, WebSocket ws) {
    sockets[conn.id] = ws;
    if (conn.id == 0) {
      log("first subscriber: extensions %s", ws.headers() == null ? "?" : ws.headers().get("Sec-WebSocket-Extensions"));
    }
    connected.incrementAndGet();
    ws.handler(data -> stats.onData(conn, data));
    ws.exceptionHandler(e -> { });
    ws.closeHandler(v -> {
      Short code = ws.closeStatusCode();
      closeCodes.computeIfAbsent(code == null ? -1 : (int) code, k -> new LongAdder()).increment();
      stats.onClosed(conn);
    });
  }

  private JsonObject result(double connectSeconds, boolean complete, int openAtStart, Histogram latency,
                            double windowSeconds, long startWall, long endWall, long clientCpuNanos, double serverCpu,
                            JsonObject metricsBefore, JsonObject metricsAfter) {
    long frames = stats.systemFrames.sum();
    long ticks = stats.lastSeq() - stats.firstSeq() + 1;
    double clientCpu = clientCpuNanos / 1e9;
    JsonObject json = new JsonObject()
      .put("target", host + ":" + port + path)
      .put("client_transport", vertx.isNativeTransportEnabled() ? "epoll" : "nio")
      .put("client_offers_permessage_deflate", compression)
      .put("subscribers_requested", subscribers)
      .put("subscribers_connected", connected.get())
      .put("connect_failures", connectFailures.sum())
      .put("connect_seconds", Report.round(connectSeconds, 2))
      .put("open_at_window_start", openAtStart)
      .put("closed_in_window", stats.closedInWindow.sum())
      .put("window_complete", complete)
      .put("first_tick", stats.firstSeq())
      .put("last_tick", stats.lastSeq())
      .put("window_seconds", Report.round(windowSeconds, 3))
      .put("window_start_epoch_ms", startWall)
      .put("window_end_epoch_ms", endWall)
      .put("ticks_in_window", ticks)
      .put("frames_received", frames)
      .put("frames_expected", ticks * openAtStart)
      .put("frames_per_second", Report.round(frames / windowSeconds, 1))
      .put("latency_ms", new JsonObject()
        .put("p50", Report.ms(latency.getValueAtPercentile(50)))
        .put("p90", Report.ms(latency.getValueAtPercentile(90)))
        .put("p99", Report.ms(latency.getValueAtPercentile(99)))
        .put("p99_9", Report.ms(latency.getValueAtPercentile(99.9)))
        .put("max", Report.ms(latency.getMaxValue()))
        .put("mean", Report.round(latency.getMean() / 1000d, 3))
        .put("count", latency.getTotalCount()))
      .put("frames_missing", Math.max(0, ticks * openAtStart - frames))
      .put("frames_lost", stats.lost.sum())
      .put("skipped", stats.skippedCount.sum())
      .put("skip_notices", stats.skippedNotices.sum())
      .put("out_of_order", stats.outOfOrder.sum())
      .put("unparsable", stats.unparsable.sum())
      .put("outside_window", stats.outsideWindow.sum())
      .put("negative_latency_clamped", stats.negativeLatency.sum())
      .put("client_cpu_seconds", Report.round(clientCpu, 3))
      .put("client_cpu_percent_of_core", Report.round(100 * clientCpu / windowSeconds, 2))
      .put("client_cpu_us_per_frame", frames == 0 ? null : Report.round(clientCpuNanos / 1e3 / frames, 3));
    json.put("bursts", Report.bursts(stats, clientCpu, ticks, serverCpu));
    if (serverPid > 0) {
      json.put("server_pid", serverPid)
        .put("server_cpu_seconds", Report.round(serverCpu, 2))
        .put("server_cpu_percent_of_core", Report.round(100 * serverCpu / windowSeconds, 2))
        .put("server_cpu_us_per_delivery", frames == 0 ? null : Report.round(serverCpu * 1e6 / frames, 3))
        .put("server_rss_max_mib", maxServerRssKiB.get() < 0 ? null : Report.round(maxServerRssKiB.get() / 1024d, 1));
    }
    if (metricsBefore != null && metricsAfter != null) {
      JsonObject delta = new JsonObject();
      for (String name : metricsAfter.fieldNames()) {
        Double before = metricsBefore.getDouble(name);
        delta.put(name, before == null ? null : Report.round(metricsAfter.getDouble(name) - before, 3));
      }
      json.put("server_metrics_delta", delta).put("server_metrics_end", metricsAfter);
    }
    if (!failureCauses.isEmpty()) {
      json.put("connect_failure_causes", causes());
    }
    JsonObject codes = new JsonObject();
    new TreeMap<>(closeCodes).forEach((k, v) -> codes.put(String.valueOf(k), v.sum()));
    return json.put("close_codes", codes);
  }

  private JsonObject causes() {
    JsonObject out = new JsonObject();
    failureCauses.forEach((k, v) -> out.put(k.length() > 200 ? k.substring(0, 200) : k, v.sum()));
    return out;
  }

  private static final String[] SCRAPED = {"pulse_stream_frames_sent_total", "pulse_stream_frames_skipped_total",
    "pulse_stream_subscribers", "pulse_sampler_duration_seconds_sum", "pulse_sampler_duration_seconds_count"};

  /** The stream's own counters from {@code /metrics}, or null when the server has none (that is only a cross-check). */
  private JsonObject scrapeMetrics() {
    if (!scrape) {
      return null;
    }
    try {
      String body = httpClient.request(HttpMethod.GET, "/metrics")
        .compose(req -> req.send().compose(HttpClientResponse::body))
        .toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS).toString();
      JsonObject values = new JsonObject();
      for (String line : body.split("\n")) {
        for (String name : SCRAPED) {
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

  private ScheduledExecutorService startRssSampling() {
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "rss-sampler");
      t.setDaemon(true);
      return t;
    });
    if (serverPid > 0) {
      executor.scheduleAtFixedRate(this::sampleServerRss, 0, 1, TimeUnit.SECONDS);
    }
    return executor;
  }

  private void sampleServerRss() {
    if (serverPid > 0) {
      long kib = ProcStats.rssKiB(serverPid);
      maxServerRssKiB.accumulateAndGet(kib, Math::max);
    }
  }

  private int openConnections() {
    int open = 0;
    for (StreamStats.Conn conn : conns) {
      if (conn != null && conn.open && sockets[conn.id] != null) {
        open++;
      }
    }
    return open;
  }

  /** Waits on a Vert.x timer; the elapsed time that is reported is always measured, never assumed. */
  private void await(long millis) throws Exception {
    if (millis <= 0) {
      return;
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    vertx.setTimer(millis, id -> done.complete(null));
    done.get();
  }

  private static void log(String format, Object... args) {
    System.err.printf("[pulse-bench %tT] %s%n", System.currentTimeMillis(), String.format(format, args));
  }
}
