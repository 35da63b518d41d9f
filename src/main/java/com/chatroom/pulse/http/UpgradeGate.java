package com.chatroom.pulse.http;

import com.chatroom.pulse.metrics.MeterNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayDeque;

/**
 * Admission of WebSocket upgrades ({@code /chat}, {@code /metrics/stream}) on one edge instance's event loop, so that
 * a storm of connects cannot take the loop from the clients it already serves. An upgrade (the handshake, the
 * endpoint's checks and hello, its registration) costs the loop 0.5-1 ms; at one or two thousand connects a second
 * that is the whole core, and everyone already connected waits behind it for seconds, or has a chat post time out
 * (measured in RELIABILITY.md, connection storm). So up to {@code burst} upgrades go ahead at once; past that an upgrade
 * request waits, paused, in arrival order, and every {@value #PERIOD_MS} ms a batch of them goes ahead, at most
 * {@code rate} a second and fewer when the loop is busy: a tick that fires more than {@value #LAG_MS} ms late (the loop
 * was still working when it was due) halves the batch, an on-time tick grows it by one. The upgrades thus take what
 * the loop has to spare, on any machine, and a client already connected waits behind one small batch at most.
 * Plain HTTP (probes, {@code /metrics}, ingest, the API, the dashboard) never waits here. Past {@code queue} waiting,
 * an upgrade is refused at once with 503 and {@code Retry-After} (cheaper than a handshake that would end in 1013). A
 * request whose client went away while it waited is skipped. Counted in {@code pulse_http_upgrades_delayed_total} and
 * {@code pulse_http_upgrades_refused_total}; the waiting ones in the {@code pulse_http_upgrades_waiting} gauge
 * (node-wide, through {@link NodeStatus}). Everything here runs on the instance's event loop.
 */
final class UpgradeGate {

  /** Waiting upgrades go ahead by batches this often. */
  static final long PERIOD_MS = 10;
  /** A tick later than this found the loop busy: the batch halves. */
  static final long LAG_MS = 5;

  private final Vertx vertx;
  private final double rate;
  private final double burst;
  private final int queue;
  private final ArrayDeque<RoutingContext> waiting = new ArrayDeque<>();
  private final NodeStatus node;
  private final Counter delayed;
  private final Counter refused;
  private final int maxPerTick;
  /** Upgrades let through per tick now; between 1 and {@link #maxPerTick}. */
  private int perTick;
  private double tokens;
  private long refilledAt;
  private long timer = -1;
  private long dueAt;

  /**
   * @param rate  at most this many waiting upgrades go ahead a second; 0 turns the gate off
   * @param burst how many go ahead at once, without waiting, after a quiet spell
   * @param queue how many may wait; past that an upgrade is refused with 503
   */
  UpgradeGate(Vertx vertx, MeterRegistry registry, int rate, int burst, int queue) {
    this.vertx = vertx;
    this.rate = rate;
    this.burst = Math.max(1, burst);
    this.queue = queue;
    this.tokens = this.burst;
    this.refilledAt = System.nanoTime();
    this.maxPerTick = (int) Math.max(1, Math.ceil(rate * PERIOD_MS / 1000.0));
    this.perTick = Math.max(1, maxPerTick / 2);
    this.node = NodeStatus.of(vertx);
    this.delayed = Counter.builder(MeterNames.HTTP_UPGRADES_DELAYED)
      .description("WebSocket upgrades that waited their turn at the edge instance's upgrade gate").register(registry);
    this.refused = Counter.builder(MeterNames.HTTP_UPGRADES_REFUSED)
      .description("WebSocket upgrades refused with 503 because too many were already waiting").register(registry);
    node.registerUpgradesWaiting(registry);
  }

  /** Route handler, before the endpoint's: go on now, wait (paused), or be refused. */
  void handle(RoutingContext ctx) {
    if (rate <= 0) {
      admit(ctx);
      return;
    }
    refill();
    if (waiting.isEmpty() && tokens >= 1) {
      tokens -= 1;
      admit(ctx);
      return;
    }
    if (waiting.size() >= queue) {
      refused.increment();
      ctx.response().setStatusCode(503).putHeader("Retry-After", "1").putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", "busy")
          .put("message", "too many connections are waiting to be served on this node; retry in a second").encode());
      return;
    }
    ctx.request().pause();
    waiting.add(ctx);
    node.upgradesWaiting().incrementAndGet();
    delayed.increment();
    schedule();
  }

  /** The edge stops: the server closes every connection, the waiting ones with them; only the timer is ours. */
  void close() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    node.upgradesWaiting().addAndGet(-waiting.size());
    waiting.clear();
  }

  private void refill() {
    long now = System.nanoTime();
    tokens = Math.min(burst, tokens + (now - refilledAt) / 1e9 * rate);
    refilledAt = now;
  }

  private void schedule() {
    if (timer >= 0 || waiting.isEmpty()) {
      return;
    }
    dueAt = System.nanoTime() + PERIOD_MS * 1_000_000;
    timer = vertx.setTimer(PERIOD_MS, id -> {
      timer = -1;
      tick((System.nanoTime() - dueAt) / 1_000_000);
    });
  }

  /** @param lateMs how late this tick fired: how long the loop was still busy with other work when it was due */
  private void tick(long lateMs) {
    perTick = lateMs > LAG_MS ? Math.max(1, perTick / 2) : Math.min(maxPerTick, perTick + 1);
    refill();
    int released = 0;
    while (!waiting.isEmpty() && tokens >= 1 && released < perTick) {
      RoutingContext ctx = waiting.poll();
      node.upgradesWaiting().decrementAndGet();
      if (ctx.response().closed() || ctx.response().ended()) {
        continue; // the client went away while it waited
      }
      tokens -= 1;
      released++;
      admit(ctx);
    }
    schedule();
  }

  /** On to the endpoint; counted node-wide, which the start-up warm-up watches (real upgrades warm the same paths). */
  private void admit(RoutingContext ctx) {
    node.upgradesAdmitted().incrementAndGet();
    ctx.next();
  }
}
