package com.chatroom.pulse.alerts;

import com.chatroom.pulse.metrics.MeterNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.circuitbreaker.CircuitBreaker;

import java.util.Collection;
import java.util.concurrent.TimeUnit;

/** One channel's meters, tagged {@code channel} and {@code type}; the queue depth and circuit state are gauges. */
final class ChannelMeters {

  private final MeterRegistry registry;
  private final String channel;
  private final String type;
  final Counter sent;
  final Counter failed;
  final Counter retries;
  final Counter deduplicated;
  private final Timer latency;
  private final Gauge queued;
  private final Gauge circuit;

  ChannelMeters(MeterRegistry registry, String channel, String type, Collection<?> queue, CircuitBreaker breaker) {
    this.registry = registry;
    this.channel = channel;
    this.type = type;
    this.sent = counter(MeterNames.ALERTS_NOTIFICATIONS_SENT, "Notifications a receiver accepted");
    this.failed = counter(MeterNames.ALERTS_NOTIFICATIONS_FAILED, "Delivery attempts that failed");
    this.retries = counter(MeterNames.ALERTS_NOTIFICATIONS_RETRIES, "Delivery attempts scheduled after a failure");
    this.deduplicated = counter(MeterNames.ALERTS_NOTIFICATIONS_DEDUPLICATED,
      "Notifications not sent because this change was already sent (by this node earlier, or a peer)");
    this.latency = Timer.builder(MeterNames.ALERTS_NOTIFICATIONS_LATENCY)
      .description("Time from a change to its receiver's acceptance").tags("channel", channel, "type", type)
      .register(registry);
    this.queued = Gauge.builder(MeterNames.ALERTS_NOTIFICATIONS_QUEUED, queue, Collection::size)
      .description("Notifications waiting per channel").tags("channel", channel, "type", type).register(registry);
    this.circuit = Gauge.builder(MeterNames.ALERTS_CIRCUIT_STATE, breaker, b -> switch (b.state()) {
        case CLOSED -> 0;
        case HALF_OPEN -> 1;
        case OPEN -> 2;
      })
      .description("Channel circuit: 0 closed, 1 half-open, 2 open").tags("channel", channel, "type", type).register(registry);
  }

  private Counter counter(String name, String description) {
    return Counter.builder(name).description(description).tags("channel", channel, "type", type).register(registry);
  }

  void delivered(Notification n) {
    sent.increment();
    latency.record(System.nanoTime() - n.queuedNanos(), TimeUnit.NANOSECONDS);
  }

  void dead(String reason) {
    Counter.builder(MeterNames.ALERTS_NOTIFICATIONS_DEAD).description("Notifications given up on, per channel and reason")
      .tags("channel", channel, "type", type, "reason", reason).register(registry).increment();
  }

  /** Not channel-tagged: the same meter as the notifier's silenced count. */
  void suppressed(String reason) {
    Counter.builder(MeterNames.ALERTS_NOTIFICATIONS_SUPPRESSED).description(Notifier.SUPPRESSED_DESCRIPTION)
      .tag("reason", reason).register(registry).increment();
  }

  /** Not channel-tagged: the same meter as the store's. */
  void storeError(String op) {
    Counter.builder(MeterNames.ALERTS_STORE_ERRORS).description("Failed reads and writes of shared alert state (Redis)")
      .tag("op", op).register(registry).increment();
  }

  /** The gauges hold the queue and the breaker: they go with the channel. */
  void remove() {
    registry.remove(queued);
    registry.remove(circuit);
  }
}
