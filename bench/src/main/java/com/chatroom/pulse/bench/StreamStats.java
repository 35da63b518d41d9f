package com.chatroom.pulse.bench;

import io.vertx.core.buffer.Buffer;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * What the subscribers saw. Frame handlers run on the client's event loop(s), the main thread arms the window and
 * reads the results, so every shared value here is thread-safe (a {@link Recorder} for latencies, adders for counts).
 *
 * <p>The measured window is a whole number of ticks, not a number of seconds: it covers the frames of ticks
 * {@code first..last} exactly, whenever they arrive, so frames received must equal subscribers x ticks when nothing
 * is lost, however long a fan-out takes. It opens when the first frame of tick {@code first} arrives and closes when
 * the first frame of tick {@code last + 1} arrives; CPU readings are taken at those two instants (each misses the few
 * milliseconds of sampling and serializing before its tick's first frame, so the two errors cancel).
 */
final class StreamStats {

  /** One subscriber's delivery state; touched only on its own event loop. */
  static final class Conn {
    final int id;
    long lastSeq = -1;
    volatile boolean open = true;

    Conn(int id) {
      this.id = id;
    }
  }

  /** Latency range: 1 µs resolution up to 60 s, 3 significant digits. */
  static final long MAX_LATENCY_MICROS = 60_000_000L;

  private final Recorder latency = new Recorder(1, MAX_LATENCY_MICROS, 3);

  final LongAdder systemFrames = new LongAdder();
  final LongAdder lost = new LongAdder();
  final LongAdder outOfOrder = new LongAdder();
  final LongAdder skippedCount = new LongAdder();
  final LongAdder skippedNotices = new LongAdder();
  final LongAdder negativeLatency = new LongAdder();
  final LongAdder overflowLatency = new LongAdder();
  final LongAdder unparsable = new LongAdder();
  final LongAdder closedInWindow = new LongAdder();
  final LongAdder outsideWindow = new LongAdder();
  final LongAccumulator minSeqInWindow = new LongAccumulator(Math::min, Long.MAX_VALUE);
  final LongAccumulator maxSeqInWindow = new LongAccumulator(Math::max, Long.MIN_VALUE);
  /** Per tick of the window (index seq - first): first and last receipt in epoch µs, to see how long each fan-out took. */
  private volatile AtomicLongArray firstReceipt = new AtomicLongArray(0);
  private volatile AtomicLongArray lastReceipt = new AtomicLongArray(0);

  /** Highest seq seen by any subscriber: the first frame of a new tick raises it. */
  private final AtomicLong highestSeq = new AtomicLong(-1);
  private volatile long firstSeq = Long.MAX_VALUE;
  private volatile long lastSeq = Long.MIN_VALUE;
  /** Between the first frame of tick {@code first} and the first frame of tick {@code last + 1}. */
  private volatile boolean open;
  private volatile Supplier<Object> snapshotter;
  final CompletableFuture<Object> opened = new CompletableFuture<>();
  final CompletableFuture<Object> closed = new CompletableFuture<>();

  /**
   * Before the window the same accounting runs into this throwaway copy, so that the client's measuring path is
   * compiled when the window opens: otherwise the first ticks of every window were measured by interpreted code and
   * came out up to twice as slow as the rest, for any server. Null in the copy itself.
   */
  private final StreamStats warmUp;

  StreamStats() {
    this.warmUp = new StreamStats(64);
  }

  /** The warm-up copy: every seq is in its "window", its per-tick arrays wrap around. */
  private StreamStats(int ticks) {
    this.warmUp = null;
    this.firstSeq = 0;
    this.lastSeq = Long.MAX_VALUE;
    this.firstReceipt = new AtomicLongArray(ticks);
    this.lastReceipt = new AtomicLongArray(ticks);
  }

  void onData(Conn conn, Buffer data) {
    long receivedMicros = wallMicros();
    byte[] frame = data.getBytes();
    switch (FrameScan.kind(frame)) {
      case SYSTEM -> onSystem(conn, frame, receivedMicros);
      case SKIPPED -> {
        if (open) {
          long count = FrameScan.count(frame);
          skippedNotices.increment();
          skippedCount.add(count == FrameScan.MISSING ? 0 : count);
        }
      }
      default -> {
        // hello, pong and other frame types carry nothing to measure
      }
    }
  }

  private void onSystem(Conn conn, byte[] frame, long receivedMicros) {
    long timestamp = FrameScan.timestampMicros(frame);
    long seq = FrameScan.seq(frame);
    if (timestamp == FrameScan.MISSING || seq == FrameScan.MISSING) {
      unparsable.increment();
      return;
    }
    noteTick(seq);
    long previous = conn.lastSeq;
    if (seq > previous) {
      conn.lastSeq = seq;
    }
    if (seq < firstSeq || seq > lastSeq) {
      if (open) {
        outsideWindow.increment();
      } else if (warmUp != null) {
        warmUp.account(seq, previous, timestamp, receivedMicros);
      }
      return;
    }
    account(seq, previous, timestamp, receivedMicros);
  }

  /** Counts a system frame of tick {@code seq} (in this instance's window) received at {@code receivedMicros}. */
  private void account(long seq, long previous, long timestamp, long receivedMicros) {
    systemFrames.increment();
    minSeqInWindow.accumulate(seq);
    maxSeqInWindow.accumulate(seq);
    int tick = (int) ((seq - firstSeq) % firstReceipt.length());
    firstReceipt.accumulateAndGet(tick, receivedMicros, Math::min);
    lastReceipt.accumulateAndGet(tick, receivedMicros, Math::max);
    if (previous >= 0) {
      if (seq > previous + 1) {
        // the ticks in between never reached this subscriber (they may lie partly before the window)
        lost.add(seq - Math.max(previous, firstSeq - 1) - 1);
      } else if (seq <= previous) {
        outOfOrder.increment();
      }
    }
    long micros = receivedMicros - timestamp;
    if (micros < 0) {
      // the server rounds its timestamp to the millisecond, so a frame can look up to 0.5 ms "early"
      negativeLatency.increment();
      micros = 0;
    } else if (micros > MAX_LATENCY_MICROS) {
      overflowLatency.increment();
      micros = MAX_LATENCY_MICROS;
    }
    latency.recordValue(micros);
  }

  void onClosed(Conn conn) {
    conn.open = false;
    if (open) {
      closedInWindow.increment();
    }
  }

  /**
   * Arms a window of {@code ticks} ticks that starts with the second tick after now (the next one may already be
   * arriving), and has {@code snapshot} called on the event loop at the instants it opens and closes.
   */
  void arm(long ticks, Supplier<Object> snapshot) {
    long current = highestSeq.get();
    snapshotter = snapshot;
    AtomicLongArray first = new AtomicLongArray((int) ticks);
    for (int i = 0; i < ticks; i++) {
      first.set(i, Long.MAX_VALUE);
    }
    firstReceipt = first;
    lastReceipt = new AtomicLongArray((int) ticks);
    lastSeq = current + 1 + ticks;
    firstSeq = current + 2;
  }

  /** For each tick of the window that arrived, the span from its first to its last frame, in ms. */
  double[] burstSpansMillis() {
    java.util.List<Double> spans = new java.util.ArrayList<>();
    for (int i = 0; i < firstReceipt.length(); i++) {
      if (firstReceipt.get(i) != Long.MAX_VALUE && i <= lastSeq - firstSeq) {
        spans.add((lastReceipt.get(i) - firstReceipt.get(i)) / 1000d);
      }
    }
    return spans.stream().mapToDouble(Double::doubleValue).sorted().toArray();
  }

  /** The same spans in tick order (null for a tick with no frame), to see which ticks were slow. */
  java.util.List<Double> burstSpansInOrder() {
    java.util.List<Double> spans = new java.util.ArrayList<>();
    for (int i = 0; i < firstReceipt.length() && i <= lastSeq - firstSeq; i++) {
      spans.add(firstReceipt.get(i) == Long.MAX_VALUE ? null
        : Math.round((lastReceipt.get(i) - firstReceipt.get(i)) / 100d) / 10d);
    }
    return spans;
  }

  long firstSeq() {
    return firstSeq;
  }

  long lastSeq() {
    return lastSeq;
  }

  private void noteTick(long seq) {
    long highest = highestSeq.get();
    while (seq > highest) {
      if (highestSeq.compareAndSet(highest, seq)) {
        if (seq == firstSeq) {
          opened.complete(snapshotter.get());
          open = true;
        } else if (seq == lastSeq + 1) {
          open = false;
          closed.complete(snapshotter.get());
        }
        return;
      }
      highest = highestSeq.get();
    }
  }

  /** Ends the window (if the closing tick never came) and returns the latencies (µs) recorded in it. */
  Histogram results() {
    open = false;
    lastSeq = Math.min(lastSeq, Math.max(firstSeq - 1, highestSeq.get()));
    return latency.getIntervalHistogram();
  }

  /** Wall-clock time in epoch microseconds (the JDK's clock has microsecond resolution on Linux). */
  static long wallMicros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
  }
}
