package com.chatroom.pulse.history;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.BusMessages;
import com.chatroom.pulse.bus.BusRejects;
import com.chatroom.pulse.bus.InvalidMessageException;
import com.chatroom.pulse.bus.OwnerAction;
import com.chatroom.pulse.bus.PulseMessage;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.IntSupplier;

/**
 * Keeps this node's history: every {@link com.chatroom.pulse.bus.SystemMetrics} and
 * {@link com.chatroom.pulse.bus.ApplicationMetrics} produced on this node (local consumers: with a shared Redis,
 * each node writes only what it produced, so nothing is written twice) goes to the {@link HistoryStore}; each
 * minute is rolled up a few seconds after it ends; queries arrive on {@link Addresses#HISTORY_QUERY}.
 * One instance per node.
 */
public final class HistoryVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(HistoryVerticle.class);
  /** A minute is rolled up this long after it ends, so samples in flight at the boundary are in it. */
  private static final double ROLLUP_GRACE_SECONDS = 2;
  /**
   * Raw samples a series keeps under trim_caches when the action names no {@code history_raw_floor}: 15 minutes at the
   * sampler's default 1 Hz, what the dashboard backfills on connect.
   */
  static final int DEFAULT_RAW_FLOOR = 900;
  /** Any floor is accepted (the optimizer's config allows up to 100 million); above the ring's size it trims nothing. */
  static final long MAX_RAW_FLOOR = Integer.MAX_VALUE;
  /** Series cut per turn of the event loop: a thousand instances of two kinds never hold the loop at once. */
  static final int TRIM_SLICE = 64;

  private final PulseConfig config;
  private final List<Meter> meters = new ArrayList<>();
  /** Per kind and instance: the newest minute that has samples but no rollup yet. */
  private final Map<Kind, Map<String, Long>> pendingMinute = new EnumMap<>(Kind.class);
  /** Trend and forecast of this node's own host, read by gauges on the scrape thread. */
  private final Map<String, Double> ownTrends = new ConcurrentHashMap<>();
  private final Map<Kind, Counter> appended = new EnumMap<>(Kind.class);
  private HistoryStore store;
  private HistoryQueries queries;
  private HistoryRequests requests;
  private BusRejects rejects;
  private long rollupTimer;
  private long trendTimer;

  public HistoryVerticle(PulseConfig config) {
    this.config = config;
  }

  @Override
  public Future<?> start() {
    MeterRegistry registry = Meters.registry(vertx);
    if (config.redis().enabled()) {
      Redis client = Redis.createClient(vertx, config.redis().options());
      RedisHistoryStore redis = new RedisHistoryStore(vertx, client, config.history());
      store = redis;
      meters.add(Gauge.builder(MeterNames.HISTORY_BUFFERED, redis, r -> r.buffer().size())
        .description("History writes waiting for Redis").register(registry));
      meters.add(FunctionCounter.builder(MeterNames.HISTORY_DROPPED, redis, r -> r.buffer().dropped())
        .description("History writes dropped because the buffer was full during a Redis outage").register(registry));
      meters.add(Gauge.builder(MeterNames.HISTORY_DEGRADED, redis, r -> r.buffer().degraded() ? 1 : 0)
        .description("1 while Redis is unreachable and history writes are buffered").register(registry));
    } else {
      MemoryHistoryStore memory = new MemoryHistoryStore(config.history());
      store = memory;
      meters.add(FunctionCounter.builder(MeterNames.HISTORY_TRIMMED, memory, MemoryHistoryStore::trimmedSamples)
        .description("Raw samples dropped from in-memory history by the optimizer's trim_caches").register(registry));
    }
    queries = new HistoryQueries(store, config.history(), () -> System.currentTimeMillis() / 1000d);
    requests = new HistoryRequests(queries, store);
    rejects = new BusRejects(registry, "history");
    for (Kind kind : Kind.values()) {
      pendingMinute.put(kind, new HashMap<>());
      appended.put(kind, Counter.builder(MeterNames.HISTORY_SAMPLES).description("Samples written to history")
        .tag("kind", kind.wireName()).register(registry));
      meters.add(appended.get(kind));
    }
    for (Map.Entry<String, String> filling : HistoryQueries.FILLING.entrySet()) {
      meters.add(Gauge.builder(MeterNames.HISTORY_FORECAST, ownTrends, t -> t.getOrDefault(filling.getValue(), Double.NaN))
        .description("Hours until this host's value reaches 100% at its current linear trend (NaN: not rising)")
        .tag("metric", filling.getKey()).register(registry));
    }
    for (String metric : Kind.SYSTEM.metricNames()) {
      meters.add(Gauge.builder(MeterNames.HISTORY_TREND, ownTrends, t -> t.getOrDefault(metric, Double.NaN))
        .description("Linear trend of this host's value over history.trend_hours, per hour").tag("metric", metric)
        .register(registry));
    }
    rollupTimer = vertx.setPeriodic(5000, id -> rollupEndedMinutes());
    trendTimer = vertx.setPeriodic(60_000, id -> refreshOwnTrends());
    LOG.info("History started: backend {}{}, raw {} min, minutes {} h, hours {} d", store.backend(),
      config.redis().enabled() ? " (" + config.redis().redactedUrl() + ")" : "", config.history().rawRetentionMinutes(),
      config.history().minuteRetentionHours(), config.history().hourRetentionDays());
    return Future.all(List.of(
      consume(Addresses.METRICS_SYSTEM, BusMessages::systemMetrics),
      consume(Addresses.METRICS_APP, BusMessages::applicationMetrics),
      vertx.eventBus().consumer(Addresses.OPTIMIZER_ACTIONS, this::onAction).completion(),
      vertx.eventBus().<JsonObject>localConsumer(Addresses.HISTORY_QUERY, requests::handle).completion()));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(rollupTimer);
    vertx.cancelTimer(trendTimer);
    MeterRegistry registry = Meters.registry(vertx);
    meters.forEach(registry::remove);
    // roll up what is pending so a restart finds complete minutes, then flush and close
    rollupAll(Double.POSITIVE_INFINITY);
    return store.close();
  }

  /** For readiness: the store's state. */
  public static Future<JsonObject> health(io.vertx.core.Vertx vertx, long timeoutMs) {
    return vertx.eventBus().<JsonObject>request(Addresses.HISTORY_QUERY, new JsonObject().put("op", "health"),
      new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(timeoutMs).setLocalOnly(true)).map(Message::body);
  }

  private Future<Void> consume(String address, Function<Object, ? extends PulseMessage> decode) {
    return vertx.eventBus().localConsumer(address, message -> {
      PulseMessage sample;
      try {
        sample = decode.apply(message.body());
      } catch (InvalidMessageException e) {
        rejects.reject(message, e);
        return;
      }
      onSample(sample);
    }).completion();
  }

  /**
   * From {@code optimizer.actions}, for this node: {@code trim_caches} applied holds every in-memory series at
   * {@code history_raw_floor} raw samples (default {@link #DEFAULT_RAW_FLOOR}) and cuts them now, a slice per turn of
   * the event loop; reverted lets them grow back to the configured retention. Rollups are never trimmed. Redis history
   * is not this node's to trim. Other actions and states are ignored; a malformed action is refused and counted.
   */
  private void onAction(Message<Object> message) {
    OwnerAction order;
    int floor;
    try {
      order = OwnerAction.read(message.body(), config.instanceId());
      if (order == null || !order.action().equals("trim_caches")) {
        return;
      }
      floor = order.applied() ? (int) order.optionalInteger("history_raw_floor", 0, MAX_RAW_FLOOR, DEFAULT_RAW_FLOOR) : -1;
    } catch (InvalidMessageException e) {
      rejects.reject(message, e);
      return;
    }
    Counter.builder(MeterNames.HISTORY_OPTIMIZER_ACTIONS).description("Optimizer actions the history store followed")
      .tags("action", order.action(), "state", order.state()).register(Meters.registry(vertx)).increment();
    List<IntSupplier> cuts = store.holdRaw(floor);
    if (floor < 0) {
      LOG.info("trim_caches reverted: raw history grows back to {} min", config.history().rawRetentionMinutes());
    } else if (cuts.isEmpty()) {
      LOG.info("trim_caches: nothing to trim in {} history{}", store.backend(),
        store.backend().equals("memory") ? "" : " (Redis expires it by itself)");
    } else {
      cutSlice(cuts, 0, 0, floor, System.nanoTime());
    }
  }

  private void cutSlice(List<IntSupplier> cuts, int from, long dropped, int floor, long startNanos) {
    int to = Math.min(cuts.size(), from + TRIM_SLICE);
    long total = dropped;
    for (int i = from; i < to; i++) {
      total += cuts.get(i).getAsInt();
    }
    if (to < cuts.size()) {
      long sofar = total;
      vertx.runOnContext(v -> cutSlice(cuts, to, sofar, floor, startNanos));
      return;
    }
    LOG.info("trim_caches: {} raw samples freed from {} in-memory series, now held at {} each (the last two minutes "
      + "always stay; rollups kept), in {} ms", total, cuts.size(), floor, (System.nanoTime() - startNanos) / 1_000_000);
  }

  private void onSample(PulseMessage sample) {
    Kind kind = Kind.of(sample);
    String instance = Kind.instanceOf(sample);
    store.append(kind, sample).onFailure(e -> LOG.debug("History write lost: {}", e.getMessage()));
    appended.get(kind).increment();
    long minute = Tier.floor(Kind.timestampOf(sample), 60);
    Map<String, Long> pending = pendingMinute.get(kind);
    Long previous = pending.get(instance);
    if (previous == null || minute > previous) {
      if (previous != null) {
        rollup(kind, instance, previous);
      }
      pending.put(instance, minute);
    } else if (minute < previous) {
      // a late sample for a minute already rolled up: roll it up again
      rollup(kind, instance, minute);
    }
  }

  private void rollupEndedMinutes() {
    rollupAll(System.currentTimeMillis() / 1000d - 60 - ROLLUP_GRACE_SECONDS);
  }

  /** Rolls up every pending minute that started before {@code before}. */
  private void rollupAll(double before) {
    pendingMinute.forEach((kind, pending) -> pending.entrySet().removeIf(e -> {
      if (e.getValue() < before) {
        rollup(kind, e.getKey(), e.getValue());
        return true;
      }
      return false;
    }));
  }

  private void rollup(Kind kind, String instance, long minute) {
    store.rollup(kind, instance, minute).onFailure(e -> LOG.debug("Rollup of {} {} at {} lost: {}", kind, instance, minute, e.getMessage()));
  }

  private void refreshOwnTrends() {
    queries.trends(Kind.SYSTEM, config.instanceId(), System.currentTimeMillis() / 1000d).onSuccess(result -> {
      JsonObject trends = result.getJsonObject("trends");
      for (String metric : Kind.SYSTEM.metricNames()) {
        JsonObject t = trends.getJsonObject(metric);
        ownTrends.put(metric, t == null ? Double.NaN : t.getDouble("slope_per_hour"));
      }
      result.getJsonObject("forecast").forEach(e -> ownTrends.put(e.getKey(),
        e.getValue() instanceof Number n ? n.doubleValue() : Double.NaN));
    });
  }
}
