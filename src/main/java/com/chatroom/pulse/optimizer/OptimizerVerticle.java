package com.chatroom.pulse.optimizer;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.BusMessages;
import com.chatroom.pulse.bus.BusRejects;
import com.chatroom.pulse.bus.InvalidMessageException;
import com.chatroom.pulse.bus.PulseMessage;
import com.chatroom.pulse.config.OptimizerConfig;
import com.chatroom.pulse.config.OptimizerRuleConfig;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The optimizer: one instance per node, on an event loop, never blocking. Evaluates its rules on this node's own
 * {@code metrics.system} and {@code metrics.app} samples and publishes each decision on {@code optimizer.actions}
 * (cluster-wide, so every dashboard sees it; owners act only on their own instance's), keeps the audit (memory, and
 * Redis when configured), delivers webhook actions, and escalates ineffective actions on {@code alerts.events}.
 */
public final class OptimizerVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(OptimizerVerticle.class);
  private static final long FLUSH_INTERVAL_MS = 250;
  private static final long SWEEP_INTERVAL_MS = 1000;
  /** How long stopping waits for webhook reverts in flight. */
  private static final long STOP_WAIT_MS = 2000;

  private final PulseConfig config;
  private final OptimizerConfig settings;
  private final LongSupplier clock;
  private final Optimizer optimizer;
  private final Map<String, AtomicInteger> active = new HashMap<>();
  private final Map<String, Counter> decisions = new HashMap<>();
  private final List<Gauge> gauges = new ArrayList<>();
  private final List<Long> timers = new ArrayList<>();
  private MeterRegistry registry;
  private Audit audit;
  private Redis redis;
  private RedisAudit store;
  private Webhooks webhooks;

  /** @throws com.chatroom.pulse.config.ConfigException for a rule whose metric does not compile (start-up stops) */
  public OptimizerVerticle(PulseConfig config) {
    this(config, System::currentTimeMillis);
  }

  /**
   * @param clock this node's clock (epoch ms) for event timestamps and {@code stale_after}; rule durations (for,
   *              cooldown, settle, budget) run on the samples' own timestamps
   */
  public OptimizerVerticle(PulseConfig config, LongSupplier clock) {
    this.config = config;
    this.settings = config.optimizer();
    this.clock = clock;
    this.optimizer = new Optimizer(settings, config.instanceId(), clock, new Effects());
  }

  @Override
  public Future<?> start() {
    registry = Meters.registry(vertx);
    for (String type : OptimizerRuleConfig.ACTIONS) {
      AtomicInteger value = new AtomicInteger();
      active.put(type, value);
      gauges.add(Gauge.builder(MeterNames.OPTIMIZER_ACTIVE, value, AtomicInteger::get)
        .description("Rules of this node holding an action, per action type").tag("action", type).register(registry));
    }
    audit = new Audit(settings.auditSize());
    if (config.redis().enabled()) {
      redis = Redis.createClient(vertx, config.redis().options());
      store = new RedisAudit(redis, config.instanceId(), settings.auditSize(), storeErrors("write"));
    }
    if (settings.rules().stream().anyMatch(r -> r.action().type().equals("webhook"))) {
      webhooks = new Webhooks(vertx, settings.webhook());
    }
    BusRejects rejects = new BusRejects(registry, "optimizer");
    OptimizerApi api = new OptimizerApi(vertx, optimizer, audit, settings.dryRun());
    Future<?> loaded = store == null ? Future.succeededFuture() : store.load()
      .onSuccess(audit::restore)
      .recover(e -> {
        // Redis down must not keep the node from optimizing: start with an empty audit, writes retry
        storeErrors("load").increment();
        LOG.error("Cannot read the optimizer audit from Redis at {} ({}); starting with none", config.redis().redactedUrl(),
          e.getMessage());
        return Future.succeededFuture();
      });
    return loaded.compose(v -> Future.all(
        consume(Addresses.METRICS_SYSTEM, BusMessages::systemMetrics, rejects),
        consume(Addresses.METRICS_APP, BusMessages::applicationMetrics, rejects),
        api.register()))
      .onSuccess(v -> {
        timers.add(vertx.setPeriodic(SWEEP_INTERVAL_MS, id -> optimizer.sweep()));
        if (store != null) {
          timers.add(vertx.setPeriodic(FLUSH_INTERVAL_MS, id -> store.flush()));
        }
        LOG.info("Optimizer up on {}: {} rules ({}), {}budget {} actions/hour, audit {} in {}", config.instanceId(),
          settings.rules().size(), settings.rules().stream().map(r -> r.name() + "→" + r.action().type()).toList(),
          settings.dryRun() ? "DRY RUN, " : "", settings.maxActionsPerHour(), settings.auditSize(),
          store == null ? "memory" : "memory and Redis at " + config.redis().redactedUrl());
      });
  }

  @Override
  public Future<?> stop() {
    timers.forEach(vertx::cancelTimer);
    // owners must not keep throttling for an optimizer that is gone
    optimizer.releaseAll("the optimizer is stopping");
    List<Future<Void>> chains = optimizer.rules().stream().map(r -> r.webhookChain).toList();
    Promise<Void> settled = Promise.promise();
    Future.join(chains).onComplete(ar -> settled.tryComplete());
    vertx.setTimer(STOP_WAIT_MS, id -> settled.tryComplete());
    return settled.future()
      .eventually(() -> store == null ? Future.succeededFuture() : store.close())
      .eventually(() -> redis == null ? Future.succeededFuture() : redis.close())
      .eventually(() -> {
        if (webhooks != null) {
          webhooks.close();
        }
        gauges.forEach(registry::remove);
        return Future.succeededFuture();
      });
  }

  private Future<Void> consume(String address, Function<Object, ? extends PulseMessage> decode, BusRejects rejects) {
    Counter samples = Counter.builder(MeterNames.OPTIMIZER_SAMPLES).description("Samples received by the optimizer")
      .tag("address", address).register(registry);
    return vertx.eventBus().consumer(address, message -> {
      PulseMessage sample;
      try {
        sample = decode.apply(message.body());
      } catch (InvalidMessageException e) {
        rejects.reject(message, e);
        return;
      }
      samples.increment();
      optimizer.onSample(sample);
    }).completion();
  }

  private Counter storeErrors(String op) {
    return Counter.builder(MeterNames.OPTIMIZER_AUDIT_ERRORS).description("Failed reads and writes of the optimizer audit (Redis)")
      .tag("op", op).register(registry);
  }

  /** What a decision does: the audit, the bus, the meters; webhook delivery; escalation. On this verticle's context. */
  private final class Effects implements Optimizer.Output {

    @Override
    public void record(JsonObject event) {
      audit.add(event);
      if (store != null) {
        store.append(event);
      }
      vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, event);
      String rule = event.getString("rule");
      String action = event.getString("action");
      String state = event.getString("state");
      decisions.computeIfAbsent(rule + '|' + action + '|' + state, k -> Counter.builder(MeterNames.OPTIMIZER_DECISIONS)
        .description("Optimizer decisions, per rule, action and state").tags("rule", rule, "action", action, "state", state)
        .register(registry)).increment();
      active.forEach((type, value) -> value.set(optimizer.holders(type).size()));
      if (state.equals("applied") || state.equals("reverted") || state.equals("failed")) {
        LOG.info("Optimizer {} {} ({}): {}", state, action, rule, event.getString("reason"));
      }
    }

    @Override
    public void webhook(OptimizerRule rule, JsonObject event, boolean apply) {
      rule.webhookChain = rule.webhookChain.transform(ignored -> {
        if (!apply && !rule.webhookDelivered) {
          return Future.<Void>succeededFuture(); // its apply never reached the receiver: nothing to undo
        }
        return webhooks.post(rule.spec.action().webhook(), event).transform(ar -> {
          if (ar.succeeded()) {
            rule.webhookDelivered = apply;
            record(event);
          } else {
            if (apply) {
              optimizer.webhookFailed(rule, event.getString("id"));
            } else {
              rule.webhookDelivered = false;
            }
            record(event.copy().put("id", UUID.randomUUID().toString()).put("timestamp", clock.getAsLong())
              .put("state", "failed").put("reason", "webhook " + (apply ? "apply" : "revert") + " to "
                + host(rule.spec.action().webhook().url()) + " failed: " + ar.cause().getMessage())
              .put("failed_id", event.getString("id")));
          }
          return Future.<Void>succeededFuture();
        });
      });
    }

    @Override
    public void escalate(OptimizerRule rule, double value, boolean firing, String reason) {
      vertx.eventBus().publish(Addresses.ALERTS_EVENTS, Escalation.event(rule, config.instanceId(),
        settings.escalationSeverity(), value, firing, reason, clock.getAsLong()));
    }
  }

  private static String host(String url) {
    try {
      URI uri = URI.create(url);
      return uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "");
    } catch (IllegalArgumentException e) {
      return "the configured URL";
    }
  }
}
