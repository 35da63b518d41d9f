package com.chatroom.pulse.ingest;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.ApplicationMetrics;
import com.chatroom.pulse.bus.InvalidMessageException;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;

/**
 * Validates application metrics from outside the JVM exactly as the bus consumers would, publishes the valid ones
 * on {@code metrics.app} as records, and counts every item per source ({@code http}, {@code bridge}) and outcome.
 * One per owner, used on its context.
 */
final class Ingest {

  private final Vertx vertx;
  private final String source;
  private final MeterRegistry registry;
  private final Counter accepted;
  private final Map<String, Counter> rejected = new HashMap<>();

  Ingest(Vertx vertx, String source) {
    this.vertx = vertx;
    this.source = source;
    this.registry = Meters.registry(vertx);
    this.accepted = Counter.builder(MeterNames.INGEST_ACCEPTED).description("Application metrics accepted from outside, per source")
      .tag("source", source).register(registry);
  }

  /**
   * @return the published record
   * @throws InvalidMessageException naming the field, after counting it
   */
  ApplicationMetrics publish(Object item) {
    ApplicationMetrics metrics;
    try {
      if (!(item instanceof JsonObject json)) {
        throw new InvalidMessageException("$", InvalidMessageException.Reason.WRONG_TYPE,
          "expected an ApplicationMetrics JSON object, got " + describe(item));
      }
      metrics = ApplicationMetrics.fromJson(json);
    } catch (InvalidMessageException e) {
      reject(e.reason().tag());
      throw e;
    }
    vertx.eventBus().publish(Addresses.METRICS_APP, metrics);
    accepted.increment();
    return metrics;
  }

  /** Counts a refusal that happened before an item could be read (malformed body, too large, not permitted). */
  void reject(String reason) {
    rejected.computeIfAbsent(reason, r -> Counter.builder(MeterNames.INGEST_REJECTED)
      .description("Application metrics refused from outside, per source and reason").tags("source", source, "reason", r)
      .register(registry)).increment();
  }

  static String describe(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof io.vertx.core.json.JsonArray) {
      return "an array";
    }
    return value instanceof String ? "a string" : value instanceof Number ? "a number" : value instanceof Boolean ? "a boolean" : value.getClass().getSimpleName();
  }
}
