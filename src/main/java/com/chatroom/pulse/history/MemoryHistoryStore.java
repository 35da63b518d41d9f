package com.chatroom.pulse.history;

import com.chatroom.pulse.bus.PulseMessage;
import com.chatroom.pulse.config.HistoryConfig;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntSupplier;

/**
 * History in this process's memory, for {@code java -jar} without Redis. Every series is a bounded ring (raw) and two
 * bounded sorted maps of encoded rollups, trimmed on write to the configured retention measured from the series'
 * newest sample; at most {@code history.max_instances} series per kind, least recently written evicted first.
 */
final class MemoryHistoryStore implements HistoryStore {

  private final HistoryConfig config;
  private final Map<Kind, LinkedHashMap<String, Series>> series = new LinkedHashMap<>();
  /** Raw samples a series keeps while the optimizer's trim_caches holds; -1: the configured retention only. */
  private int rawFloor = -1;
  /** Raw samples dropped by trim_caches since start (cut at once, then held at the floor). */
  private long trimmed;

  private final class Series {
    final ArrayDeque<PulseMessage> raw = new ArrayDeque<>();
    final TreeMap<Long, Map<String, String>> minutes = new TreeMap<>();
    final TreeMap<Long, Map<String, String>> hours = new TreeMap<>();
    double newest = Double.NEGATIVE_INFINITY;
    /**
     * Minutes starting before this second have lost raw samples to trim_caches: their rollups, made from all of
     * them, are kept as they are rather than recomputed from what is left.
     */
    long trimmedBefore = Long.MIN_VALUE;

    void add(PulseMessage sample) {
      double ts = Kind.timestampOf(sample);
      if (ts >= newest || raw.isEmpty()) {
        raw.addLast(sample);
      } else {
        insertInOrder(sample, ts);
      }
      newest = Math.max(newest, ts);
      while (!raw.isEmpty() && (Kind.timestampOf(raw.peekFirst()) < newest - config.rawRetentionSeconds()
        || raw.size() > maxRaw())) {
        raw.pollFirst();
      }
      if (rawFloor >= 0) {
        trimmed += cutToFloor();
      }
    }

    /**
     * Drops the oldest raw samples beyond the floor, but never those of the last two minutes: the newest minute is
     * not rolled up yet, and summaries read the minute before it from raw.
     */
    int cutToFloor() {
      if (rawFloor < 0 || raw.size() <= rawFloor) {
        return 0;
      }
      double keepFrom = Tier.floor(newest, 60) - 60;
      int dropped = 0;
      double lastCut = Double.NaN;
      while (raw.size() > rawFloor && Kind.timestampOf(raw.peekFirst()) < keepFrom) {
        lastCut = Kind.timestampOf(raw.pollFirst());
        dropped++;
      }
      if (dropped > 0) {
        trimmedBefore = Math.max(trimmedBefore, Tier.floor(lastCut, 60) + 60);
      }
      return dropped;
    }

    private void insertInOrder(PulseMessage sample, double ts) {
      // late samples are rare: rebuild from the tail
      ArrayDeque<PulseMessage> tail = new ArrayDeque<>();
      while (!raw.isEmpty() && Kind.timestampOf(raw.peekLast()) > ts) {
        tail.addFirst(raw.pollLast());
      }
      raw.addLast(sample);
      raw.addAll(tail);
    }

    void trimRollups() {
      long newestSecond = (long) newest;
      minutes.headMap(newestSecond - config.minuteRetentionSeconds()).clear();
      hours.headMap(newestSecond - config.hourRetentionSeconds()).clear();
    }
  }

  MemoryHistoryStore(HistoryConfig config) {
    this.config = config;
    for (Kind kind : Kind.values()) {
      series.put(kind, new LinkedHashMap<>(16, 0.75f, true));
    }
  }

  @Override
  public List<IntSupplier> holdRaw(int floor) {
    rawFloor = floor < 0 ? -1 : Math.min(floor, maxRaw());
    List<IntSupplier> cuts = new ArrayList<>();
    if (rawFloor >= 0) {
      // the series themselves: the maps are access-ordered, and a lookup would count as a use
      series.values().forEach(byInstance -> byInstance.values().forEach(s -> cuts.add(() -> {
        int dropped = s.cutToFloor();
        trimmed += dropped;
        return dropped;
      })));
    }
    return cuts;
  }

