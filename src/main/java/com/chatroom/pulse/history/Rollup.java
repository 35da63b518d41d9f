package com.chatroom.pulse.history;

import com.chatroom.pulse.bus.PulseMessage;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Metrics of one kind aggregated over one bucket of a tier ({@code start} in epoch seconds, inclusive). Stored as
 * one text field per metric ({@link Stat#encode()}), both in Redis and in the in-memory store's tiers.
 */
final class Rollup {

  final long start;
  final Map<String, Stat> stats;

  Rollup(long start) {
    this(start, new LinkedHashMap<>());
  }

  private Rollup(long start, Map<String, Stat> stats) {
    this.start = start;
    this.stats = stats;
  }

  static Rollup of(Kind kind, long start, Iterable<? extends PulseMessage> samples) {
    Rollup rollup = new Rollup(start);
    for (PulseMessage sample : samples) {
      rollup.add(kind, sample);
    }
    return rollup;
  }

  void add(Kind kind, PulseMessage sample) {
    double time = Kind.timestampOf(sample);
    for (Map.Entry<String, ToDoubleFunction<PulseMessage>> metric : kind.metrics().entrySet()) {
      stats.computeIfAbsent(metric.getKey(), k -> new Stat()).add(metric.getValue().applyAsDouble(sample), time);
    }
  }

  void merge(Rollup other) {
    other.stats.forEach((name, stat) -> stats.computeIfAbsent(name, k -> new Stat()).merge(stat));
  }

  long count() {
    return stats.values().stream().mapToLong(s -> s.count).max().orElse(0);
  }

  /** One encoded stat per metric: stores keep them apart so a one-metric query reads one metric. */
  Map<String, String> encode() {
    Map<String, String> fields = new LinkedHashMap<>();
    stats.forEach((name, stat) -> fields.put(name, stat.encode()));
    return fields;
  }

  /** Adds one stored metric to a rollup being read back. */
  void put(String metric, String encodedStat) {
    stats.put(metric, Stat.decode(encodedStat));
  }
}
