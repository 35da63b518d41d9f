package com.chatroom.pulse.history;

import com.chatroom.pulse.bus.PulseMessage;
import com.chatroom.pulse.config.HistoryConfig;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.DoubleSupplier;

/**
 * Answers history questions from the tiers: each window is split into the coarsest tier that covers it exactly
 * (whole hours from hour rollups, the minutes around them from minute rollups, the last minutes that are not rolled
 * up yet from raw samples), and the parts are merged. Counts, sums, minima and maxima merge exactly; p95 comes from
 * the merged sketches (within 1%).
 */
final class HistoryQueries {

  static final int MAX_POINTS = 10_000;

  private final HistoryStore store;
  private final HistoryConfig config;
  private final DoubleSupplier clock;

  HistoryQueries(HistoryStore store, HistoryConfig config, DoubleSupplier clock) {
    this.store = store;
    this.config = config;
    this.clock = clock;
  }

  /** What a window was made of, and the merged buckets. */
  record Aggregate(TreeMap<Long, Rollup> buckets, int hours, int minutes, int raw, PulseMessage newest) {
  }

  /**
   * Merges everything in [from, to] into buckets of {@code step} seconds (0: one bucket), reading {@code preferred}
   * where it covers the window and finer tiers at its edges.
   */
  Future<Aggregate> aggregate(Kind kind, String instance, double from, double to, long step, Tier preferred,
                             Set<String> metrics) {
    double now = clock.getAsDouble();
    long minuteNow = Tier.floor(Math.min(to, now), 60);
    // minutes up to one minute ago are rolled up (the verticle rolls a minute within seconds of its end); after that, raw
    long boundary = to >= now - 120 ? minuteNow - 60 : Tier.floor(to, 60);
    List<Future<List<Rollup>>> parts = new ArrayList<>();
    List<Tier> partTiers = new ArrayList<>();
    Future<List<PulseMessage>> raw;
    if (preferred == Tier.RAW) {
      raw = store.raw(kind, instance, from, to, Integer.MAX_VALUE);
    } else {
      long minuteFrom = ceil(from, 60);
      if (preferred == Tier.HOUR) {
        long hourFrom = ceil(from, 3600);
        long hourTo = Tier.floor(boundary, 3600);
        boolean minutesCoverLead = from >= now - config.minuteRetentionSeconds();
        if (hourTo > hourFrom) {
          if (!minutesCoverLead) {
            hourFrom = Tier.floor(from, 3600);
          }
          addPart(parts, partTiers, Tier.HOUR, store.rollups(kind, instance, Tier.HOUR, hourFrom, hourTo, metrics));
          if (minutesCoverLead) {
            addPart(parts, partTiers, Tier.MINUTE, store.rollups(kind, instance, Tier.MINUTE, minuteFrom, hourFrom, metrics));
          }
          addPart(parts, partTiers, Tier.MINUTE, store.rollups(kind, instance, Tier.MINUTE, hourTo, boundary, metrics));
        } else {
          addPart(parts, partTiers, Tier.MINUTE, store.rollups(kind, instance, Tier.MINUTE, minuteFrom, boundary, metrics));
        }
      } else {
        addPart(parts, partTiers, Tier.MINUTE, store.rollups(kind, instance, Tier.MINUTE, minuteFrom, boundary, metrics));
      }
      raw = store.raw(kind, instance, Math.max(from, boundary), to, Integer.MAX_VALUE);
    }
    return Future.all(parts).compose(v -> raw).map(samples -> {
      TreeMap<Long, Rollup> buckets = new TreeMap<>();
      int hours = 0;
      int minutes = 0;
      for (int i = 0; i < parts.size(); i++) {
        for (Rollup r : parts.get(i).result()) {
          bucket(buckets, r.start, step).merge(r);
          if (partTiers.get(i) == Tier.HOUR) {
            hours++;
          } else {
            minutes++;
          }
        }
      }
      PulseMessage newest = null;
      for (PulseMessage sample : samples) {
        bucket(buckets, (long) Math.floor(Kind.timestampOf(sample)), step).add(kind, sample);
        newest = sample;
      }
      return new Aggregate(buckets, hours, minutes, samples.size(), newest);
    });
  }

  private static void addPart(List<Future<List<Rollup>>> parts, List<Tier> tiers, Tier tier, Future<List<Rollup>> part) {
    parts.add(part);
    tiers.add(tier);
  }

  private static Rollup bucket(TreeMap<Long, Rollup> buckets, long time, long step) {
    long key = step == 0 ? 0 : Tier.floor(time, step);
    return buckets.computeIfAbsent(key, Rollup::new);
  }

  static long ceil(double time, long step) {
    return (long) Math.ceil(time / step) * step;
  }

