package com.chatroom.pulse.stream;

import com.chatroom.pulse.bus.PulseMessage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The samples of one (stream, instance) within a throttle window, folded as they come: per numeric field its count,
 * minimum, maximum and sum (numeric arrays such as {@code load_average} element by element), plus the newest sample.
 * At the end of the window it becomes one frame:
 * <pre>
 * {"type":"system","data":{newest sample, measured fields replaced by their window averages},
 *  "aggregate":{"window_ms":5000,"count":5,"first_timestamp":..,"min":{..},"max":{..},"avg":{..}}}
 * </pre>
 * Counters and identities ({@link #LAST_VALUE}) are not averaged: they keep the newest value, as do strings, objects
 * and arrays that are not all numbers.
 */
final class SampleWindow {

  /** Fields whose newest value is the right one: counters since boot or start, identities, constants. */
  static final Set<String> LAST_VALUE = Set.of("timestamp", "seq", "network_bytes_sent", "network_bytes_recv",
    "memory_total_mb", "cpu_count", "total_messages", "instance", "service");

  private final Map<String, Stat[]> stats = new LinkedHashMap<>();
  private final Map<String, Boolean> broken = new HashMap<>();
  private int count;
  private Object firstTimestamp;
  private JsonObject newest;
  private PulseMessage newestRecord;

  /** One more value of one field (or of one element of an array field). */
  private static final class Stat {
    Number min;
    Number max;
    double sum;
    int count;

    void add(Number value) {
      double d = value.doubleValue();
      if (min == null || d < min.doubleValue()) {
        min = value;
      }
      if (max == null || d > max.doubleValue()) {
        max = value;
      }
      sum += d;
      count++;
    }

    double avg() {
      return Math.round(sum / count * 10_000d) / 10_000d;
    }
  }

  void add(JsonObject data, PulseMessage record) {
    if (count == 0) {
      firstTimestamp = data.getValue("timestamp");
    }
    count++;
    newest = data;
    newestRecord = record;
    for (Map.Entry<String, Object> e : data) {
      String field = e.getKey();
      if (LAST_VALUE.contains(field) || broken.containsKey(field)) {
        continue;
      }
      Object value = e.getValue();
      if (value instanceof Number n && Double.isFinite(n.doubleValue())) {
        fold(field, new Number[] {n});
      } else if (value instanceof JsonArray a && !a.isEmpty() && numbers(a) != null) {
        fold(field, numbers(a));
      } else if (stats.containsKey(field)) {
        // a field that changed shape within the window (a number, then something else): newest value only
        stats.remove(field);
        broken.put(field, true);
      }
    }
  }

  private void fold(String field, Number[] values) {
    Stat[] s = stats.get(field);
    if (s == null) {
      s = new Stat[values.length];
      for (int i = 0; i < s.length; i++) {
        s[i] = new Stat();
      }
      stats.put(field, s);
    } else if (s.length != values.length) {
      stats.remove(field);
      broken.put(field, true);
      return;
    }
    for (int i = 0; i < values.length; i++) {
      s[i].add(values[i]);
    }
  }

  private static Number[] numbers(JsonArray array) {
    Number[] out = new Number[array.size()];
    for (int i = 0; i < out.length; i++) {
      if (!(array.getValue(i) instanceof Number n) || !Double.isFinite(n.doubleValue())) {
        return null;
      }
      out[i] = n;
    }
    return out;
  }

  int count() {
    return count;
  }

  /** The newest record of the window: what readers of the frame's source (the current-metrics API) see. */
  PulseMessage newestRecord() {
    return newestRecord;
  }

  /** The frame of this window: {@code {"type":stream,"data":...,"aggregate":...}}. */
  JsonObject toFrame(String stream, long windowMs) {
    JsonObject data = newest.copy();
    JsonObject min = new JsonObject();
    JsonObject max = new JsonObject();
    JsonObject avg = new JsonObject();
    stats.forEach((field, s) -> {
      if (s.length == 1 && !(newest.getValue(field) instanceof JsonArray)) {
        min.put(field, s[0].min);
        max.put(field, s[0].max);
        avg.put(field, s[0].avg());
      } else {
        JsonArray mins = new JsonArray();
        JsonArray maxs = new JsonArray();
        JsonArray avgs = new JsonArray();
        for (Stat stat : s) {
          mins.add(stat.min);
          maxs.add(stat.max);
          avgs.add(stat.avg());
        }
        min.put(field, mins);
        max.put(field, maxs);
        avg.put(field, avgs);
      }
      data.put(field, avg.getValue(field));
    });
    JsonObject aggregate = new JsonObject().put("window_ms", windowMs).put("count", count)
      .put("first_timestamp", firstTimestamp).put("min", min).put("max", max).put("avg", avg);
    return new JsonObject().put("type", stream).put("data", data).put("aggregate", aggregate);
  }
}
