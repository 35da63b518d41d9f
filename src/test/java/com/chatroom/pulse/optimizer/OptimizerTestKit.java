package com.chatroom.pulse.optimizer;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.Samples;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.config.PulseConfig;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

/** Config builders, synthetic samples and waits for the optimizer's tests: a real edge with the optimizer beside it. */
final class OptimizerTestKit {

  static final String NODE = "opt-node";
  static final String ADMIN_TOKEN = "optimizer-admin-token-0123";
  /** Sample time zero: every duration in a test is driven by the samples' timestamps, never by waiting. */
  static final double T0 = 1_764_000_000d;

  private OptimizerTestKit() {
  }

  /** A {@code >} rule that acts on the first sample over {@code threshold} and reverts on the first under {@code clear}. */
  static JsonObject rule(String name, String metric, double threshold, double clear, JsonObject action) {
    return new JsonObject().put("name", name).put("metric", metric).put("op", ">").put("threshold", threshold)
      .put("clear_threshold", clear).put("for", "0s").put("clear_for", "0s").put("cooldown", "0s").put("action", action)
      .put("verify", new JsonObject().put("settle", "10s").put("min_improvement", 0.1));
  }

  static JsonObject action(String type) {
    return new JsonObject().put("type", type);
  }

  /** The config overrides of a test node: this node's id, an admin token, and the optimizer section. */
  static JsonObject node(JsonObject optimizer) {
    return new JsonObject().put("instance_id", NODE)
      .put("http", new JsonObject().put("admin_token", ADMIN_TOKEN))
      .put("optimizer", optimizer);
  }

  static JsonObject optimizer(JsonObject... rules) {
    return new JsonObject().put("rules", new JsonArray(List.of((Object[]) rules)));
  }

  /** The edge (stream, history, chat, HTTP on a free port) and then the optimizer, with one config. */
  static Future<PulseConfig> deploy(Vertx vertx, JsonObject overrides) {
    return Edge.deploy(vertx, overrides).compose(config -> vertx.deployVerticle(() -> new OptimizerVerticle(config),
      new DeploymentOptions()).map(config));
  }

  /** Every event published on optimizer.actions, in order. */
  static List<JsonObject> actions(Vertx vertx) {
    List<JsonObject> seen = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(Addresses.OPTIMIZER_ACTIONS, m -> seen.add(m.body()));
    return seen;
  }

  /** A system sample of this node {@code seconds} after {@link #T0}. */
  static SystemMetrics sample(double seconds, double cpu, double memory) {
    return Samples.at(NODE, (long) seconds, T0 + seconds, cpu, memory, 50);
  }

  static SystemMetrics cpu(double seconds, double cpu) {
    return sample(seconds, cpu, 40);
  }

  static void publish(Vertx vertx, SystemMetrics sample) {
    vertx.eventBus().publish(Addresses.METRICS_SYSTEM, sample);
  }

  /** Publishes a sample, then completes once {@code condition} holds. */
  static Future<Void> step(Vertx vertx, SystemMetrics sample, BooleanSupplier condition) {
    publish(vertx, sample);
    return until(vertx, condition);
  }

  /** Publishes a sample and completes once the optimizer has evaluated it (the CPU rule shows the sample's value). */
  static Future<Void> evaluated(Vertx vertx, SystemMetrics sample, String cpuRule) {
    publish(vertx, sample);
    Promise<Void> done = Promise.promise();
    poll(vertx, cpuRule, sample.cpuPercent(), done);
    return done.future();
  }

  private static void poll(Vertx vertx, String rule, double value, Promise<Void> done) {
    rules(vertx).onComplete(ar -> {
      if (ar.succeeded() && ar.result().getJsonArray("rules").stream().map(JsonObject.class::cast)
        .anyMatch(r -> r.getString("name").equals(rule) && Double.valueOf(value).equals(r.getDouble("value")))) {
        done.complete();
      } else {
        vertx.setTimer(10, id -> poll(vertx, rule, value, done));
      }
    });
  }

  /** The optimizer's rule listing, asked over the bus as the edge asks it. */
  static Future<JsonObject> rules(Vertx vertx) {
    return vertx.eventBus().<JsonObject>request(OptimizerApi.ADDRESS, new JsonObject().put("op", "rules"),
      new DeliveryOptions().setSendTimeout(2000)).map(m -> m.body());
  }

  static JsonObject rule(JsonObject listing, String name) {
    return listing.getJsonArray("rules").stream().map(JsonObject.class::cast).filter(r -> r.getString("name").equals(name))
      .findFirst().orElseThrow();
  }

  /** Completes once the condition holds, checking every 10 ms on a Vert.x timer. */
  static Future<Void> until(Vertx vertx, BooleanSupplier condition) {
    Promise<Void> done = Promise.promise();
    check(vertx, condition, done);
    return done.future();
  }

  private static void check(Vertx vertx, BooleanSupplier condition, Promise<Void> done) {
    if (condition.getAsBoolean()) {
      done.complete();
    } else {
      vertx.setTimer(10, id -> check(vertx, condition, done));
    }
  }

  /** The states of the events seen, in order (e.g. applied, verified, reverted). */
  static List<String> states(List<JsonObject> events) {
    return events.stream().map(e -> e.getString("state")).toList();
  }

  static long count(List<JsonObject> events, String state) {
    return events.stream().filter(e -> state.equals(e.getString("state"))).count();
  }

  static JsonObject last(List<JsonObject> events, String state) {
    for (int i = events.size() - 1; i >= 0; i--) {
      if (state.equals(events.get(i).getString("state"))) {
        return events.get(i);
      }
    }
    throw new AssertionError("no '" + state + "' event among " + states(events));
  }
}
