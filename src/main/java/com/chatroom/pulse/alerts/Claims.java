package com.chatroom.pulse.alerts;

import io.vertx.core.Future;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Who sends a notification: before sending, a channel claims the notification's key; only the claimant sends, then
 * marks it sent. With Redis the claim is a {@code SET NX} lease shared by every replica and by the next run of this
 * one; without Redis it is a bounded memory of what this process already sent.
 */
interface Claims {

  /** The answer to a claim. */
  enum Outcome {
    /** Ours: send it. */
    ACQUIRED,
    /** Sent (or given up) already, here or by a peer: drop it. */
    DONE,
    /** A peer holds the lease and is sending it: wait and ask again (it may give up or die). */
    HELD
  }

  /** @param leaseMs how long the claim holds before a peer may take over */
  Future<Outcome> claim(String key, long leaseMs);

  /** Extends a lease we hold; false if we lost it. */
  Future<Boolean> renew(String key, long leaseMs);

  /** The notification reached its receiver. */
  Future<Void> markSent(String key);

  /** Retries ran out: peers must not try again either (the dead letter is recorded once). */
  Future<Void> markDead(String key);

  /**
   * Gives up a lease we hold without sending: the notification was suppressed (a peer's silence) and may be sent
   * later under the same key, or this node is stopping and its next run (or a peer) should not wait the lease out.
   */
  Future<Void> release(String key);

  /** In-memory claims: one process, bounded, remembered for {@code ttlMs}. */
  final class Memory implements Claims {

    private final int max;
    private final long ttlMs;
    private final Map<String, Long> done;

    Memory(int max, long ttlMs) {
      this.max = max;
      this.ttlMs = ttlMs;
      this.done = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
          return size() > Memory.this.max;
        }
      };
    }

    @Override
    public Future<Outcome> claim(String key, long leaseMs) {
      Long at = done.get(key);
      boolean fresh = at != null && System.currentTimeMillis() - at < ttlMs;
      return Future.succeededFuture(fresh ? Outcome.DONE : Outcome.ACQUIRED);
    }

    @Override
    public Future<Boolean> renew(String key, long leaseMs) {
      return Future.succeededFuture(true);
    }

    @Override
    public Future<Void> markSent(String key) {
      done.put(key, System.currentTimeMillis());
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> markDead(String key) {
      return markSent(key);
    }

    @Override
    public Future<Void> release(String key) {
      return Future.succeededFuture(); // nothing is leased in memory
    }
  }
}
