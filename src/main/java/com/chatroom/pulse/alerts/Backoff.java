package com.chatroom.pulse.alerts;

import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * A channel's retry schedule: {@code initial × 2^(attempt−1)}, capped at {@code max}, times a jitter factor in
 * [0.8, 1.2) so replicas and channels do not retry in step. The random source is injectable so the schedule can be
 * tested exactly.
 */
class Backoff {

  static final double JITTER = 0.2;

  private final long initialMs;
  private final long maxMs;
  private final DoubleSupplier random;

  /** @param random uniform in [0, 1) */
  Backoff(long initialMs, long maxMs, DoubleSupplier random) {
    this.initialMs = initialMs;
    this.maxMs = maxMs;
    this.random = random;
  }

  Backoff(long initialMs, long maxMs) {
    this(initialMs, maxMs, () -> ThreadLocalRandom.current().nextDouble());
  }

  /** The delay before attempt {@code attempt + 1}, after attempt {@code attempt} (1-based) failed. */
  long delayMs(int attempt) {
    double base = Math.min(maxMs, initialMs * Math.pow(2, Math.min(Math.max(attempt, 1) - 1, 30)));
    double factor = 1 - JITTER + 2 * JITTER * random.getAsDouble();
    return Math.max(1, Math.round(base * factor));
  }
}
