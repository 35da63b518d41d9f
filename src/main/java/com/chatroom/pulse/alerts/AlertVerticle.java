package com.chatroom.pulse.alerts;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.AlertEvent;
import com.chatroom.pulse.bus.BusMessages;
import com.chatroom.pulse.bus.InvalidMessageException;
import com.chatroom.pulse.bus.PulseMessage;
import com.chatroom.pulse.config.AlertsConfig;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.redis.client.Redis;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The alert manager: one instance per node. Evaluates every rule on every {@code metrics.system} and
 * {@code metrics.app} sample, publishes each change on {@code alerts.events} (node-locally: every node evaluates every
 * instance's samples, so each node's consumers hear each change once), and hands it to the notifier. A sweep checks
 * staleness, silences and repeats; state is written behind to Redis when one is configured.
 */
public final class AlertVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(AlertVerticle.class);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);
  private static final long FLUSH_INTERVAL_MS = 250;

  private final PulseConfig config;
  private final AlertsConfig alerts;
  private final List<Rule> rules;
  private final Map<String, Counter> changes = new HashMap<>();
  private final Map<String, Counter> rejected = new HashMap<>();
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicInteger firing = new AtomicInteger();
  private final AtomicInteger flapping = new AtomicInteger();
  private MeterRegistry registry;
  private final List<Gauge> gauges = new ArrayList<>();
  private Timer evaluation;
  private Counter templateErrors;
  private Counter seriesDropped;
  private Redis redis;
  private AlertStore store;
  private Outbox outbox = Outbox.NONE;
  private RedisSync sync;
  private Silences silences;
  private Notifier notifier;
  private RuleEngine engine;
  private AlertApi api;

  /**
   * Compiles the rules at once, so a bad rule fails the deployment (and start-up) with the rule and field named.
   *
   * @throws com.chatroom.pulse.config.ConfigException for a bad metric or template
   */
  public AlertVerticle(PulseConfig config) {
    this.config = config;
    this.alerts = config.alerts();
    this.rules = Rule.compile(alerts);
  }

  @Override
  public Future<?> start() {
    registry = Meters.registry(vertx);
    evaluation = Timer.builder(MeterNames.ALERTS_EVALUATION).description("Time to evaluate every rule on one sample")
      .register(registry);
    templateErrors = Counter.builder(MeterNames.ALERTS_TEMPLATE_ERRORS)
      .description("Template problems met while rendering (the alert was still sent)").register(registry);
    seriesDropped = Counter.builder(MeterNames.ALERTS_SERIES_DROPPED)
      .description("Samples not evaluated because alerts.limits.max_series was reached").register(registry);
    gauge("pending", pending);
    gauge("firing", firing);
    gauge("flapping", flapping);

    silences = new Silences(alerts.limits().maxSilences());
    Claims claims;
    Gate gate = Gate.OPEN;
    if (config.redis().enabled()) {
      redis = Redis.createClient(vertx, config.redis().options());
      claims = new RedisClaims(redis, config.instanceId(), alerts.delivery().dedupeTtlMs());
      store = new RedisAlertStore(redis, alerts.limits().historySize(), alerts.limits().deadLetters(),
        alerts.delivery().dedupeTtlMs(), registry);
      outbox = new RedisOutbox(redis, alerts.delivery().dedupeTtlMs(), registry);
      sync = new RedisSync(vertx, redis, config.redis().options(), alerts.limits().maxSilences(),
        body -> api.apply(body), registry);
      gate = sync;
    } else {
      claims = new Claims.Memory(100_000, alerts.delivery().dedupeTtlMs());
      store = AlertStore.NONE;
    }
    notifier = new Notifier(vertx, alerts, externalUrl(config), claims, outbox, gate, store::appendDeadLetter, registry);
    engine = new RuleEngine(rules, alerts.flapping(), alerts.limits().maxSeries(), config.instanceId(),
      silences::silencedBy, new Listener());
    api = new AlertApi(vertx, engine, silences, notifier, alerts.limits(), config.instanceId(), this::sweep);
    Future<Void> subscribed = Future.succeededFuture();
    if (sync != null) {
      api.shareThrough(sync);
      subscribed = sync.start();
    }

    Future<AlertStore.Loaded> state = store.load().recover(e -> {
      // Redis down must not keep the node from alerting: start empty; claims and writes retry as it comes back
      loadFailed("load", e);
      return Future.succeededFuture(null);
    });
    Future<Map<String, List<Notification>>> queued = outbox.load(notifier.channelNames()).recover(e -> {
      loadFailed("outbox_load", e);
      return Future.succeededFuture(Map.of());
    });
    return Future.all(state, queued, subscribed)
      .map(v -> {
        Restore.apply(state.result(), queued.result(), engine, silences, api, notifier);
        return v;
      })
      .compose(v -> Future.all(List.of(
        consume(Addresses.METRICS_SYSTEM, BusMessages::systemMetrics).completion(),
        consume(Addresses.METRICS_APP, BusMessages::applicationMetrics).completion(),
        api.register())))
      .onSuccess(v -> {
        vertx.setPeriodic(alerts.limits().sweepIntervalMs(), id -> sweep());
        if (redis != null) {
          vertx.setPeriodic(FLUSH_INTERVAL_MS, id -> flushDirty().flush());
        }
        LOG.info("Alert manager up: {} rules, {} channels ({}), state {}", rules.size(), alerts.channels().size(),
          alerts.channels().stream().map(c -> c.name() + ":" + c.type()).toList(),
          redis == null ? "in memory" : "in Redis at " + config.redis().redactedUrl());
      });
  }

  private void loadFailed(String op, Throwable e) {
    Counter.builder(MeterNames.ALERTS_STORE_ERRORS).description("Failed reads and writes of shared alert state (Redis)")
      .tag("op", op).register(registry).increment();
    LOG.error("Cannot read alert state ({}) from Redis at {} ({}); starting without it", op, config.redis().redactedUrl(),
      e.getMessage());
  }

  /**
   * {@code alerts.external_url}, else this node's own address: Alertmanager rejects an alert whose generatorURL is
   * not a URL, so there must always be one.
   */
  static String externalUrl(PulseConfig config) {
    if (!config.alerts().externalUrl().isEmpty()) {
      return config.alerts().externalUrl();
    }
    String host = config.http().host();
    if (host.isEmpty() || host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
      String name = config.instanceId().toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9.-]", "-");
      host = name.matches("[a-z0-9]([a-z0-9.-]*[a-z0-9])?") ? name : "localhost";
    } else if (host.contains(":") && !host.startsWith("[")) {
      host = "[" + host + "]"; // an IPv6 literal
    }
    return "http://" + host + ":" + config.http().port();
  }

  @Override
  public Future<?> stop() {
    if (registry != null) {
      gauges.forEach(registry::remove);
    }
    Future<Void> closing = notifier == null ? Future.succeededFuture() : notifier.close();
    return closing.eventually(outbox::close)
      .eventually(() -> sync == null ? Future.succeededFuture() : sync.close())
      .eventually(() -> store == null ? Future.succeededFuture() : flushDirty().close())
      .eventually(() -> redis == null ? Future.succeededFuture() : redis.close());
  }

  private void gauge(String state, AtomicInteger value) {
    gauges.add(Gauge.builder(MeterNames.ALERTS_ACTIVE, value, AtomicInteger::get).description("Active alerts on this node, per state")
      .tag("state", state).register(registry));
  }

  private MessageConsumer<Object> consume(String address, Function<Object, ? extends PulseMessage> decode) {
    Counter samples = Counter.builder(MeterNames.ALERTS_SAMPLES).description("Samples evaluated by the alert manager")
      .tag("address", address).register(registry);
    return vertx.eventBus().consumer(address, message -> onSample(message, address, decode, samples));
  }

  private void onSample(Message<Object> message, String address, Function<Object, ? extends PulseMessage> decode,
                        Counter samples) {
    PulseMessage sample;
    try {
      sample = decode.apply(message.body());
    } catch (InvalidMessageException e) {
      rejected.computeIfAbsent(address + '|' + e.reason().tag(), k -> Counter.builder(MeterNames.BUS_REJECTED)
        .description("Bus messages that failed validation, per address, consumer and reason")
        .tags("address", address, "consumer", "alerts", "reason", e.reason().tag()).register(registry)).increment();
      if (message.replyAddress() != null) {
        message.fail(400, e.getMessage());
      }
      return;
    }
    long start = System.nanoTime();
    engine.onSample(sample, System.currentTimeMillis());
    evaluation.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    samples.increment();
  }

  private void sweep() {
    long now = System.currentTimeMillis();
    silences.expire(now).forEach(s -> store.deleteSilence(s.id()));
    engine.sweep(now, alerts.limits().staleAfterMs());
    int[] counts = new int[3];
    engine.forEachSeries(s -> {
      switch (s.published) {
        case "pending" -> counts[0]++;
        case "firing" -> {
          counts[1]++;
          if (!s.silenced) {
            notifier.stillFiring(engine.current(s), s.key, s.firedAtMs, now, s.ackBy != null);
          }
        }
        case "flapping" -> {
          counts[2]++;
          if (!s.silenced) {
            notifier.stillFiring(engine.current(s), s.key, s.flapSinceMs, now, s.ackBy != null);
          }
        }
        default -> {
        }
      }
    });
    pending.set(counts[0]);
    firing.set(counts[1]);
    flapping.set(counts[2]);
  }

  private AlertStore flushDirty() {
    engine.drainChanges(s -> store.saveSeries(s.key, s.toJson()), store::deleteSeries);
    return store;
  }

  /** Every change: to the bus, the history, the store and the notifier. */
  private final class Listener implements RuleEngine.Listener {

    @Override
    public void onEvent(AlertEvent event, Series series) {
      vertx.eventBus().publish(Addresses.ALERTS_EVENTS, event, LOCAL);
      api.remember(event);
      store.appendHistory(historyKey(event, series), event.toJson());
      changes.computeIfAbsent(event.state() + '|' + event.reason(), k -> Counter.builder(MeterNames.ALERTS_CHANGES)
        .description("Alert state and flag changes, per state and reason")
        .tags("state", event.state(), "reason", event.reason()).register(registry)).increment();
      notifier.onEvent(event, series.stateId(), series.key);
    }

    /**
     * The same on every node for the same change: a state change's id; an acknowledgement's id (it carries the
     * acknowledging node's time); for a silence flag, which silence and when in the episode rather than each node's
     * sweep time.
     */
    private static String historyKey(AlertEvent event, Series series) {
      return switch (event.reason()) {
        case "silenced", "unsilenced" -> series.stateId() + '/' + event.reason() + '/' + series.silencedBy;
        default -> event.id();
      };
    }

    @Override
    public void onTemplateError() {
      templateErrors.increment();
    }

    @Override
    public void onSeriesDropped() {
      seriesDropped.increment();
    }
  }
}
