package com.chatroom.pulse.bench;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Load client of the reconnect-storm benchmark ({@code bench/run-reconnect-storm.sh}): {@code stream} subscribers of
 * {@code /metrics/stream} and {@code chat} anonymous chat clients in {@code rooms} rooms, one sender per room sending a
 * message every {@code send-interval-ms}. Once all are in and the traffic has run {@code traffic-seconds}, it writes
 * {@code ready-file}; the script then restarts the server (SIGTERM, start again on the same port). Every client
 * reconnects the way the dashboard does (stream.js: delay = min(15 s, 0.5 s × 2^attempt) × (0.8..1.2), the attempt
 * counter raised only when a connection closed without a hello); the stream with {@code ?since=} the last sample it
 * saw, the chat clients by rejoining with {@code since} their last seq; a sender re-sends its unacknowledged messages
 * under the same ids. Measured: time from the first close until every client is back (stream: hello; chat: joined),
 * refusals, close codes; checked: every chat member has every message of its room, without gap, up to the last one
 * acked, and every message sent was acked. One JSON line out.
 */
public final class ReconnectClient {

  private final String host;
  private final int port;
  private final int streams;
  private final int chats;
  private final int rooms;
  private final int sendIntervalMs;
  private final int trafficSeconds;
  private final int afterSeconds;
  private final int timeoutSeconds;
  private final int concurrency;
  private final long backoffMinMs;
  private final long backoffMaxMs;
  private final Path readyFile;

  private final Client[] clients;
  /** Kept reachable for the whole run: Vert.x 5 closes sockets nobody references. */
  private final WebSocket[] sockets;
  private Vertx vertx;
  private Context context;
  private WebSocketClient wsClient;

  // touched only on the single event loop
  private int initiallyUp;
  private boolean restarting;
  private long firstCloseMillis;
  private int back;
  private long allBackMillis;
  private final long[] backAfterMillis;
  private final Map<String, Integer> firstCloseCodes = new TreeMap<>();
  private final Map<String, Integer> laterCloseCodes = new TreeMap<>();
  private final Map<String, Integer> connectFailures = new TreeMap<>();
  private long reconnectAttempts;
  private final long[] roomMaxAcked;
  private long sent;
  private long acked;
  private long chatErrors;
  private long resent;
  private final Map<String, Integer> chatErrorCodes = new TreeMap<>();
  private final List<String> chatErrorExamples = new ArrayList<>();
  private long historyGapFlags;
  private long backfillFrames;
  private boolean stopSending;

  /** One client's state across its connections. */
  private static final class Client {
    final int id;
    final boolean chat;
    final int room;
    final boolean sender;
    int attempt;
    boolean helloSeen;
    boolean up;
    boolean wasBack;
    int closes;
    // stream
    double lastTimestamp = -1;
    long lastSeq = -1;
    long streamGaps;
    // chat
    long chatLastSeq;
    long chatFirstSeq = -1;
    long chatGaps;
    long duplicates;
    long sentCount;
    final Map<String, String> unacked = new LinkedHashMap<>();

    Client(int id, boolean chat, int room, boolean sender) {
      this.id = id;
      this.chat = chat;
      this.room = room;
      this.sender = sender;
    }
  }

  private ReconnectClient(Options o) {
    host = o.string("host", "127.0.0.1");
    port = o.integer("port", 8888, 1, 65535);
    streams = o.integer("stream", 5000, 0, 100_000);
    chats = o.integer("chat", 5000, 0, 100_000);
    rooms = o.integer("rooms", 50, 1, 10_000);
    sendIntervalMs = o.integer("send-interval-ms", 1000, 50, 60_000);
    trafficSeconds = o.seconds("traffic-seconds", 8, 1, 600);
    afterSeconds = o.seconds("after-seconds", 5, 1, 600);
    timeoutSeconds = o.seconds("timeout", 90, 10, 3600);
    concurrency = o.integer("concurrency", 200, 1, 10_000);
    backoffMinMs = o.integer("backoff-min-ms", 500, 1, 60_000);
    backoffMaxMs = o.integer("backoff-max-ms", 15_000, 1, 600_000);
    readyFile = Path.of(o.string("ready-file", "reconnect.ready"));
    clients = new Client[streams + chats];
    sockets = new WebSocket[streams + chats];
    backAfterMillis = new long[streams + chats];
    roomMaxAcked = new long[rooms];
    int s = 0;
    int c = 0;
    for (int i = 0; i < clients.length; i++) {
      // interleaved, so that both kinds connect and reconnect side by side
      boolean chat = (i % 2 == 1 && c < chats) || s >= streams;
      if (chat) {
        int room = c % rooms;
        clients[i] = new Client(i, true, room, c < rooms);
        c++;
      } else {
        clients[i] = new Client(i, false, -1, false);
        s++;
      }
    }
  }