  /** Raw samples dropped by trim_caches since start. */
  long trimmedSamples() {
    return trimmed;
  }

  /** One sample per second of retention: a producer publishing faster cannot grow a series beyond it. */
  private int maxRaw() {
    return (int) Math.min(Integer.MAX_VALUE, config.rawRetentionSeconds());
  }

  @Override
  public Future<Void> append(Kind kind, PulseMessage sample) {
    LinkedHashMap<String, Series> byInstance = series.get(kind);
    Series s = byInstance.computeIfAbsent(Kind.instanceOf(sample), k -> new Series());
    s.add(sample);
    if (byInstance.size() > config.maxInstances()) {
      Iterator<String> eldest = byInstance.keySet().iterator();
      eldest.next();
      eldest.remove();
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> rollup(Kind kind, String instance, long minuteStart) {
    Series s = series.get(kind).get(instance);
    if (s == null || minuteStart < s.trimmedBefore) {
      // a late sample for a minute trim_caches has cut: its rollup from the full minute stays
      return Future.succeededFuture();
    }
    List<PulseMessage> inMinute = rawBetween(s, minuteStart, minuteStart + 60 - 1e-9, Integer.MAX_VALUE);
    if (!inMinute.isEmpty()) {
      s.minutes.put(minuteStart, Rollup.of(kind, minuteStart, inMinute).encode());
    }
    long hourStart = Tier.floor(minuteStart, 3600);
    Rollup hour = new Rollup(hourStart);
    for (Map.Entry<Long, Map<String, String>> minute : s.minutes.subMap(hourStart, hourStart + 3600).entrySet()) {
      hour.merge(read(minute.getKey(), minute.getValue(), null));
    }
    if (hour.count() > 0) {
      s.hours.put(hourStart, hour.encode());
    }
    s.trimRollups();
    return Future.succeededFuture();
  }

  @Override
  public Future<List<PulseMessage>> raw(Kind kind, String instance, double from, double to, int limit) {
    Series s = series.get(kind).get(instance);
    return Future.succeededFuture(s == null ? List.of() : rawBetween(s, from, to, limit));
  }

  private static List<PulseMessage> rawBetween(Series s, double from, double to, int limit) {
    List<PulseMessage> out = new ArrayList<>();
    Iterator<PulseMessage> it = s.raw.descendingIterator();
    // walk back from the newest: queries are almost always about the recent past
    while (it.hasNext()) {
      PulseMessage m = it.next();
      double ts = Kind.timestampOf(m);
      if (ts < from) {
        break;
      }
      if (ts <= to) {
        out.add(m);
      }
    }
    java.util.Collections.reverse(out);
    return out.size() > limit ? new ArrayList<>(out.subList(0, limit)) : out;
  }

  @Override
  public Future<List<Rollup>> rollups(Kind kind, String instance, Tier tier, long from, long to, Set<String> metrics) {
    Series s = series.get(kind).get(instance);
    if (s == null || from >= to) {
      return Future.succeededFuture(List.of());
    }
    NavigableMap<Long, Map<String, String>> map = (tier == Tier.HOUR ? s.hours : s.minutes).subMap(from, true, to, false);
    List<Rollup> out = new ArrayList<>(map.size());
    map.forEach((start, fields) -> out.add(read(start, fields, metrics)));
    return Future.succeededFuture(out);
  }

  private static Rollup read(long start, Map<String, String> fields, Set<String> metrics) {
    Rollup rollup = new Rollup(start);
    fields.forEach((metric, text) -> {
      if (metrics == null || metrics.contains(metric)) {
        rollup.put(metric, text);
      }
    });
    return rollup;
  }

  @Override
  public Future<List<String>> instances(Kind kind) {
    List<String> names = new ArrayList<>(series.get(kind).keySet());
    java.util.Collections.reverse(names);
    return Future.succeededFuture(names);
  }

  @Override
  public String backend() {
    return "memory";
  }

  @Override
  public JsonObject health() {
    return new JsonObject().put("backend", backend()).put("state", "ok")
      .put("instances", series.values().stream().mapToInt(Map::size).sum());
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture();
  }
}
