package com.chatroom.pulse.alerts;

import com.chatroom.pulse.config.AlertsConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.circuitbreaker.OpenCircuitException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One channel's delivery: a bounded FIFO with one notification in flight, so a receiver sees changes in the order
 * they happened. Each notification is written to the channel's {@link Outbox} as it is queued (so a restart does not
 * lose it), claimed (see {@link Claims}) before it is sent, checked once against shared state a peer may have changed
 * ({@link Gate}), retried with exponential backoff ({@link Backoff}) through the channel's circuit breaker, and
 * dead-lettered when attempts run out or the receiver refuses it; once it is done with, it leaves the outbox.
 * Evaluation only ever calls {@link #offer}, which never waits. Used only on the alert verticle's context.
 */
final class DeliveryQueue {

  /** What every channel of a node shares. */
  record Shared(Claims claims, Outbox outbox, Gate gate, AlertsConfig.Delivery config, Consumer<JsonObject> deadLetters,
                MeterRegistry registry) {
  }

  private static final Logger LOG = LoggerFactory.getLogger(DeliveryQueue.class);
  /** Margin on a lease beyond the time we expect to need it. */
  private static final long LEASE_MARGIN_MS = 5000;
  /** How often to ask again about a notification a peer is sending. */
  private static final long HELD_POLL_MS = 500;

  private final Vertx vertx;
  private final Context context;
  private final String channel;
  private final String type;
  private final Sender sender;
  private final Claims claims;
  private final Outbox outbox;
  private final Gate gate;
  private final AlertsConfig.Delivery config;
  private final Consumer<JsonObject> deadLetters;
  private final CircuitBreaker breaker;
  private final Backoff backoff;
  private final ArrayDeque<Notification> queue = new ArrayDeque<>();
  /** Event ids with an Alertmanager re-post queued: one is enough, its body is built when it is sent. */
  private final Set<String> resends = new HashSet<>();
  private final ChannelMeters meters;
  private boolean busy;
  private boolean closed;
  private long timer = -1;
  private long delivered;

  DeliveryQueue(Vertx vertx, String channel, String type, Sender sender, Backoff backoff, Shared shared) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.channel = channel;
    this.type = type;
    this.sender = sender;
    this.backoff = backoff;
    this.claims = shared.claims();
    this.outbox = shared.outbox();
    this.gate = shared.gate();
    this.config = shared.config();
    this.deadLetters = shared.deadLetters();
    this.breaker = CircuitBreaker.create("pulse-alerts-" + channel, vertx, new CircuitBreakerOptions()
        .setMaxFailures(config.breakerMaxFailures())
        .setTimeout(config.timeoutMs() + 1000)
        .setResetTimeout(config.breakerResetMs())
        .setNotificationAddress(null))
      .failurePolicy(f -> f.failed() && !(f.cause() instanceof Sender.Rejected));
    this.meters = new ChannelMeters(shared.registry(), channel, type, queue, breaker);
  }

  /**
   * Queues a notification and writes it to the outbox (an Alertmanager re-post is not kept: the next run re-posts
   * anyway); when the queue is full it is dead-lettered at once. Never waits.
   */
  boolean offer(Notification n) {
    if (n.kind() == Notification.Kind.RESEND && resends.contains(n.event().id())) {
      return true; // one queued already: it will carry the latest end time when it goes
    }
    if (!enqueue(n)) {
      return false;
    }
    if (n.kind() != Notification.Kind.RESEND) {
      outbox.add(channel, n);
    }
    pump();
    return true;
  }

  /** Queues a notification read back from the outbox (it is there already). */
  boolean offerRestored(Notification n) {
    if (!enqueue(n)) {
      outbox.remove(channel, n.key());
      return false;
    }
    pump();
    return true;
  }

  private boolean enqueue(Notification n) {
    if (closed) {
      return false;
    }
    if (queue.size() >= config.queueSize()) {
      deadLetter(n, "queue_full", 0, "the channel's queue holds " + config.queueSize() + " notifications");
      return false;
    }
    queue.addLast(n);
    if (n.kind() == Notification.Kind.RESEND) {
      resends.add(n.event().id());
    }
    return true;
  }

  /** Queue depth, in-flight flag, circuit state and counts, for the channel status API. */
  JsonObject status() {
    return new JsonObject().put("channel", channel).put("type", type).put("queued", queue.size()).put("in_flight", busy)
      .put("circuit", breaker.state().name().toLowerCase(java.util.Locale.ROOT)).put("delivered", delivered);
  }

  /** True when nothing waits and nothing is in flight. */
  boolean idle() {
    return queue.isEmpty() && !busy;
  }

  /**
   * Stops delivering. What is still queued stays in the outbox for the next run (or a peer's restart); the lease on
   * the notification in flight is given up, so that run need not wait it out.
   */
  Future<Void> close() {
    closed = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (!queue.isEmpty()) {
      LOG.info("Channel {}: {} notifications still queued at shutdown{}", channel, queue.size(),
        outbox == Outbox.NONE ? " are lost (no Redis to keep them)" : " stay in the Redis outbox for the next start");
    }
    Future<Void> released = busy && !queue.isEmpty() ? claims.release(claimKey(queue.peekFirst())).otherwiseEmpty()
      : Future.succeededFuture();
    breaker.close();
    meters.remove();
    return released.eventually(sender::close);
  }

  private void pump() {
    if (busy || closed || queue.isEmpty()) {
      return;
    }
    busy = true;
    claim(queue.peekFirst(), 1);
  }

  private String claimKey(Notification n) {
    return channel + ":" + n.key();
  }

  private void claim(Notification n, int attempt) {
    claims.claim(claimKey(n), config.timeoutMs() + LEASE_MARGIN_MS).onComplete(ar -> {
      if (closed) {
        return;
      }
      if (ar.failed()) {
        // no shared store: deliver anyway (a possible duplicate beats a lost alert)
        storeError("claim", ar.cause());
        attempt(n, attempt);
        return;
      }
      switch (ar.result()) {
        case ACQUIRED -> {
          if (attempt == 1) {
            checkThenAttempt(n);
          } else {
            attempt(n, attempt);
          }
        }
        case DONE -> {
          meters.deduplicated.increment();
          finish();
        }
        case HELD -> later(HELD_POLL_MS, () -> claim(n, attempt));
      }
    });
  }

  /** A peer's silence or acknowledgement this node has not heard of yet still stops it; the key is freed for later. */
  private void checkThenAttempt(Notification n) {
    gate.suppressedBy(n).onComplete(ar -> {
      if (closed) {
        return;
      }
      if (ar.failed() || ar.result() == null) {
        attempt(n, 1); // cannot tell: a notification too many beats a lost one
        return;
      }
      meters.suppressed(ar.result());
      LOG.debug("Channel {}: {} not sent, {} (found in Redis)", channel, n.key(), ar.result());
      claims.release(claimKey(n)).onFailure(e -> storeError("release", e));
      finish();
    });
  }

  private void attempt(Notification n, int attempt) {
    // a call let through a half-open circuit is a probe of a receiver known to be down, not a try of this notification
    boolean probe = breaker.state() == CircuitBreakerState.HALF_OPEN;
    breaker.<Void>execute(() -> sender.send(n)).onComplete(ar -> {
      if (closed) {
        return;
      }
      if (ar.succeeded()) {
        meters.delivered(n);
        delivered++;
        claims.markSent(claimKey(n)).onFailure(e -> storeError("mark_sent", e));
        finish();
        return;
      }
      Throwable cause = ar.cause();
      if (cause instanceof Sender.Rejected) {
        meters.failed.increment();
        deadLetter(n, "rejected", attempt, cause.getMessage());
        finish();
      } else if (cause instanceof OpenCircuitException) {
        // the receiver is known to be down: wait for the circuit to let one attempt through; this costs no attempt
        holdThen(n, attempt, config.breakerResetMs(), () -> attempt(n, attempt));
      } else if (probe) {
        // still down: the circuit is open again; a receiver's outage of any length costs no attempt, so after it the
        // queue (bounded by queue_size) is delivered in order instead of dead-lettered
        meters.failed.increment();
        LOG.debug("Channel {}: receiver still down ({}), {} waits for the circuit", channel, cause.getMessage(), n.key());
        holdThen(n, attempt, config.breakerResetMs(), () -> attempt(n, attempt));
      } else if (attempt >= config.maxAttempts()) {
        meters.failed.increment();
        deadLetter(n, "retries_exhausted", attempt, String.valueOf(cause.getMessage()));
        finish();
      } else {
        meters.failed.increment();
        meters.retries.increment();
        LOG.debug("Channel {}: attempt {} for {} failed: {}", channel, attempt, n.key(), cause.getMessage());
        holdThen(n, attempt, backoff.delayMs(attempt), () -> attempt(n, attempt + 1));
      }
    });
  }

  /** Extends our lease over the wait, then goes on; if a peer took the lease meanwhile, asks again instead. */
  private void holdThen(Notification n, int attempt, long delayMs, Runnable next) {
    claims.renew(claimKey(n), delayMs + config.timeoutMs() + LEASE_MARGIN_MS).onComplete(ar -> {
      if (closed) {
        return;
      }
      if (ar.failed()) {
        storeError("renew", ar.cause());
      }
      boolean lost = ar.succeeded() && !ar.result();
      later(delayMs, lost ? () -> claim(n, attempt) : next);
    });
  }


  private void deadLetter(Notification n, String reason, int attempts, String error) {
    meters.dead(reason);
    LOG.warn("Channel {}: gave up on {} after {} attempts ({}): {}", channel, n.key(), attempts, reason, error);
    if (!reason.equals("queue_full")) {
      claims.markDead(claimKey(n)).onFailure(e -> storeError("mark_dead", e));
    }
    deadLetters.accept(new JsonObject().put("channel", channel).put("type", type).put("key", n.key())
      .put("rule", n.event().rule()).put("instance", n.event().instance()).put("status", n.status())
      .put("reason", reason).put("attempts", attempts).put("error", error).put("at", Instant.now().toString()));
  }

  private void storeError(String op, Throwable e) {
    meters.storeError(op);
    LOG.warn("Channel {}: claim store {} failed ({}); a claim failure sends anyway, since a duplicate beats a lost alert",
      channel, op, e.getMessage());
  }

  private void finish() {
    Notification done = queue.pollFirst();
    if (done != null) {
      if (done.kind() == Notification.Kind.RESEND) {
        resends.remove(done.event().id());
      } else {
        outbox.remove(channel, done.key());
      }
    }
    busy = false;
    // on the next turn of the loop: a long run of already-sent notifications must not grow the stack
    context.runOnContext(v -> pump());
  }

  private void later(long delayMs, Runnable action) {
    timer = vertx.setTimer(delayMs, id -> {
      timer = -1;
      if (!closed) {
        action.run();
      }
    });
  }
}
