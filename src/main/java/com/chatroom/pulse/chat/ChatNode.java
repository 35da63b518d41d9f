package com.chatroom.pulse.chat;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Node-wide chat state shared by every edge instance and the room registry of one Vert.x instance (a local map
 * entry, thread-safe): connection counts for the caps, counters for the application metrics, and the limits the
 * optimizer may tighten at run time.
 */
final class ChatNode implements Shareable {

  private static final String MAP = "pulse.chat";

  final AtomicInteger connections = new AtomicInteger();
  final ConcurrentHashMap<String, AtomicInteger> perIp = new ConcurrentHashMap<>();
  /** Connections per user id: its size is the number of distinct users connected. */
  final ConcurrentHashMap<String, AtomicInteger> users = new ConcurrentHashMap<>();
  final LongAdder framesReceived = new LongAdder();
  final LongAdder framesRejected = new LongAdder();
  final LongAdder fanoutNanos = new LongAdder();
  final LongAdder fanoutCount = new LongAdder();
  final LongAdder deliveries = new LongAdder();
  /** Room frames handed to the edge instances and not yet written out by each of them (one count per instance). */
  final AtomicLong pendingFrames = new AtomicLong();

  /** Optimizer overrides. The connection cap: -1 means "as configured" (0 is a cap: no new connection at all). */
  final AtomicInteger connectionCap = new AtomicInteger(-1);
  /** Seconds of silence after which a connection is reaped, and the message rate: 0 means "as configured". */
  final AtomicLong idleSeconds = new AtomicLong();
  private final AtomicLong rateBits = new AtomicLong();

  static ChatNode of(Vertx vertx) {
    return (ChatNode) vertx.sharedData().getLocalMap(MAP).computeIfAbsent("node", k -> new ChatNode());
  }

  double rateOverride() {
    return Double.longBitsToDouble(rateBits.get());
  }

  void rateOverride(double perSecond) {
    rateBits.set(Double.doubleToLongBits(perSecond));
  }

  /** Counts one more connection of {@code key} in {@code counts}; returns the new count. */
  static int increment(ConcurrentHashMap<String, AtomicInteger> counts, String key) {
    // compute, not computeIfAbsent + increment: a concurrent decrement must not remove the entry in between
    return counts.compute(key, (k, v) -> {
      AtomicInteger n = v == null ? new AtomicInteger() : v;
      n.incrementAndGet();
      return n;
    }).get();
  }

  /** One connection of {@code key} fewer; the entry goes when it reaches zero, so the map stays bounded. */
  static void decrement(ConcurrentHashMap<String, AtomicInteger> counts, String key) {
    counts.computeIfPresent(key, (k, v) -> v.decrementAndGet() <= 0 ? null : v);
  }
}