  public static void main(String[] args) throws Exception {
    Options.launch(args, o -> new ReconnectClient(o)::run);
  }

  private int run() throws Exception {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setBlockedThreadCheckInterval(10_000)
      .setPreferNativeTransport(true));
    context = vertx.getOrCreateContext();
    wsClient = vertx.createWebSocketClient(new WebSocketClientOptions().setDefaultHost(host).setDefaultPort(port)
      .setMaxConnections(clients.length + concurrency).setConnectTimeout(30_000));
    Files.deleteIfExists(readyFile);
    log("connecting %d stream + %d chat clients (%d rooms) to %s:%d", streams, chats, rooms, host, port);
    long t0 = System.nanoTime();
    on(this::connectAll).get(5, TimeUnit.MINUTES);
    double connectSeconds = (System.nanoTime() - t0) / 1e9;
    // every client in (chat: joined) before the traffic starts; joins refused under load are retried
    long upDeadline = System.currentTimeMillis() + 60_000;
    int up = 0;
    while (System.currentTimeMillis() < upDeadline
      && (up = on(() -> Future.succeededFuture(countUp())).get()) < clients.length) {
      Thread.sleep(200);
    }
    connectSeconds = (System.nanoTime() - t0) / 1e9;
    log("%d of %d up in %.1f s", up, clients.length, connectSeconds);
    on(() -> {
      initiallyUp = countUp();
      vertx.setPeriodic(sendIntervalMs, id -> sendAll());
      return Future.succeededFuture();
    }).get();
    Thread.sleep(trafficSeconds * 1000L);
    on(() -> {
      restarting = true;
      return Future.succeededFuture();
    }).get();
    Files.writeString(readyFile, "ready\n");
    log("traffic ran %d s: ready for the restart (%s)", trafficSeconds, readyFile);