  /** The tier a range query with this step should read. */
  Tier tierFor(double from, long step) {
    double now = clock.getAsDouble();
    if (step < 60 && from >= now - config.rawRetentionSeconds()) {
      return Tier.RAW;
    }
    if (step < 3600 && from >= now - config.minuteRetentionSeconds()) {
      return Tier.MINUTE;
    }
    return Tier.HOUR;
  }

  /** The seed's get_metrics_summary(hours), plus p95, every metric, the hour-of-day baseline and trends. */
  Future<JsonObject> summary(Kind kind, String instance, double hours) {
    double to = clock.getAsDouble();
    double from = to - hours * 3600;
    Tier tier = hours > 2 ? Tier.HOUR : Tier.MINUTE;
    return aggregate(kind, instance, from, to, 0, tier, null).compose(agg -> {
      Rollup all = agg.buckets().isEmpty() ? new Rollup(0) : agg.buckets().firstEntry().getValue();
      JsonObject metrics = new JsonObject();
      all.stats.forEach((name, stat) -> metrics.put(name, stat.toJson()));
      JsonObject out = new JsonObject()
        .put("instance", instance)
        .put("kind", kind.wireName())
        .put("time_range_hours", hours)
        .put("sample_count", all.count())
        .put("computed_from", new JsonObject().put("hour_rollups", agg.hours()).put("minute_rollups", agg.minutes())
          .put("raw_samples", agg.raw()))
        .put("metrics", metrics);
      if (kind == Kind.SYSTEM) {
        out.put("cpu", seedStat(all.stats.get("cpu_percent")));
        out.put("memory", seedStat(all.stats.get("memory_percent")));
      }
      out.put("current", agg.newest() == null ? null : agg.newest().toJson());
      return Future.all(cachedBaseline(kind, instance, to), cachedTrends(kind, instance, to))
        .map(v -> out.put("baseline", v.resultAt(0)).put("trends", v.<JsonObject>resultAt(1).getJsonObject("trends"))
          .put("forecast", v.<JsonObject>resultAt(1).getJsonObject("forecast")));
    });
  }

  private static JsonObject seedStat(Stat stat) {
    if (stat == null || stat.count == 0) {
      return new JsonObject().put("avg", null).put("max", null).put("min", null).put("p95", null);
    }
    return new JsonObject().put("avg", Stat.round(stat.avg())).put("max", stat.max).put("min", stat.min)
      .put("p95", Stat.round(stat.p95()));
  }

  /** Range query: one metric, buckets of {@code step} seconds. */
  Future<JsonObject> range(Kind kind, String instance, String metric, double from, double to, long step) {
    Tier tier = tierFor(from, step);
    return aggregate(kind, instance, from, to, step, tier, Set.of(metric)).map(agg -> {
      JsonArray points = new JsonArray();
      agg.buckets().forEach((t, rollup) -> {
        Stat stat = rollup.stats.get(metric);
        if (stat != null && stat.count > 0) {
          points.add(stat.toJson().put("t", t));
        }
      });
      return new JsonObject().put("instance", instance).put("kind", kind.wireName()).put("metric", metric)
        .put("from", from).put("to", to).put("step", step).put("tier", tier.wireName()).put("points", points);
    });
  }

  /** A computed answer and the time bucket it is good for. */
  private record Cached(long bucket, JsonObject value) {
  }

  private static final int CACHE_ENTRIES = 1024;
  private final Map<String, Cached> trendCache = boundedCache();
  private final Map<String, Cached> baselineCache = boundedCache();

