package com.chatroom.pulse.history;

import com.chatroom.pulse.RedisServer;
import com.chatroom.pulse.Samples;
import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.config.HistoryConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.HdrHistogram.Histogram;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * History figures for BENCHMARKS.md, against a real redis-server started here on a free port: a day of 1 Hz
 * samples for one instance, then the 24 h summary and the 24 h range at 1-minute step timed over many calls (Redis
 * round trips included); Redis memory per raw sample and per rollup; and the write rate the store absorbs from many
 * simulated instances. Not a test: run it with the command in BENCHMARKS.md.
 */
public final class HistoryBench {

  private HistoryBench() {
  }

  public static void main(String[] args) throws Exception {
    int calls = Integer.parseInt(System.getProperty("calls", "300"));
    try (RedisServer server = new RedisServer().start()) {
      Vertx vertx = Vertx.vertx();
      try {
        JsonObject result = run(vertx, server.url(), calls);
        LoggerFactory.getLogger(HistoryBench.class).warn("RESULT {}", result.encode());
      } finally {
        vertx.close().toCompletionStage().toCompletableFuture().get();
      }
    }
  }

  /** Runs {@code work} on one context (the store is single-context) and waits for it from this main thread. */
  private static <T> T await(Vertx vertx, io.vertx.core.Context context, Supplier<Future<T>> work) throws Exception {
    CompletableFuture<T> done = new CompletableFuture<>();
    context.runOnContext(v -> work.get().onComplete(ar -> {
      if (ar.succeeded()) {
        done.complete(ar.result());
      } else {
        done.completeExceptionally(ar.cause());
      }
    }));
    return done.get();
  }

  static JsonObject run(Vertx vertx, String url, int calls) throws Exception {
    // raw kept for a day here so that a whole day can be loaded at once; live, minutes are rolled up as they end
    HistoryConfig config = new HistoryConfig(1500, 48, 35, 1_000_000, 100, 7, 6, 5000);
    io.vertx.core.Context context = vertx.getOrCreateContext();
    Redis client = Redis.createClient(vertx, new RedisOptions().setConnectionString(url).setMaxPoolWaiting(100_000));
    RedisHistoryStore store = await(vertx, context, () -> Future.succeededFuture(new RedisHistoryStore(vertx, client, config)));
    double now = System.currentTimeMillis() / 1000d;
    int day = 86_400;
    List<SystemMetrics> samples = new ArrayList<>(day);
    for (int i = 0; i < day; i++) {
      samples.add(Samples.at("bench-a", i + 1, now - day + i, (i * 7919) % 10000 / 100d, 40 + (i % 600) / 100d, 50 + i / 86400d));
    }
    long loadStart = System.nanoTime();
    await(vertx, context, () -> HistoryStoreContract.load(store, samples));
    double loadSeconds = (System.nanoTime() - loadStart) / 1e9;

    HistoryQueries queries = new HistoryQueries(store, config, () -> System.currentTimeMillis() / 1000d);
    long coldStart = System.nanoTime();
    await(vertx, context, () -> queries.summary(Kind.SYSTEM, "bench-a", 24));
    double coldMs = (System.nanoTime() - coldStart) / 1e6;
    // warm-up: let the JIT compile the query path before timing the steady state
    for (int i = 0; i < 50; i++) {
      await(vertx, context, () -> queries.summary(Kind.SYSTEM, "bench-a", 24));
      await(vertx, context, () -> queries.range(Kind.SYSTEM, "bench-a", "cpu_percent", now - day, now, 60));
    }
    Histogram summary = new Histogram(3);
    Histogram range = new Histogram(3);
    JsonObject lastSummary = null;
    for (int round = 0; round < calls; round++) {
      long t0 = System.nanoTime();
      lastSummary = await(vertx, context, () -> queries.summary(Kind.SYSTEM, "bench-a", 24));
      summary.recordValue((System.nanoTime() - t0) / 1000);
      long t1 = System.nanoTime();
      await(vertx, context, () -> queries.range(Kind.SYSTEM, "bench-a", "cpu_percent", now - day, now, 60));
      range.recordValue((System.nanoTime() - t1) / 1000);
    }
    long rawBytes = await(vertx, context, () -> usage(client, "pulse:hist:system:bench-a:raw:*"));
    long minuteBytes = await(vertx, context, () -> usage(client, "pulse:hist:system:bench-a:min:*"));
    long hourBytes = await(vertx, context, () -> usage(client, "pulse:hist:system:bench-a:hour:*"));
    JsonObject first = lastSummary;

    // sustained writes: 1000 simulated instances, 100 samples each, as fast as the store takes them
    int instances = 1000;
    int perInstance = 100;
    List<SystemMetrics> burst = new ArrayList<>(instances * perInstance);
    for (int i = 0; i < perInstance; i++) {
      for (int n = 0; n < instances; n++) {
        burst.add(Samples.at("sim-" + n, i + 1, now - perInstance + i, 10, 10, 10));
      }
    }
    long writeStart = System.nanoTime();
    await(vertx, context, () -> Future.all(burst.stream().map(s -> store.append(Kind.SYSTEM, s)).toList()));
    double writeSeconds = (System.nanoTime() - writeStart) / 1e9;

    return new JsonObject()
      .put("load_day_of_1hz_seconds", round(loadSeconds))
      .put("summary_24h_first_call_ms", round(coldMs))
      .put("summary_24h_ms", percentiles(summary))
      .put("range_24h_step60_ms", percentiles(range))
      .put("summary_sample_count", first.getLong("sample_count"))
      .put("summary_computed_from", first.getJsonObject("computed_from"))
      .put("redis_bytes_per_raw_sample", round((double) rawBytes / day))
      .put("redis_bytes_per_minute_rollup", round((double) minuteBytes / 1440))
      .put("redis_bytes_per_hour_rollup", round((double) hourBytes / 24))
      .put("write_rate_samples_per_second", Math.round(burst.size() / writeSeconds))
      .put("write_burst", instances + " instances x " + perInstance + " samples");
  }

  static double round(double v) {
    return Math.round(v * 100) / 100d;
  }

  static JsonObject percentiles(Histogram h) {
    return new JsonObject().put("p50", h.getValueAtPercentile(50) / 1000d).put("p99", h.getValueAtPercentile(99) / 1000d)
      .put("max", h.getMaxValue() / 1000d).put("calls", h.getTotalCount());
  }

  /** Sums MEMORY USAGE over the keys of one tier. */
  static Future<Long> usage(Redis client, String pattern) {
    return client.send(Request.cmd(Command.KEYS).arg(pattern)).compose(keys -> {
      List<Future<Response>> sizes = new ArrayList<>();
      keys.forEach(k -> sizes.add(client.send(Request.cmd(Command.MEMORY).arg("USAGE").arg(k.toString()).arg("SAMPLES").arg(0))));
      return Future.all(sizes).map(v -> sizes.stream().mapToLong(f -> f.result().toLong()).sum());
    });
  }
}