    long deadline = System.currentTimeMillis() + timeoutSeconds * 1000L;
    while (System.currentTimeMillis() < deadline) {
      boolean done = on(() -> Future.succeededFuture(firstCloseMillis > 0 && back == clients.length)).get();
      if (done) {
        break;
      }
      Thread.sleep(100);
    }
    log("back: %s", on(() -> Future.succeededFuture(back + " of " + clients.length)).get());
    Thread.sleep(afterSeconds * 1000L);
    on(() -> {
      stopSending = true;
      return Future.succeededFuture();
    }).get();
    Thread.sleep(3000);
    double connected = connectSeconds;
    JsonObject result = on(() -> Future.succeededFuture(result(connected))).get(10, TimeUnit.SECONDS);
    System.out.println(result.encode());
    return 0;
  }

  private int countUp() {
    int n = 0;
    for (Client c : clients) {
      if (c.up) {
        n++;
      }
    }
    return n;
  }

  private Future<Void> connectAll() {
    Promise<Void> done = Promise.promise();
    int[] next = {0};
    int[] finished = {0};
    Runnable[] step = new Runnable[1];
    step[0] = () -> {
      if (next[0] >= clients.length) {
        return;
      }
      Client c = clients[next[0]++];
      connect(c).onComplete(ar -> {
        if (++finished[0] == clients.length) {
          // the chat clients' joins may still be on their way: give them a moment
          vertx.setTimer(2000, id -> done.complete());
        } else {
          step[0].run();
        }
      });
    };
    for (int i = 0; i < concurrency; i++) {
      step[0].run();
    }
    return done.future();
  }

  private Future<WebSocket> connect(Client c) {
    String uri;
    if (c.chat) {
      uri = "/chat?nickname=c" + c.id;
    } else {
      uri = "/metrics/stream?streams=system" + (c.lastTimestamp > 0 ? "&since=" + String.format(java.util.Locale.ROOT, "%.3f", c.lastTimestamp) : "");
    }
    c.helloSeen = false;
    reconnectAttempts++;
    return wsClient.connect(new WebSocketConnectOptions().setAllowOriginHeader(false).setURI(uri))
      .onSuccess(ws -> {
        sockets[c.id] = ws;
        ws.textMessageHandler(text -> onText(c, ws, text));
        ws.exceptionHandler(e -> { });
        ws.closeHandler(v -> onClose(c, ws.closeStatusCode()));
      })
      .onFailure(e -> {
        String cause = e.getClass().getSimpleName() + ": " + e.getMessage();
        connectFailures.merge(cause.length() > 100 ? cause.substring(0, 100) : cause, 1, Integer::sum);
        if (restarting) {
          scheduleReconnect(c);
        }
      });
  }

  private void onClose(Client c, Short code) {
    boolean wasUp = c.up;
    c.up = false;
    sockets[c.id] = null;
    String key = String.valueOf(code);
    if (restarting && c.closes == 0) {
      if (firstCloseMillis == 0) {
        firstCloseMillis = System.currentTimeMillis();
        log("first close (%s): the restart began", key);
      }
      firstCloseCodes.merge(key, 1, Integer::sum);
    } else {
      laterCloseCodes.merge(key + (wasUp ? " (after hello)" : " (before hello)"), 1, Integer::sum);
    }
    c.closes++;
    if (c.wasBack) {
      back--;
      c.wasBack = false;
    }
    scheduleReconnect(c);
  }

  /** As stream.js: the attempt counter goes up only when the last connection never got its hello. */
  private void scheduleReconnect(Client c) {
    if (!c.helloSeen) {
      c.attempt++;
    }
    double jitter = 0.8 + 0.4 * ThreadLocalRandom.current().nextDouble();
    long delay = (long) (Math.min(backoffMaxMs, backoffMinMs * Math.pow(2, Math.min(c.attempt, 20))) * jitter);
    vertx.setTimer(Math.max(1, delay), id -> connect(c));
  }

  private void onText(Client c, WebSocket ws, String text) {
    if (!c.chat) {
      onStreamText(c, text);
      return;
    }
    JsonObject f = new JsonObject(text);
    switch (f.getString("type", "")) {
      case "hello" -> {
        c.helloSeen = true;
        c.attempt = 0;
        ws.writeTextMessage(join(c).encode());
      }
      case "joined" -> {
        if (f.getBoolean("gap", false)) {
          historyGapFlags++;
        }
        markUp(c);
        if (c.sender) {
          // the ones not acked before the restart, under the same ids: de-duplication makes this safe
          c.unacked.forEach((id, body) -> ws.writeTextMessage(body));
        }
      }
      case "message" -> {
        long seq = f.getLong("seq");
        if (c.chatFirstSeq < 0) {
          c.chatFirstSeq = seq;
        } else if (seq > c.chatLastSeq + 1) {
          c.chatGaps += seq - c.chatLastSeq - 1;
        } else if (seq <= c.chatLastSeq) {
          c.duplicates++;
        }
        c.chatLastSeq = Math.max(c.chatLastSeq, seq);
      }
      case "ack" -> {
        if (c.unacked.remove(f.getString("id")) != null) {
          acked++;
        }
        roomMaxAcked[c.room] = Math.max(roomMaxAcked[c.room], f.getLong("seq", 0L));
      }
      case "error" -> {
        chatErrors++;
        String code = f.getString("code", "?");
        chatErrorCodes.merge(code, 1, Integer::sum);
        if (chatErrorExamples.size() < 5) {
          chatErrorExamples.add(text.length() > 300 ? text.substring(0, 300) : text);
        }
        String refusedId = f.getString("id");
        if (refusedId != null && c.unacked.containsKey(refusedId)) {
          // a send refused with `unavailable`: re-sent under the same id a moment later, as the protocol asks
          WebSocket current = sockets[c.id];
          vertx.setTimer(500 + ThreadLocalRandom.current().nextInt(1000), id -> {
            String body = c.unacked.get(refusedId);
            if (body != null && current == sockets[c.id] && current != null) {
              resent++;
              current.writeTextMessage(body);
            }
          });
        } else if (!c.up && c.helloSeen) {
          // the join was refused (e.g. the node is overloaded): try it again a second later, as a user's client would
          WebSocket current = sockets[c.id];
          vertx.setTimer(500 + ThreadLocalRandom.current().nextInt(1000), id -> {
            if (current == sockets[c.id] && current != null && !c.up) {
              current.writeTextMessage(join(c).encode());
            }
          });
        }
      }
      default -> { }
    }
  }

  private JsonObject join(Client c) {
    JsonObject join = new JsonObject().put("type", "join").put("room", "room" + c.room);
    if (c.chatFirstSeq >= 0) {
      join.put("since", c.chatLastSeq);
    }
    return join;
  }

  private void onStreamText(Client c, String text) {
    if (text.startsWith("{\"type\":\"hello\"")) {
      c.helloSeen = true;
      c.attempt = 0;
      c.lastSeq = -1;
      markUp(c);
      return;
    }
    if (text.startsWith("{\"type\":\"backfill_done\"")) {
      // history frames came first, under the old process's seq numbers: count gaps from here on
      c.lastSeq = -1;
      return;
    }
    byte[] frame = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    if (FrameScan.kind(frame) != FrameScan.Kind.SYSTEM) {
      return;
    }
    long seq = FrameScan.seq(frame);
    long ts = FrameScan.timestampMicros(frame);
    if (c.closes > 0 && c.lastSeq < 0 && ts / 1e6 <= c.lastTimestamp + 1e-3) {
      backfillFrames++;
    }
    if (c.lastSeq >= 0 && seq > c.lastSeq + 1) {
      c.streamGaps += seq - c.lastSeq - 1;
    }
    c.lastSeq = Math.max(c.lastSeq, seq);
    c.lastTimestamp = Math.max(c.lastTimestamp, ts / 1e6);
  }

  private void markUp(Client c) {
    c.up = true;
    if (restarting && c.closes > 0 && !c.wasBack) {
      c.wasBack = true;
      back++;
      backAfterMillis[c.id] = System.currentTimeMillis() - firstCloseMillis;
      if (back == clients.length) {
        allBackMillis = System.currentTimeMillis();
        log("all %d back %d ms after the first close", back, allBackMillis - firstCloseMillis);
      }
    }
  }

  private void sendAll() {
    if (stopSending) {
      return;
    }
    for (Client c : clients) {
      if (c.sender && c.up && sockets[c.id] != null) {
        String id = "c" + c.id + "-" + ++c.sentCount;
        String body = new JsonObject().put("type", "send").put("room", "room" + c.room).put("id", id)
          .put("text", "message " + c.sentCount + " of sender c" + c.id).encode();
        c.unacked.put(id, body);
        sent++;
        sockets[c.id].writeTextMessage(body);
      }
    }
  }

  private JsonObject result(double connectSeconds) {
    long membersWithGaps = 0;
    long membersBehind = 0;
    long gapMessages = 0;
    long duplicates = 0;
    long streamGapsAfter = 0;
    long unacked = 0;
    List<String> examples = new ArrayList<>();
    long[] backTimes = new long[clients.length];
    int n = 0;
    for (Client c : clients) {
      if (c.wasBack) {
        backTimes[n++] = backAfterMillis[c.id];
      }
      if (c.chat) {
        gapMessages += c.chatGaps;
        duplicates += c.duplicates;
        if (c.chatGaps > 0) {
          membersWithGaps++;
        }
        if (c.chatLastSeq != roomMaxAcked[c.room]) {
          membersBehind++;
          if (examples.size() < 5) {
            examples.add("c" + c.id + " room" + c.room + ": last seq " + c.chatLastSeq + ", room's last acked "
              + roomMaxAcked[c.room]);
          }
        }
        unacked += c.unacked.size();
      } else {
        streamGapsAfter += c.streamGaps;
      }
    }
    long[] sorted = Arrays.copyOf(backTimes, n);
    Arrays.sort(sorted);
    return new JsonObject()
      .put("stream", streams).put("chat", chats).put("rooms", rooms)
      .put("connect_seconds", Report.round(connectSeconds, 1))
      .put("initially_up", initiallyUp)
      .put("first_close_epoch_ms", firstCloseMillis)
      .put("all_back_epoch_ms", allBackMillis == 0 ? null : allBackMillis)
      .put("all_back_seconds", allBackMillis == 0 ? null : Report.round((allBackMillis - firstCloseMillis) / 1000d, 2))
      .put("back", back)
      .put("back_p50_seconds", n == 0 ? null : Report.round(sorted[n / 2] / 1000d, 2))
      .put("back_p99_seconds", n == 0 ? null : Report.round(sorted[Math.min(n - 1, (int) (n * 0.99))] / 1000d, 2))
      .put("close_codes", new JsonObject(new TreeMap<>(firstCloseCodes)))
      .put("reconnect_close_codes", new JsonObject(new TreeMap<>(laterCloseCodes)))
      .put("connect_failures", new JsonObject(new TreeMap<>(connectFailures)))
      .put("connect_refused", connectFailures.values().stream().mapToInt(Integer::intValue).sum())
      .put("connect_attempts", reconnectAttempts)
      .put("messages_sent", sent).put("sends_retried_after_refusal", resent).put("messages_acked", acked).put("messages_unacked", unacked)
      .put("chat_errors", chatErrors)
      .put("chat_error_codes", new JsonObject(new TreeMap<>(chatErrorCodes)))
      .put("chat_error_examples", new io.vertx.core.json.JsonArray(chatErrorExamples))
      .put("chat_members_with_gaps", membersWithGaps).put("chat_gap_messages", gapMessages)
      .put("chat_members_behind", membersBehind).put("chat_duplicates_dropped", duplicates)
      .put("chat_history_gap_flags", historyGapFlags)
      .put("behind_examples", examples)
      .put("stream_backfill_frames", backfillFrames)
      .put("stream_gaps_after_reconnect", streamGapsAfter);
  }

  private <T> CompletableFuture<T> on(java.util.function.Supplier<Future<T>> action) {
    return Contexts.call(context, action);
  }

  private static void log(String format, Object... args) {
    System.err.printf("[reconnect %tT] %s%n", System.currentTimeMillis(), String.format(format, args));
  }
}
