package com.chatroom.pulse.bench;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
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
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Load client of the optimizer-under-a-connection-flood benchmark (issue 5). In one run against one server:
 * <ol>
 *   <li><b>existing users</b>: {@code chat-users} chat clients in one room, each sending one message a second that
 *   carries its send time ({@code System.nanoTime()}, same process) — every member records send → receive latency;
 *   and {@code stream-users} subscribers of {@code /metrics/stream} that ping every {@code ping-seconds} (so they are
 *   active) and record receipt − {@code data.timestamp} of every {@code system} sample;</li>
 *   <li>warm-up, then the <b>baseline</b> window;</li>
 *   <li>the <b>flood</b>: {@code flood-stream} stream listeners and {@code flood-chat} chat connections that never send
 *   a frame, opened {@code flood-concurrency} at a time on a separate event loop; they are not reopened when the
 *   server closes them;</li>
 *   <li>the <b>flood window</b> ({@code flood-window} s from the moment the last flood connection attempt ended), with
 *   the latency also cut into {@code slice}-second slices to show when relief came.</li>
 * </ol>
 * Server RSS (VmRSS) is read every second, server CPU at the phase boundaries. Prints one JSON line on stdout.
 */
public final class FloodClient {

  private static final String ROOM = "flood-bench";

  private final String host;
  private final int port;
  private final int chatUsers;
  private final int streamUsers;
  private final int warmup;
  private final int baseline;
  private final int floodStream;
  private final int floodChat;
  private final int floodConcurrency;
  private final int floodWindow;
  private final int slice;
  private final int pingSeconds;
  private final long serverPid;

  /** Phase 0 = warm-up (not reported), 1 = baseline, 2 = flood opening, 3 = flood window, 4 = after. */
  private volatile int phase;
  private volatile long floodWindowStartNanos;
  private final Histogram[][] latency = new Histogram[2][5]; // [chat|stream][phase]
  /** The flood window from {@code late-from} seconds on: once the optimizer has had the time to act. */
  private final Histogram[] late = {new Histogram(3_600_000_000L, 3), new Histogram(3_600_000_000L, 3)};
  private final int lateFrom;
  private final List<Histogram[]> slices = new ArrayList<>();   // per slice of the flood window: {chat, stream}
  private final long[] rssMaxKiB = new long[5];
  private final Map<String, LongAdder> existingCloses = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> floodCloses = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> floodFailures = new ConcurrentHashMap<>();
  private final LongAdder floodOpened = new LongAdder();
  private final AtomicInteger existingOpen = new AtomicInteger();
  private final LongAdder chatSent = new LongAdder();
  private final LongAdder chatAcked = new LongAdder();
  private final LongAdder chatErrors = new LongAdder();
  private final LongAdder streamPongs = new LongAdder();
  private final AtomicLong floodFramesReceived = new AtomicLong();
  /** Kept reachable for the whole run: Vert.x 5 closes sockets nobody references. */
  private final List<WebSocket> keep = java.util.Collections.synchronizedList(new ArrayList<>());

  private FloodClient(Options o) {
    host = o.string("host", "127.0.0.1");
    port = o.integer("port", 8888, 1, 65535);
    chatUsers = o.integer("chat-users", 50, 0, 10_000);
    streamUsers = o.integer("stream-users", 100, 0, 10_000);
    warmup = o.seconds("warmup", 10, 0, 3600);
    baseline = o.seconds("baseline", 40, 1, 3600);
    floodStream = o.integer("flood-stream", 6000, 0, 1_000_000);
    floodChat = o.integer("flood-chat", 2000, 0, 1_000_000);
    floodConcurrency = o.integer("flood-concurrency", 200, 1, 10_000);
    floodWindow = o.seconds("flood-window", 60, 1, 3600);
    slice = o.seconds("slice", 10, 1, 3600);
    pingSeconds = o.seconds("ping-seconds", 3, 1, 3600);
    serverPid = o.integer("server-pid", 0, 0, Integer.MAX_VALUE);
    lateFrom = o.seconds("late-from", 20, 0, 3600);
    for (Histogram[] row : latency) {
      for (int p = 0; p < row.length; p++) {
        row[p] = new Histogram(3_600_000_000L, 3);
      }
    }
    for (int s = 0; s < (floodWindow + slice - 1) / slice; s++) {
      slices.add(new Histogram[] {new Histogram(3_600_000_000L, 3), new Histogram(3_600_000_000L, 3)});
    }
  }

  public static void main(String[] args) throws Exception {
    Options.launch(args, o -> new FloodClient(o)::run);
  }