  private static Map<String, Cached> boundedCache() {
    return new java.util.LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
        return size() > CACHE_ENTRIES;
      }
    };
  }

  /** Trends only change when a minute is rolled up: computed at most once per minute per instance. */
  Future<JsonObject> cachedTrends(Kind kind, String instance, double now) {
    return cached(trendCache, kind.wireName() + '|' + instance, Tier.floor(now, 60), () -> trends(kind, instance, now));
  }

  /** The baseline only changes with the hour. */
  Future<JsonObject> cachedBaseline(Kind kind, String instance, double now) {
    return cached(baselineCache, kind.wireName() + '|' + instance, Tier.floor(now, 3600), () -> baseline(kind, instance, now));
  }

  private static Future<JsonObject> cached(Map<String, Cached> cache, String key, long bucket,
                                           java.util.function.Supplier<Future<JsonObject>> compute) {
    Cached hit = cache.get(key);
    if (hit != null && hit.bucket() == bucket) {
      return Future.succeededFuture(hit.value());
    }
    return compute.get().onSuccess(value -> cache.put(key, new Cached(bucket, value)));
  }

  /** This hour of day over the past {@code history.baseline_days} days, from the hour tier. */
  Future<JsonObject> baseline(Kind kind, String instance, double now) {
    long thisHour = Tier.floor(now, 3600);
    long from = thisHour - config.baselineDays() * 86400L;
    return store.rollups(kind, instance, Tier.HOUR, from, thisHour, null).map(hours -> {
      Rollup merged = new Rollup(from);
      int days = 0;
      for (Rollup hour : hours) {
        if ((thisHour - hour.start) % 86400 == 0) {
          merged.merge(hour);
          days++;
        }
      }
      JsonObject metrics = new JsonObject();
      merged.stats.forEach((name, stat) -> metrics.put(name, new JsonObject().put("avg", Stat.round(stat.avg()))
        .put("p95", Stat.round(stat.p95())).put("min", stat.min).put("max", stat.max)));
      return new JsonObject().put("hour_of_day_utc", (int) ((thisHour % 86400) / 3600)).put("days", days)
        .put("metrics", metrics);
    });
  }

  /**
   * A least-squares line through the minute averages of the last {@code history.trend_hours}: slope per hour for
   * every metric (with at least 10 minutes of data), and for percentages that grow, the hours until they reach 100.
   */
  Future<JsonObject> trends(Kind kind, String instance, double now) {
    double from = now - config.trendHours() * 3600d;
    return aggregate(kind, instance, from, now, 60, Tier.MINUTE, null).map(agg -> {
      JsonObject trends = new JsonObject();
      JsonObject forecast = new JsonObject();
      for (String metric : kind.metricNames()) {
        List<double[]> points = new ArrayList<>();
        agg.buckets().forEach((t, rollup) -> {
          Stat s = rollup.stats.get(metric);
          if (s != null && s.count > 0) {
            points.add(new double[] {t, s.avg()});
          }
        });
        Line line = Line.fit(points);
        if (line == null) {
          continue;
        }
        double slopePerHour = line.slope() * 3600;
        trends.put(metric, new JsonObject().put("slope_per_hour", Stat.round(slopePerHour)).put("points", points.size()));
        if (FILLING.containsKey(metric)) {
          Stat latest = agg.buckets().lastEntry().getValue().stats.get(metric);
          forecast.put(FILLING.get(metric), hoursToFull(latest == null ? Double.NaN : latest.last, slopePerHour));
        }
      }
      return new JsonObject().put("trends", trends).put("forecast", forecast);
    });
  }

  /** Metrics that end an outage at 100%, and the forecast field that says when. */
  static final Map<String, String> FILLING = Map.of(
    "disk_usage_percent", "disk_full_in_hours",
    "memory_percent", "memory_full_in_hours");

  static Double hoursToFull(double current, double slopePerHour) {
    if (!Double.isFinite(current) || !(slopePerHour > 1e-9)) {
      return null;
    }
    return Stat.round(Math.max(0, (100 - current) / slopePerHour));
  }

  /** Backfill for the stream: raw samples since {@code since}, oldest first, across instances. */
  Future<List<PulseMessage>> backfill(Kind kind, Set<String> instances, double since, int limit) {
    double now = clock.getAsDouble();
    double from = Math.max(since, now - config.rawRetentionSeconds());
    Future<List<String>> names = instances != null ? Future.succeededFuture(List.copyOf(instances)) : store.instances(kind);
    return names.compose(list -> {
      List<Future<List<PulseMessage>>> reads = new ArrayList<>();
      for (String instance : list.subList(0, Math.min(list.size(), 256))) {
        reads.add(store.raw(kind, instance, from, now + 60, limit));
      }
      return Future.all(reads).map(v -> {
        List<PulseMessage> all = new ArrayList<>();
        reads.forEach(r -> all.addAll(r.result()));
        all.sort(java.util.Comparator.comparingDouble(Kind::timestampOf));
        return all.size() > limit ? new ArrayList<>(all.subList(all.size() - limit, all.size())) : all;
      });
    });
  }

  /** Ordinary least squares; null with fewer than 10 points or no spread in time. */
  record Line(double slope, double intercept) {
    static Line fit(List<double[]> points) {
      int n = points.size();
      if (n < 10) {
        return null;
      }
      double t0 = points.get(0)[0];
      double sx = 0, sy = 0, sxx = 0, sxy = 0;
      for (double[] p : points) {
        double x = p[0] - t0;
        sx += x;
        sy += p[1];
        sxx += x * x;
        sxy += x * p[1];
      }
      double denominator = n * sxx - sx * sx;
      if (denominator == 0) {
        return null;
      }
      double slope = (n * sxy - sx * sy) / denominator;
      return new Line(slope, (sy - slope * sx) / n - slope * t0);
    }
  }
}
