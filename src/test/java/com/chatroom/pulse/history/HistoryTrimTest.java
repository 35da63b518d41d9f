package com.chatroom.pulse.history;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.RedisServer;
import com.chatroom.pulse.Samples;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("History follows the optimizer's trim_caches")
class HistoryTrimTest {

  private static final String INSTANCE = "hist-trim";
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private RedisServer redis;

  @AfterEach
  void stopRedis() throws InterruptedException {
    if (redis != null) {
      redis.close();
    }
  }

  private static JsonObject trim(String state) {
    return new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", System.currentTimeMillis())
      .put("rule", "memory_high").put("action", "trim_caches").put("state", state).put("reason", "test")
      .put("metrics", new JsonObject().put("memory_percent", 91.0));
  }

  /** Samples once a second ending two minutes ago, so every minute of them is rolled up within seconds. */
  private static List<SystemMetrics> samples(int from, int count, double start) {
    List<SystemMetrics> out = new ArrayList<>();
    for (int i = from; i < from + count; i++) {
      out.add(Samples.at(INSTANCE, i + 1, start + i, 10 + i % 50, 40, 30));
    }
    return out;
  }

  /** What a floor leaves of these samples: the newest {@code floor}, but never fewer than the last two minutes. */
  private static int expectedAfterFloor(List<SystemMetrics> all, int floor) {
    double newest = all.get(all.size() - 1).timestamp();
    double keepFrom = Math.floor(newest / 60) * 60 - 60;
    int lastTwoMinutes = (int) all.stream().filter(s -> s.timestamp() >= keepFrom).count();
    return Math.min(all.size(), Math.max(floor, lastTwoMinutes));
  }

  private static Future<Integer> rawCount(Vertx vertx) {
    JsonObject request = new JsonObject().put("op", "backfill").put("since", System.currentTimeMillis() / 1000d - 3600)
      .put("streams", new JsonArray().add("system")).put("instances", new JsonArray().add(INSTANCE));
    return vertx.eventBus().<JsonObject>request(Addresses.HISTORY_QUERY, request, LOCAL)
      .map(reply -> reply.body().getJsonArray("frames").size());
  }

  private static Future<Long> summaryCount(Vertx vertx) {
    JsonObject request = new JsonObject().put("op", "summary").put("kind", "system").put("instance", INSTANCE).put("hours", 1);
    return vertx.eventBus().<JsonObject>request(Addresses.HISTORY_QUERY, request, LOCAL)
      .map(reply -> reply.body().getLong("sample_count")).recover(e -> Future.succeededFuture(-1L));
  }

  /** Polls on Vert.x timers until the value satisfies the predicate. */
  private static <T> Future<T> until(Vertx vertx, Supplier<Future<T>> read, Predicate<T> done) {
    return read.get().compose(v -> done.test(v) ? Future.succeededFuture(v)
      : Future.<Void>future(p -> vertx.setTimer(50, id -> p.complete())).compose(x -> until(vertx, read, done)));
  }

  private static void publishAll(Vertx vertx, List<SystemMetrics> samples) {
    samples.forEach(s -> vertx.eventBus().publish(Addresses.METRICS_SYSTEM, s));
  }

  private static double trimmedSamples(Vertx vertx) {
    FunctionCounter counter = Meters.registry(vertx).find(MeterNames.HISTORY_TRIMMED).functionCounter();
    return counter == null ? -1 : counter.count();
  }

  private static double followed(Vertx vertx, String state) {
    Counter counter = Meters.registry(vertx).find(MeterNames.HISTORY_OPTIMIZER_ACTIONS).tags("action", "trim_caches", "state", state).counter();
    return counter == null ? 0 : counter.count();
  }