  private void record(int kind, long micros) {
    int p = phase;
    synchronized (latency) {
      latency[kind][p].recordValue(Math.max(0, Math.min(micros, 3_600_000_000L)));
      if (p == 3) {
        long elapsed = (System.nanoTime() - floodWindowStartNanos) / 1_000_000_000L;
        if (elapsed >= lateFrom) {
          late[kind].recordValue(Math.max(0, Math.min(micros, 3_600_000_000L)));
        }
        int s = (int) (elapsed / slice);
        if (s >= 0 && s < slices.size()) {
          slices.get(s)[kind].recordValue(Math.max(0, Math.min(micros, 3_600_000_000L)));
        }
      }
    }
  }

  private int run() throws Exception {
    // existing users on one event loop of their own, the flood on another: the flood's frames do not queue in
    // front of the measured ones inside the client
    Vertx users = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setPreferNativeTransport(true)
      .setBlockedThreadCheckInterval(10_000));
    Vertx flood = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setPreferNativeTransport(true)
      .setBlockedThreadCheckInterval(10_000));
    WebSocketClient usersClient = users.createWebSocketClient(new WebSocketClientOptions().setDefaultHost(host)
      .setDefaultPort(port).setMaxConnections(chatUsers + streamUsers + 10).setConnectTimeout(30_000));
    WebSocketClient floodClient = flood.createWebSocketClient(new WebSocketClientOptions().setDefaultHost(host)
      .setDefaultPort(port).setMaxConnections(floodStream + floodChat + floodConcurrency).setConnectTimeout(30_000));
    ScheduledExecutorService rss = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "rss");
      t.setDaemon(true);
      return t;
    });
    if (serverPid > 0) {
      rss.scheduleAtFixedRate(() -> {
        long kib = ProcStats.rssKiB(serverPid);
        int p = phase;
        synchronized (rssMaxKiB) {
          rssMaxKiB[p] = Math.max(rssMaxKiB[p], kib);
        }
      }, 0, 1, TimeUnit.SECONDS);
    }

    log("connecting %d chat users (room %s) and %d stream users", chatUsers, ROOM, streamUsers);
    List<CompletableFuture<Void>> ready = new ArrayList<>();
    for (int i = 0; i < chatUsers; i++) {
      ready.add(chatUser(users, usersClient, i));
    }
    for (int i = 0; i < streamUsers; i++) {
      ready.add(streamUser(users, usersClient, i));
    }
    CompletableFuture.allOf(ready.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
    log("existing users connected (%d open); warm-up %d s", existingOpen.get(), warmup);
    System.gc();
    sleep(warmup * 1000L);

    JsonObject phases = new JsonObject();
    Mark m0 = new Mark();
    phase = 1;
    log("baseline window %d s", baseline);
    sleep(baseline * 1000L);
    Mark m1 = new Mark();
    phase = 2;
    log("flood: %d idle stream listeners + %d idle chat connections, %d in flight", floodStream, floodChat,
      floodConcurrency);
    long floodStart = System.nanoTime();
    openFlood(flood, floodClient).get(30, TimeUnit.MINUTES);
    double floodOpenSeconds = (System.nanoTime() - floodStart) / 1e9;
    log("flood opened in %.1f s: %d accepted, %d refused at the handshake", floodOpenSeconds, floodOpened.sum(),
      floodFailures.values().stream().mapToLong(LongAdder::sum).sum());
    Mark m2 = new Mark();
    floodWindowStartNanos = System.nanoTime();
    phase = 3;
    log("flood window %d s", floodWindow);
    sleep(floodWindow * 1000L);
    Mark m3 = new Mark();
    phase = 4;
    sleep(500);

    phases.put("baseline", phaseJson(1, m0, m1));
    phases.put("flood_opening", phaseJson(2, m1, m2));
    phases.put("flood", phaseJson(3, m2, m3));
    synchronized (latency) {
      phases.put("flood_late", new JsonObject().put("from_s", lateFrom)
        .put("chat", summary(late[0])).put("stream", summary(late[1])));
    }
    JsonArray sliceJson = new JsonArray();
    synchronized (latency) {
      for (int s = 0; s < slices.size(); s++) {
        sliceJson.add(new JsonObject().put("from_s", s * slice)
          .put("chat", summary(slices.get(s)[0])).put("stream", summary(slices.get(s)[1])));
      }
    }
    JsonObject out = new JsonObject()
      .put("target", host + ":" + port)
      .put("chat_users", chatUsers).put("stream_users", streamUsers)
      .put("flood_stream", floodStream).put("flood_chat", floodChat)
      .put("flood_open_seconds", Report.round(floodOpenSeconds, 2))
      .put("flood_accepted", floodOpened.sum())
      .put("flood_refused_at_handshake", counts(floodFailures))
      .put("flood_closed_by_server", counts(floodCloses))
      .put("flood_still_open", floodOpened.sum() - floodCloses.values().stream().mapToLong(LongAdder::sum).sum())
      .put("flood_frames_received", floodFramesReceived.get())
      .put("existing_users_open_at_end", existingOpen.get())
      .put("existing_users_closed", counts(existingCloses))
      .put("chat_sent", chatSent.sum()).put("chat_acked", chatAcked.sum()).put("chat_errors", chatErrors.sum())
      .put("stream_pongs", streamPongs.sum())
      .put("phases", phases)
      .put("flood_slices", sliceJson);
    System.out.println(out.encode());
    rss.shutdownNow();
    return 0;
  }

  /** CPU, wall clock and host counters at a phase boundary. */
  private final class Mark {
    final long nanos = System.nanoTime();
    final long serverTicks = serverPid > 0 ? ProcStats.cpuTicks(serverPid) : -1;
    final long clientNanos = Report.processCpuNanos();
    final long[][] jiffies = ProcStats.cpuJiffies();
  }

  private JsonObject phaseJson(int p, Mark a, Mark b) {
    double seconds = (b.nanos - a.nanos) / 1e9;
    double serverCpu = serverPid > 0 ? (b.serverTicks - a.serverTicks) / (double) ProcStats.CLK_TCK : -1;
    double clientCpu = (b.clientNanos - a.clientNanos) / 1e9;
    JsonObject json = new JsonObject().put("seconds", Report.round(seconds, 2));
    synchronized (latency) {
      json.put("chat", summary(latency[0][p])).put("stream", summary(latency[1][p]));
    }
    synchronized (rssMaxKiB) {
      json.put("server_rss_max_mib", Report.round(rssMaxKiB[p] / 1024d, 1));
    }
    json.put("server_cpu_percent_of_core", serverPid > 0 ? Report.round(100 * serverCpu / seconds, 1) : null)
      .put("client_cpu_percent_of_core", Report.round(100 * clientCpu / seconds, 1))
      .put("host", Report.host(a.jiffies, b.jiffies, seconds, clientCpu, Math.max(0, serverCpu)));
    return json;
  }

  private static JsonObject summary(Histogram h) {
    if (h.getTotalCount() == 0) {
      return new JsonObject().put("count", 0);
    }
    return new JsonObject().put("count", h.getTotalCount())
      .put("p50", Report.ms(h.getValueAtPercentile(50)))
      .put("p90", Report.ms(h.getValueAtPercentile(90)))
      .put("p99", Report.ms(h.getValueAtPercentile(99)))
      .put("max", Report.ms(h.getMaxValue()))
      .put("mean", Report.round(h.getMean() / 1000d, 3));
  }

  private static JsonObject counts(Map<String, LongAdder> map) {
    JsonObject json = new JsonObject();
    new TreeMap<>(map).forEach((k, v) -> json.put(k.length() > 160 ? k.substring(0, 160) : k, v.sum()));
    return json;
  }

  private static void count(Map<String, LongAdder> map, String key) {
    map.computeIfAbsent(key, k -> new LongAdder()).increment();
  }

  private static String closeKey(String kind, WebSocket ws) {
    Short code = ws.closeStatusCode();
    return kind + ":" + (code == null ? "none" : code);
  }

  private CompletableFuture<Void> chatUser(Vertx vertx, WebSocketClient client, int i) {
    CompletableFuture<Void> joined = new CompletableFuture<>();
    String me = "u" + i;
    client.connect(new WebSocketConnectOptions().setURI("/chat?nickname=" + me).setAllowOriginHeader(false))
      .onFailure(joined::completeExceptionally)
      .onSuccess(ws -> {
        keep.add(ws);
        existingOpen.incrementAndGet();
        ws.closeHandler(v -> {
          existingOpen.decrementAndGet();
          count(existingCloses, closeKey("chat", ws));
        });
        ws.exceptionHandler(e -> { });
        AtomicLong seq = new AtomicLong();
        ws.textMessageHandler(text -> {
          JsonObject f;
          try {
            f = new JsonObject(text);
          } catch (RuntimeException e) {
            return;
          }
          switch (f.getString("type", "")) {
            case "hello" -> ws.writeTextMessage(new JsonObject().put("type", "join").put("room", ROOM).encode());
            case "joined" -> {
              joined.complete(null);
              // spread the senders over the second
              vertx.setTimer(1 + (i * 1000L / Math.max(1, chatUsers)), t -> vertx.setPeriodic(1000, p -> {
                if (ws.isClosed()) {
                  vertx.cancelTimer(p);
                  return;
                }
                chatSent.increment();
                ws.writeTextMessage(new JsonObject().put("type", "send").put("room", ROOM)
                  .put("id", me + "-" + seq.incrementAndGet()).put("text", "t=" + System.nanoTime()).encode());
              }));
            }
            case "message" -> {
              String t = f.getString("text", "");
              if (t.startsWith("t=")) {
                try {
                  record(0, (System.nanoTime() - Long.parseLong(t.substring(2))) / 1000);
                } catch (NumberFormatException e) {
                  // someone else's message
                }
              }
            }
            case "ack" -> chatAcked.increment();
            case "error" -> chatErrors.increment();
            default -> { }
          }
        });
      });
    return joined;
  }

  private CompletableFuture<Void> streamUser(Vertx vertx, WebSocketClient client, int i) {
    CompletableFuture<Void> hello = new CompletableFuture<>();
    client.connect(new WebSocketConnectOptions().setURI("/metrics/stream").setAllowOriginHeader(false))
      .onFailure(hello::completeExceptionally)
      .onSuccess(ws -> {
        keep.add(ws);
        existingOpen.incrementAndGet();
        ws.closeHandler(v -> {
          existingOpen.decrementAndGet();
          count(existingCloses, closeKey("stream", ws));
        });
        ws.exceptionHandler(e -> { });
        AtomicLong id = new AtomicLong();
        vertx.setTimer(1 + (i * pingSeconds * 1000L / Math.max(1, streamUsers)), t ->
          vertx.setPeriodic(pingSeconds * 1000L, p -> {
            if (ws.isClosed()) {
              vertx.cancelTimer(p);
              return;
            }
            ws.writeTextMessage("{\"type\":\"ping\",\"id\":" + id.incrementAndGet() + "}");
          }));
        ws.textMessageHandler(text -> {
          long now = System.currentTimeMillis();
          if (text.startsWith("{\"type\":\"system\"")) {
            try {
              JsonObject data = new JsonObject(text).getJsonObject("data");
              if (data != null && data.getValue("timestamp") instanceof Number ts) {
                record(1, Math.round((now - ts.doubleValue() * 1000) * 1000));
              }
            } catch (RuntimeException e) {
              // not a sample
            }
          } else if (text.startsWith("{\"type\":\"hello\"")) {
            hello.complete(null);
          } else if (text.startsWith("{\"type\":\"pong\"")) {
            streamPongs.increment();
          }
        });
      });
    return hello;
  }

  /** Opens the flood: stream listeners first, then chat connections; none of them ever sends a frame. */
  private CompletableFuture<Void> openFlood(Vertx vertx, WebSocketClient client) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    int total = floodStream + floodChat;
    AtomicInteger next = new AtomicInteger();
    AtomicInteger finished = new AtomicInteger();
    Runnable[] connectNext = new Runnable[1];
    connectNext[0] = () -> {
      int n = next.getAndIncrement();
      if (n >= total) {
        return;
      }
      boolean stream = n < floodStream;
      String kind = stream ? "stream" : "chat";
      String uri = stream ? "/metrics/stream" : "/chat?nickname=f" + n;
      client.connect(new WebSocketConnectOptions().setURI(uri).setAllowOriginHeader(false)).onComplete(ar -> {
        if (ar.succeeded()) {
          WebSocket ws = ar.result();
          keep.add(ws);
          floodOpened.increment();
          ws.handler(b -> floodFramesReceived.incrementAndGet());
          ws.exceptionHandler(e -> { });
          ws.closeHandler(v -> count(floodCloses, closeKey(kind, ws)));
        } else {
          count(floodFailures, kind + ": " + ar.cause());
        }
        int f = finished.incrementAndGet();
        if (f % 1000 == 0) {
          log("  flood: %d attempted", f);
        }
        if (f == total) {
          done.complete(null);
        }
        connectNext[0].run();
      });
    };
    if (total == 0) {
      done.complete(null);
    }
    vertx.runOnContext(v -> {
      for (int i = 0; i < floodConcurrency; i++) {
        connectNext[0].run();
      }
    });
    return done;
  }

  private static void sleep(long millis) throws InterruptedException {
    Thread.sleep(millis);
  }

  private static void log(String format, Object... args) {
    System.err.printf("[flood-bench %tT] %s%n", System.currentTimeMillis(), String.format(format, args));
  }
}
