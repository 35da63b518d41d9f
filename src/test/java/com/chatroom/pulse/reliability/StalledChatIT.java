package com.chatroom.pulse.reliability;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static com.chatroom.pulse.reliability.Waits.await;
import static com.chatroom.pulse.reliability.Waits.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code pulse.stall.members} anonymous chat members (CI: 500; {@code -Dpulse.long=true}: 5,000) in ten rooms of one
 * node (in this JVM, two edge instances), one sender per room at {@code pulse.stall.rate} messages a second in all
 * (CI 50, long 10). 1 % of the members are also in a "bulk" room where 16 KB (long: 8 KB) messages arrive 40 times a
 * second, so that once they stop reading their socket buffers fill within seconds rather than hours. Phase 1: everyone reads; phase 2: the 1 %
 * pause (stop reading; 4 KB receive buffers) while the same traffic goes on. Latency is the sender's write to the
 * frame in a reader (one JVM, one clock). A control run does the same with nobody paused, so the stalled run's ratio
 * can be read against what the phases and the machine's noise give alone.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Stalled chat clients: 1 % stop reading")
class StalledChatIT {

  private static final Logger LOG = LoggerFactory.getLogger(StalledChatIT.class);
  private static final boolean LONG = Boolean.getBoolean("pulse.long");
  private static final int MEMBERS = Integer.getInteger("pulse.stall.members", LONG ? 5_000 : 500);
  private static final int STALLED = Math.max(1, MEMBERS / 100);
  private static final int ROOMS = 10;
  /**
   * Messages a second, all rooms together: 50 in CI (2,500 deliveries/s); 10 in the long run (5,000 deliveries/s), since
   * 50 to 5,000 members saturated this machine's two cores (p50 0.9 s in phase 1), where a p99 says nothing.
   */
  private static final int RATE = Integer.getInteger("pulse.stall.rate", LONG ? 10 : 50);
  private static final long WARM_UP_MS = LONG ? 10_000 : 4_000;
  private static final long PHASE_MS = LONG ? 30_000 : 12_000;
  /** 16 KB at 40/s fills a stalled member's socket buffers in about 5 s; the long run's 50 stalled get half of that each. */
  private static final int BULK_CHARS = LONG ? 8_000 : 16_000;
  private static final long BULK_PERIOD_MS = 25;
  private static final String BULK = "bulk";

  private WebSocketClient readers;
  private WebSocketClient stallers;

  /** One member: per room the last seq it saw, gaps, what it received, and how its connection ended. */
  private static final class Member {
    final int index;
    final boolean staller;
    final String room;
    ClientWebSocket ws;
    final Map<String, Long> lastSeq = new ConcurrentHashMap<>();
    final AtomicLong gaps = new AtomicLong();
    final AtomicLong received = new AtomicLong();
    final AtomicLong joined = new AtomicLong();
    final Promise<Short> closed = Promise.promise();
    volatile String closeReason;

    Member(int index, boolean staller) {
      this.index = index;
      this.staller = staller;
      this.room = "room" + (index * ROOMS / MEMBERS);
    }
  }

  /** A room's sender: its acks give the room's last seq. */
  private static final class Sender {
    final String room;
    ClientWebSocket ws;
    volatile long lastAcked;
    final AtomicLong acks = new AtomicLong();
    final AtomicLong refused = new AtomicLong();
    final Map<String, Integer> refusals = new ConcurrentHashMap<>();
    int next;
    long timer = -1;

    Sender(String room) {
      this.room = room;
    }
  }

  @Test
  @Timeout(value = 900, timeUnit = TimeUnit.SECONDS)
  @DisplayName("the stalled are closed with 4000 and a reason; readers lose nothing and their p99 stays within 2x; heap stays bounded; the stalled recover everything from history")
  void onePercentStopReading(Vertx vertx) {
    scenario(vertx, true);
  }

  /** The same phases and traffic with nobody paused: the p99 ratio that the machine's noise and the phases alone give. */
  @Test
  @Timeout(value = 900, timeUnit = TimeUnit.SECONDS)
  @DisplayName("control: with nobody paused every member gets every message and no one is closed")
  void controlNobodyStops(Vertx vertx) {
    scenario(vertx, false);
  }