  private static double rejected(Vertx vertx) {
    return Meters.registry(vertx).find(MeterNames.BUS_REJECTED)
      .tags("address", Addresses.OPTIMIZER_ACTIONS, "consumer", "history").counters().stream().mapToDouble(Counter::count).sum();
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("in memory, raw rings are cut to the floor (never the last two minutes) and held there, rollups and summaries stay whole; reverted lets them grow; another node's and malformed actions change nothing")
  void trimsAndHolds(Vertx vertx, VertxTestContext ctx) {
    double start = System.currentTimeMillis() / 1000d - 900;
    List<SystemMetrics> first = samples(0, 600, start);
    List<SystemMetrics> more = samples(600, 30, start);
    List<SystemMetrics> after = samples(630, 30, start);
    List<SystemMetrics> upToMore = new ArrayList<>(first);
    upToMore.addAll(more);
    int expected1 = expectedAfterFloor(first, 300);
    int expected2 = expectedAfterFloor(upToMore, 300);
    List<Object> malformed = List.of(
      "{not json", 7,
      trim("applied").put("history_raw_floor", -5),
      trim("applied").put("history_raw_floor", "100"),
      trim("applied").put("history_raw_floor", 1.5),
      trim("sideways").put("history_raw_floor", 0),
      trim("applied").put("history_raw_floor", 0).put("instance", false));
    Edge.deploy(vertx, new JsonObject())
      .compose(c -> {
        publishAll(vertx, first);
        return until(vertx, () -> rawCount(vertx), n -> n == 600);
      })
      // the minutes are rolled up: the one-hour summary counts them all
      .compose(n -> until(vertx, () -> summaryCount(vertx), count -> count == 600))
      .compose(count -> {
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, trim("applied").put("history_raw_floor", 0).put("instance", "another-node"));
        malformed.forEach(body -> vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, body));
        // a floor of 300 after them: had any of them cut to 0, fewer than 300 would be left
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, trim("applied").put("history_raw_floor", 300).put("chat_backlog_floor", 5));
        return until(vertx, () -> rawCount(vertx), n -> n < 600);
      })
      .compose(n -> {
        ctx.verify(() -> {
          assertThat(n).isEqualTo(expected1);
          assertThat(trimmedSamples(vertx)).isEqualTo(600 - expected1);
        });
        return summaryCount(vertx);
      })
      .compose(count -> {
        ctx.verify(() -> assertThat(count).as("rollups are kept: the summary still counts every sample").isEqualTo(600));
        // held at the floor while applied: new samples push the oldest out
        publishAll(vertx, more);
        return until(vertx, () -> rawCount(vertx), n -> n == expected2);
      })
      .compose(n -> {
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, trim("reverted"));
        publishAll(vertx, after);
        return until(vertx, () -> rawCount(vertx), count -> count >= expected2 + 30);
      })
      .onComplete(ctx.succeeding(n -> ctx.verify(() -> {
        assertThat(n).as("after the revert nothing more is cut").isEqualTo(expected2 + 30);
        assertThat(trimmedSamples(vertx)).isEqualTo(630 - expected2);
        assertThat(followed(vertx, "applied")).isEqualTo(1);
        assertThat(followed(vertx, "reverted")).isEqualTo(1);
        assertThat(rejected(vertx)).isEqualTo(malformed.size());
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("with Redis, trim_caches is acknowledged and history is left to Redis's own expiry")
  void redisIgnoresTrim(Vertx vertx, VertxTestContext ctx) throws Exception {
    redis = new RedisServer().start();
    List<SystemMetrics> all = samples(0, 300, System.currentTimeMillis() / 1000d - 600);
    Edge.deploy(vertx, new JsonObject().put("redis", new JsonObject().put("url", redis.url())))
      .compose(c -> {
        publishAll(vertx, all);
        return until(vertx, () -> rawCount(vertx), n -> n == 300);
      })
      .compose(n -> {
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, trim("applied").put("history_raw_floor", 10));
        return until(vertx, () -> Future.succeededFuture(followed(vertx, "applied")), count -> count == 1);
      })
      .compose(x -> rawCount(vertx))
      .onComplete(ctx.succeeding(n -> ctx.verify(() -> {
        assertThat(n).isEqualTo(300);
        assertThat(trimmedSamples(vertx)).as("no in-memory store, no trim counter").isEqualTo(-1);
        ctx.completeNow();
      })));
  }
}
