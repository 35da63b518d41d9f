package com.chatroom.pulse.history;

import com.chatroom.pulse.bus.PulseMessage;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Every metric of one kind aggregated over one bucket of a tier ({@code start} in epoch seconds, inclusive).
 * Stored as text, {@code name=stat;name=stat...}, both in Redis and in the in-memory store's tiers.
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

  String encode() {
    StringBuilder sb = new StringBuilder(stats.size() * 64);
    stats.forEach((name, stat) -> {
      if (sb.length() > 0) {
        sb.append(';');
      }
      sb.append(name).append('=').append(stat.encode());
    });
    return sb.toString();
  }

  static Rollup decode(long start, String text) {
    Map<String, Stat> stats = new LinkedHashMap<>();
    for (String part : text.split(";")) {
      int eq = part.indexOf('=');
      if (eq > 0) {
        stats.put(part.substring(0, eq), Stat.decode(part.substring(eq + 1)));
      }
    }
    return new Rollup(start, stats);
  }
}