  private void scenario(Vertx vertx, boolean pause) {
    readers = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(MEMBERS + ROOMS + 1));
    stallers = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(MEMBERS).setReceiveBufferSize(4096));
    JsonObject config = new JsonObject().put("chat", new JsonObject().put("allow_anonymous", true)
      .put("max_connections_per_ip", 1_000_000).put("messages_per_second", 1_000).put("burst", 1_000)
      .put("max_message_chars", 20_000).put("history_size", 5_000));
    int port = await(Edge.deploy(vertx, config), 30_000, "node").http().port();
    java.util.concurrent.atomic.AtomicInteger phase = new java.util.concurrent.atomic.AtomicInteger();
    Histogram[] latency = {new ConcurrentHistogram(3), new ConcurrentHistogram(3)};

    // members, joined to their rooms (the stalled ones to the bulk room too) before any traffic
    List<Member> members = new ArrayList<>();
    for (int from = 0; from < MEMBERS; from += 200) {
      List<Future<?>> connects = new ArrayList<>();
      for (int i = from; i < Math.min(MEMBERS, from + 200); i++) {
        Member m = new Member(i, i % 100 == 50 && i / 100 < STALLED);
        members.add(m);
        connects.add(connect(m, port, phase, latency));
      }
      await(Future.all(connects), 60_000, "members " + from + "+ connect");
    }
    await(until(vertx, () -> members.stream().allMatch(m -> m.joined.get() == (m.staller ? 2 : 1)), 120_000,
      () -> members.stream().filter(m -> m.joined.get() < (m.staller ? 2 : 1)).count() + " members not joined"), 130_000, "joins");

    List<Sender> senders = new ArrayList<>();
    for (int r = 0; r < ROOMS; r++) {
      senders.add(new Sender("room" + r));
    }
    Sender bulk = new Sender(BULK);
    senders.add(bulk);
    for (Sender s : senders) {
      s.ws = readers.webSocket();
      s.ws.textMessageHandler(text -> onSenderFrame(s, text));
      await(s.ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/chat?nickname=sender-" + s.room))
        .compose(w -> {
          w.writeTextMessage(new JsonObject().put("type", "join").put("room", s.room).encode());
          return Future.succeededFuture();
        }), 15_000, "sender of " + s.room);
    }
    long heapConnected = heapAfterGc();

    // steady traffic: each sender checks every 10 ms how many messages its rate owes by now and sends them (at most
    // 10 at once), so a late timer on a busy event loop does not lower the offered rate
    long roomPeriodNanos = 1_000_000_000L * ROOMS / RATE;
    String pad = "x".repeat(BULK_CHARS);
    for (Sender s : senders) {
      boolean isBulk = s == bulk;
      long periodNanos = isBulk ? BULK_PERIOD_MS * 1_000_000 : roomPeriodNanos;
      long start = System.nanoTime();
      s.timer = vertx.setPeriodic(10, t -> {
        long due = (System.nanoTime() - start) / periodNanos;
        for (int burst = 0; s.next < due && burst < 10; burst++) {
          s.ws.writeTextMessage(new JsonObject().put("type", "send").put("room", s.room).put("id", s.room + "-" + ++s.next)
            .put("text", phase.get() + ":" + System.nanoTime() + (isBulk ? ":" + pad : "")).encode());
        }
      });
    }
    long t0 = System.currentTimeMillis();
    waitFor(vertx, t0 + WARM_UP_MS, "warm-up");
    phase.set(1);
    waitFor(vertx, t0 + WARM_UP_MS + PHASE_MS, "phase 1");
    // between the phases, unmeasured: the full GC for the heap figure stops this whole JVM, server included, and the
    // messages it delays belong to neither phase
    phase.set(0);
    long heapPhase1 = heapAfterGc();
    List<Member> stalled = members.stream().filter(m -> m.staller).toList();
    if (pause) {
      stalled.forEach(m -> m.ws.pause());
    }
    long pausedAt = System.currentTimeMillis();
    waitFor(vertx, pausedAt + 1_000, "settle after the GC");
    phase.set(2);
    long[] allCutAt = {0};
    long watcher = vertx.setPeriodic(50, t -> {
      if (allCutAt[0] == 0 && slowDisconnects(vertx) >= STALLED) {
        allCutAt[0] = System.currentTimeMillis();
      }
    });
    waitFor(vertx, pausedAt + 1_000 + PHASE_MS, "phase 2");
    long heapStalled = heapAfterGc();
    phase.set(3);
    senders.forEach(s -> vertx.cancelTimer(s.timer));
    if (pause) {
      await(until(vertx, () -> allCutAt[0] > 0, 120_000, () -> slowDisconnects(vertx) + " of " + STALLED
        + " stalled disconnected as slow"), 130_000, "the stalled are disconnected");
    }
    vertx.cancelTimer(watcher);
    // every send answered (an ack, or an error: under heavy load a post can time out as unavailable after the
    // registry sequenced it, so a room's last seq is the highest any member saw, at least the last ack)
    Map<String, Long> last = new HashMap<>();
    await(until(vertx, () -> senders.stream().allMatch(s -> s.acks.get() + s.refused.get() >= s.next), 30_000,
      () -> "senders' last acks: " + senders.stream().map(s -> s.room + " sent " + s.next + ", refused " + s.refusals
        + ", last ack " + s.lastAcked).toList()), 40_000, "last acks");
    senders.forEach(s -> last.put(s.room, s.lastAcked));
    List<Member> others = members.stream().filter(m -> !m.staller).toList();
    await(until(vertx, () -> others.stream().allMatch(m -> m.lastSeq.getOrDefault(m.room, 0L) >= last.get(m.room)), 60_000,
      () -> others.stream().filter(m -> m.lastSeq.getOrDefault(m.room, 0L) < last.get(m.room)).count() + " readers behind"),
      70_000, "readers caught up");
    others.forEach(m -> last.merge(m.room, m.lastSeq.getOrDefault(m.room, 0L), Math::max));

    if (!pause) {
      control(vertx, members, last, latency, heapConnected, heapPhase1, heapStalled);
      return;
    }
    // the stalled read what was queued for them, then the close frame
    stalled.forEach(m -> m.ws.resume());
    for (Member m : stalled) {
      short code = await(m.closed.future(), 60_000, "close seen by stalled member " + m.index);
      assertThat(code).as("close code to stalled member " + m.index).isEqualTo((short) 4000);
      assertThat(m.closeReason).contains("too slow").contains("since=");
    }
    Map<Member, Map<String, Long>> seenBeforeClose = new HashMap<>();
    stalled.forEach(m -> seenBeforeClose.put(m, Map.copyOf(m.lastSeq)));
    // then reconnect and recover from history with since=<last seq seen>
    long recoverFrom = System.currentTimeMillis();
    for (Member m : stalled) {
      await(reconnect(m, port, phase, latency), 15_000, "stalled member " + m.index + " reconnects");
    }
    await(until(vertx, () -> stalled.stream().allMatch(m -> m.lastSeq.getOrDefault(m.room, 0L) >= last.get(m.room)
      && m.lastSeq.getOrDefault(BULK, 0L) >= last.get(BULK)), 60_000, () -> "stalled recovered"), 70_000, "recovery");
    long recoveredMs = System.currentTimeMillis() - recoverFrom;

    double p99None = latency[0].getValueAtPercentile(99) / 1e3;
    double p99Stalled = latency[1].getValueAtPercentile(99) / 1e3;
    double ratio = p99Stalled / p99None;
    JsonObject figures = new JsonObject()
      .put("members", MEMBERS).put("stalled", STALLED).put("rooms", ROOMS).put("messages_per_second", RATE)
      .put("bulk_messages_per_second", 1000 / BULK_PERIOD_MS).put("bulk_chars", BULK_CHARS).put("phase_ms", PHASE_MS)
      .put("deliveries_measured_phase1", latency[0].getTotalCount()).put("deliveries_measured_phase2", latency[1].getTotalCount())
      .put("p50_ms_none_stalled", latency[0].getValueAtPercentile(50) / 1e3).put("p99_ms_none_stalled", p99None)
      .put("p50_ms_one_percent_stalled", latency[1].getValueAtPercentile(50) / 1e3).put("p99_ms_one_percent_stalled", p99Stalled)
      .put("max_ms_none_stalled", latency[0].getMaxValue() / 1e3).put("max_ms_one_percent_stalled", latency[1].getMaxValue() / 1e3)
      .put("p99_ratio", ratio)
      .put("all_stalled_disconnected_after_ms", allCutAt[0] - pausedAt)
      .put("slow_disconnects", slowDisconnects(vertx))
      .put("messages_refused_to_senders", senders.stream().mapToLong(s -> s.refused.get()).sum())
      .put("refusals", new JsonObject(senders.stream().flatMap(s -> s.refusals.entrySet().stream())
        .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> (Object) e.getValue(), (a, b) -> (Integer) a + (Integer) b))))
      .put("room_last_seqs", new JsonObject(new HashMap<>(last)))
      .put("stalled_recovered_ms", recoveredMs)
      .put("heap_after_gc_mb_connected", heapConnected >> 20).put("heap_after_gc_mb_phase1", heapPhase1 >> 20)
      .put("heap_after_gc_mb_phase2_stalled", heapStalled >> 20);
    Figures.record(LONG ? "stalled-chat-long" : "stalled-chat", figures);

    // readers: every message of their room, in order, none missing, never disconnected
    assertThat(others).allSatisfy(m -> {
      assertThat(m.gaps.get()).as("gaps seen by reader " + m.index).isZero();
      assertThat(m.received.get()).as("messages to reader " + m.index).isEqualTo(last.get(m.room));
      assertThat(m.closed.future().isComplete()).as("reader " + m.index + " still connected").isFalse();
    });
    assertThat(slowDisconnects(vertx)).as("slow disconnects: the stalled ones only").isEqualTo(STALLED);
    // the stalled: nothing dropped before the close (no gap), and everything after it recovered with since=
    assertThat(stalled).allSatisfy(m -> {
      assertThat(m.gaps.get()).as("gaps seen by stalled member " + m.index + " (before and after the reconnect)").isZero();
      assertThat(seenBeforeClose.get(m).get(BULK)).as("bulk messages the stalled member saw before its close")
        .isLessThan(last.get(BULK));
      assertThat(m.received.get()).as("messages to stalled member " + m.index + ", its own room and bulk")
        .isEqualTo(last.get(m.room) + last.get(BULK));
    });
    assertThat(ratio).as("readers' p99 with 1 % stalled / with none").isLessThanOrEqualTo(2.0);
    assertThat(heapStalled - heapPhase1).as("heap growth while stalled (bytes)").isLessThan(64L << 20);
  }

  /** The control run's figures and checks: every member, the marked 1 % included, got everything; nobody was closed. */
  private void control(Vertx vertx, List<Member> members, Map<String, Long> last, Histogram[] latency, long heapConnected,
                       long heapPhase1, long heapPhase2) {
    await(until(vertx, () -> members.stream().filter(m -> m.staller).allMatch(m -> m.lastSeq.getOrDefault(BULK, 0L) >= last.get(BULK)),
      60_000, () -> "marked members caught up"), 70_000, "marked members caught up");
    double p99One = latency[0].getValueAtPercentile(99) / 1e3;
    double p99Two = latency[1].getValueAtPercentile(99) / 1e3;
    Figures.record(LONG ? "stalled-chat-control-long" : "stalled-chat-control", new JsonObject()
      .put("members", MEMBERS).put("marked_not_paused", STALLED).put("messages_per_second", RATE)
      .put("p50_ms_phase1", latency[0].getValueAtPercentile(50) / 1e3).put("p99_ms_phase1", p99One)
      .put("p50_ms_phase2", latency[1].getValueAtPercentile(50) / 1e3).put("p99_ms_phase2", p99Two)
      .put("p99_ratio", p99Two / p99One).put("slow_disconnects", slowDisconnects(vertx))
      .put("heap_after_gc_mb_connected", heapConnected >> 20).put("heap_after_gc_mb_phase1", heapPhase1 >> 20)
      .put("heap_after_gc_mb_phase2", heapPhase2 >> 20));
    assertThat(members).allSatisfy(m -> {
      assertThat(m.gaps.get()).as("gaps seen by member " + m.index).isZero();
      assertThat(m.received.get()).as("messages to member " + m.index)
        .isEqualTo(last.get(m.room) + (m.staller ? last.get(BULK) : 0));
      assertThat(m.closed.future().isComplete()).as("member " + m.index + " still connected").isFalse();
    });
    assertThat(slowDisconnects(vertx)).as("slow disconnects with nobody paused").isZero();
  }

  private Future<Void> connect(Member m, int port, java.util.concurrent.atomic.AtomicInteger phase, Histogram[] latency) {
    ClientWebSocket ws = (m.staller ? stallers : readers).webSocket();
    m.ws = ws;
    ws.textMessageHandler(text -> onFrame(m, text, phase, latency));
    ws.closeHandler(v -> {
      m.closeReason = ws.closeReason();
      m.closed.tryComplete(ws.closeStatusCode());
    });
    return ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/chat?nickname=m" + m.index))
      .map(w -> {
        w.writeTextMessage(new JsonObject().put("type", "join").put("room", m.room).encode());
        if (m.staller) {
          w.writeTextMessage(new JsonObject().put("type", "join").put("room", BULK).encode());
        }
        return null;
      });
  }

  /** A new connection (a reader now: the test no longer pauses it) joined with since = the last seq it saw in each room. */
  private Future<Void> reconnect(Member m, int port, java.util.concurrent.atomic.AtomicInteger phase, Histogram[] latency) {
    ClientWebSocket ws = readers.webSocket();
    m.ws = ws;
    ws.textMessageHandler(text -> onFrame(m, text, phase, latency));
    return ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/chat?nickname=m" + m.index))
      .map(w -> {
        for (String room : List.of(m.room, BULK)) {
          w.writeTextMessage(new JsonObject().put("type", "join").put("room", room)
            .put("since", m.lastSeq.getOrDefault(room, 0L)).encode());
        }
        return null;
      });
  }

  /** Reads the frame's fields by position: parsing 16 KB bulk frames as JSON for every stalled member is needless load. */
  private static void onFrame(Member m, String text, java.util.concurrent.atomic.AtomicInteger phase, Histogram[] latency) {
    long now = System.nanoTime();
    if (text.startsWith("{\"type\":\"message\"")) {
      String room = field(text, "\"room\":\"", '"');
      long seq = Long.parseLong(field(text, "\"seq\":", ','));
      long previous = m.lastSeq.getOrDefault(room, 0L);
      if (seq != previous + 1) {
        m.gaps.addAndGet(Math.abs(seq - previous - 1));
      }
      m.lastSeq.put(room, seq);
      m.received.incrementAndGet();
      if (!m.staller && !BULK.equals(room)) {
        String body = field(text, "\"text\":\"", '"');
        int colon = body.indexOf(':');
        int sentPhase = Integer.parseInt(body.substring(0, colon));
        if (sentPhase == 1 || sentPhase == 2) {
          long sentAt = Long.parseLong(body.substring(colon + 1));
          latency[sentPhase - 1].recordValue(Math.max(0, (now - sentAt) / 1000));
        }
      }
    } else if (text.startsWith("{\"type\":\"joined\"")) {
      JsonObject joined = new JsonObject(text);
      if (joined.getBoolean("gap", false)) {
        m.gaps.addAndGet(joined.getLong("missed", 1L));
      }
      m.joined.incrementAndGet();
    }
  }

  private static String field(String text, String key, char end) {
    int from = text.indexOf(key) + key.length();
    return text.substring(from, text.indexOf(end, from));
  }

  private static void onSenderFrame(Sender s, String text) {
    if (text.startsWith("{\"type\":\"ack\"")) {
      JsonObject ack = new JsonObject(text);
      s.lastAcked = Math.max(s.lastAcked, ack.getLong("seq"));
      s.acks.incrementAndGet();
    } else if (text.startsWith("{\"type\":\"error\"")) {
      s.refused.incrementAndGet();
      s.refusals.merge(new JsonObject(text).getString("code"), 1, Integer::sum);
      LOG.warn("refused to the sender of {}: {}", s.room, text);
    }
  }

  private static double slowDisconnects(Vertx vertx) {
    var counter = Meters.registry(vertx).find(MeterNames.CHAT_DISCONNECTS).tags("reason", "slow").counter();
    return counter == null ? 0 : counter.count();
  }

  private static void waitFor(Vertx vertx, long untilMs, String what) {
    long wait = Math.max(1, untilMs - System.currentTimeMillis());
    await(Future.<Void>future(p -> vertx.setTimer(wait, id -> p.complete())), wait + 10_000, what);
  }

  private static long heapAfterGc() {
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
