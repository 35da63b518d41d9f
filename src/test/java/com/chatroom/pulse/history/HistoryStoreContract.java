package com.chatroom.pulse.history;

import com.chatroom.pulse.Samples;
import com.chatroom.pulse.bus.PulseMessage;
import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.config.HistoryConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * What every {@link HistoryStore} must do, checked against brute-force computations over the raw samples.
 * Subclasses supply the store; the same assertions run against memory and Redis.
 */
@ExtendWith(VertxExtension.class)
abstract class HistoryStoreContract {

  /** Three days of raw and minutes, so that baseline samples from past days can still be rolled up in the test. */
  static final HistoryConfig CONFIG = new HistoryConfig(3 * 24 * 60, 72, 35, 100_000, 100, 7, 6, 5000);

  /** A fresh store; called on a Vert.x context, which the store then belongs to. */
  abstract HistoryStore newStore(Vertx vertx);

  /** Runs a whole scenario on one event-loop context, as the history verticle would: stores are single-context. */
  static <T> Future<T> onContext(Vertx vertx, java.util.function.Supplier<Future<T>> scenario) {
    io.vertx.core.Promise<T> done = io.vertx.core.Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> scenario.get().onComplete(done));
    return done.future();
  }

  /** Appends every sample (in order) and rolls up every minute that has one, as the verticle does. */
  static Future<Void> load(HistoryStore store, List<SystemMetrics> samples) {
    List<Future<Void>> writes = new ArrayList<>();
    TreeSet<Long> minutes = new TreeSet<>();
    for (SystemMetrics s : samples) {
      writes.add(store.append(Kind.SYSTEM, s));
      minutes.add(Tier.floor(s.timestamp(), 60));
    }
    for (long minute : minutes) {
      writes.add(store.rollup(Kind.SYSTEM, samples.get(0).instance(), minute));
    }
    return Future.all(writes).mapEmpty();
  }

  /** Samples every 10 s from {@code start} for {@code count} ticks, with seeded pseudo-random values. */
  static List<SystemMetrics> series(String instance, double start, int count, long seed) {
    Random random = new Random(seed);
    List<SystemMetrics> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      double cpu = Math.round(random.nextDouble() * 10000) / 100d;
      double memory = 40 + Math.round(random.nextDouble() * 2000) / 100d;
      double disk = 50 + i * 0.001;
      out.add(Samples.at(instance, i + 1, start + i * 10, cpu, memory, disk));
    }
    return out;
  }

  private <T> Future<T> withStore(Vertx vertx, java.util.function.Function<HistoryStore, Future<T>> scenario) {
    return scenario.apply(newStore(vertx));
  }

  static double exactP95(List<Double> values) {
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return sorted[(int) Math.max(0, Math.ceil(0.95 * sorted.length) - 1)];
  }

  static void assertStat(Stat stat, List<Double> values) {
    assertThat(stat.count).isEqualTo(values.size());
    assertThat(stat.sum).isCloseTo(values.stream().mapToDouble(Double::doubleValue).sum(), within(1e-6));
    assertThat(stat.min).isEqualTo(values.stream().mapToDouble(Double::doubleValue).min().orElseThrow());
    assertThat(stat.max).isEqualTo(values.stream().mapToDouble(Double::doubleValue).max().orElseThrow());
    assertThat(stat.last).isEqualTo(values.get(values.size() - 1));
    double p95 = exactP95(values);
    assertThat(stat.p95()).isCloseTo(p95, within(p95 * Sketch.ALPHA + 1e-9));
  }

  static List<Double> values(List<SystemMetrics> samples, ToDoubleFunction<SystemMetrics> metric, double from, double toExclusive) {
    return samples.stream().filter(s -> s.timestamp() >= from && s.timestamp() < toExclusive)
      .map(metric::applyAsDouble).toList();
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("minute and hour rollups equal the values computed directly from the raw samples")
  void rollupsMatchRaw(Vertx vertx, VertxTestContext ctx) {
    double now = System.currentTimeMillis() / 1000d;
    double start = Tier.floor(now - 3 * 3600, 3600) + 3;
    List<SystemMetrics> samples = series("contract-a", start, 3 * 360 - 12, 1);
    onContext(vertx, () -> withStore(vertx, store -> load(store, samples)
        .compose(v -> store.rollups(Kind.SYSTEM, "contract-a", Tier.MINUTE, (long) start - 3, (long) now + 60, null))
        .compose(minutes -> {
          ctx.verify(() -> {
            assertThat(minutes).hasSize((int) (samples.size() / 6.0 + 0.99));
            for (Rollup minute : minutes.subList(0, 50)) {
              assertStat(minute.stats.get("cpu_percent"), values(samples, SystemMetrics::cpuPercent, minute.start, minute.start + 60));
              assertStat(minute.stats.get("memory_percent"), values(samples, SystemMetrics::memoryPercent, minute.start, minute.start + 60));
              assertStat(minute.stats.get("load_average_1m"), values(samples, s -> s.loadAverage().get(0), minute.start, minute.start + 60));
            }
          });
          return store.rollups(Kind.SYSTEM, "contract-a", Tier.HOUR, (long) start - 3, (long) now, null);
        })
        .compose(hours -> {
          ctx.verify(() -> {
            assertThat(hours).hasSizeGreaterThanOrEqualTo(2);
            for (Rollup hour : hours) {
              assertStat(hour.stats.get("cpu_percent"), values(samples, SystemMetrics::cpuPercent, hour.start, hour.start + 3600));
              assertStat(hour.stats.get("active_connections"), values(samples, s -> s.activeConnections(), hour.start, hour.start + 3600));
            }
          });
          return store.raw(Kind.SYSTEM, "contract-a", now - 1800, now, 10_000);
        })
        .compose(raw -> {
          ctx.verify(() -> {
            List<SystemMetrics> expected = samples.stream().filter(s -> s.timestamp() >= now - 1800 && s.timestamp() <= now).toList();
            assertThat(raw).containsExactlyElementsOf(expected);
          });
          return store.instances(Kind.SYSTEM);
        })))
      .onComplete(ctx.succeeding(instances -> ctx.verify(() -> {
        assertThat(instances).contains("contract-a");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("the summary equals a brute-force computation over the raw samples in the window")
  void summaryMatchesBruteForce(Vertx vertx, VertxTestContext ctx) {
    double now = System.currentTimeMillis() / 1000d;
    List<SystemMetrics> samples = series("contract-b", now - 4 * 3600, 4 * 360, 2);
    double hours = 2.5;
    onContext(vertx, () -> withStore(vertx, store -> load(store, samples)
        .compose(v -> new HistoryQueries(store, CONFIG, () -> now).summary(Kind.SYSTEM, "contract-b", hours))))
      .onComplete(ctx.succeeding(summary -> ctx.verify(() -> {
        double from = HistoryQueries.ceil(now - hours * 3600, 60);
        List<Double> cpu = values(samples, SystemMetrics::cpuPercent, from, now + 1);
        List<Double> memory = values(samples, SystemMetrics::memoryPercent, from, now + 1);
        assertThat(summary.getLong("sample_count")).isEqualTo(cpu.size());
        assertThat(summary.getDouble("time_range_hours")).isEqualTo(hours);
        JsonObject c = summary.getJsonObject("cpu");
        assertThat(c.getDouble("avg")).isCloseTo(cpu.stream().mapToDouble(Double::doubleValue).average().orElseThrow(), within(0.001));
        assertThat(c.getDouble("max")).isEqualTo(cpu.stream().mapToDouble(Double::doubleValue).max().orElseThrow());
        assertThat(c.getDouble("min")).isEqualTo(cpu.stream().mapToDouble(Double::doubleValue).min().orElseThrow());
        assertThat(c.getDouble("p95")).isCloseTo(exactP95(cpu), within(exactP95(cpu) * Sketch.ALPHA + 0.001));
        assertThat(summary.getJsonObject("memory").getDouble("max"))
          .isEqualTo(memory.stream().mapToDouble(Double::doubleValue).max().orElseThrow());
        assertThat(summary.getJsonObject("current").getLong("seq")).isEqualTo(samples.get(samples.size() - 1).seq());
        JsonObject parts = summary.getJsonObject("computed_from");
        assertThat(parts.getInteger("hour_rollups")).as("whole hours come from the hour tier").isGreaterThanOrEqualTo(1);
        assertThat(parts.getInteger("raw_samples")).isPositive();
        assertThat(summary.getJsonObject("metrics").fieldNames()).containsAll(Kind.SYSTEM.metricNames());
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a range query buckets by step with the same values as brute force")
  void rangeMatchesBruteForce(Vertx vertx, VertxTestContext ctx) {
    double now = System.currentTimeMillis() / 1000d;
    List<SystemMetrics> samples = series("contract-c", now - 2 * 3600, 2 * 360, 3);
    double from = now - 90 * 60;
    onContext(vertx, () -> withStore(vertx, store -> load(store, samples)
        .compose(v -> new HistoryQueries(store, CONFIG, () -> now).range(Kind.SYSTEM, "contract-c", "cpu_percent", from, now, 300))))
      .onComplete(ctx.succeeding(range -> ctx.verify(() -> {
        assertThat(range.getString("tier")).isEqualTo("minute");
        Map<Long, List<Double>> expected = new TreeMap<>();
        for (SystemMetrics s : samples) {
          if (s.timestamp() >= HistoryQueries.ceil(from, 60) && s.timestamp() <= now) {
            expected.computeIfAbsent(Tier.floor(s.timestamp(), 300), k -> new ArrayList<>()).add(s.cpuPercent());
          }
        }
        var points = range.getJsonArray("points");
        assertThat(points.size()).isEqualTo(expected.size());
        int i = 0;
        for (Map.Entry<Long, List<Double>> e : expected.entrySet()) {
          JsonObject p = points.getJsonObject(i++);
          assertThat(p.getLong("t")).isEqualTo(e.getKey());
          assertThat(p.getLong("count")).isEqualTo(e.getValue().size());
          assertThat(p.getDouble("max")).isEqualTo(e.getValue().stream().mapToDouble(Double::doubleValue).max().orElseThrow());
          assertThat(p.getDouble("avg")).isCloseTo(e.getValue().stream().mapToDouble(Double::doubleValue).average().orElseThrow(), within(0.001));
        }
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a steadily filling disk gives its slope per hour and the hours until full; past days give the baseline")
  void trendsAndBaseline(Vertx vertx, VertxTestContext ctx) {
    double now = System.currentTimeMillis() / 1000d;
    List<SystemMetrics> samples = new ArrayList<>();
    // two past days at this hour of day, cpu 30 then 50: the baseline average is 40
    long thisHour = Tier.floor(now, 3600);
    for (int day = 1; day <= 2; day++) {
      for (int i = 0; i < 60; i++) {
        samples.add(Samples.at("contract-d", samples.size() + 1, thisHour - day * 86400L + i * 60 + 5, day == 1 ? 50 : 30, 40, 10));
      }
    }
    // the last 3 hours: disk grows 2 points per hour from 60
    for (int i = 0; i < 3 * 60; i++) {
      double t = now - 3 * 3600 + i * 60;
      samples.add(Samples.at("contract-d", samples.size() + 1, t, 20, 40, 60 + 2 * (i / 60.0)));
    }
    samples.sort(java.util.Comparator.comparingDouble(SystemMetrics::timestamp));
    onContext(vertx, () -> withStore(vertx, store -> load(store, samples)
        .compose(v -> new HistoryQueries(store, CONFIG, () -> now).summary(Kind.SYSTEM, "contract-d", 1))))
      .onComplete(ctx.succeeding(summary -> ctx.verify(() -> {
        JsonObject disk = summary.getJsonObject("trends").getJsonObject("disk_usage_percent");
        assertThat(disk.getDouble("slope_per_hour")).isCloseTo(2.0, within(0.01));
        double last = samples.get(samples.size() - 1).diskUsagePercent();
        assertThat(summary.getJsonObject("forecast").getDouble("disk_full_in_hours")).isCloseTo((100 - last) / 2, within(0.5));
        JsonObject baseline = summary.getJsonObject("baseline");
        assertThat(baseline.getInteger("days")).isEqualTo(2);
        assertThat(baseline.getJsonObject("metrics").getJsonObject("cpu_percent").getDouble("avg")).isCloseTo(40, within(1e-9));
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("rolling a minute up twice (a late sample) gives the same result as once")
  void rollupIsIdempotent(Vertx vertx, VertxTestContext ctx) {
    double now = System.currentTimeMillis() / 1000d;
    double minute = Tier.floor(now - 600, 60);
    List<SystemMetrics> first = series("contract-e", minute + 1, 5, 5);
    SystemMetrics late = Samples.at("contract-e", 99, minute + 59, 99.5, 40, 10);
    onContext(vertx, () -> withStore(vertx, store -> load(store, first)
        .compose(v -> store.append(Kind.SYSTEM, late))
        .compose(v -> store.rollup(Kind.SYSTEM, "contract-e", (long) minute))
        .compose(v -> store.rollup(Kind.SYSTEM, "contract-e", (long) minute))
        .compose(v -> store.rollups(Kind.SYSTEM, "contract-e", Tier.MINUTE, (long) minute, (long) minute + 60, null))))
      .onComplete(ctx.succeeding(rollups -> ctx.verify(() -> {
        List<SystemMetrics> all = new ArrayList<>(first);
        all.add(late);
        assertThat(rollups).singleElement().satisfies(r -> assertStat(r.stats.get("cpu_percent"),
          values(all, SystemMetrics::cpuPercent, minute, minute + 60)));
        ctx.completeNow();
      })));
  }

}
