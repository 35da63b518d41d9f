package com.chatroom.pulse.alerts;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.PulseMessageCodec;
import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.config.PulseConfig;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.function.BooleanSupplier;

/** Config builders, samples and waits for the alert manager's component tests. */
final class AlertTestKit {

  static final String ADMIN_TOKEN = "admin-token-0123456789";

  private AlertTestKit() {
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

  /** A rule on cpu_percent: {@code > threshold} for {@code forSeconds}, clearing below {@code clear} after {@code clearFor}. */
  static JsonObject cpuRule(String name, double threshold, int forSeconds, double clear, int clearForSeconds) {
    return new JsonObject().put("name", name).put("metric", "cpu_percent").put("op", ">").put("threshold", threshold)
      .put("for", forSeconds + "s").put("clear_threshold", clear).put("clear_for", clearForSeconds + "s")
      .put("severity", "critical").put("labels", new JsonObject().put("team", "chat"))
      .put("annotations", new JsonObject().put("summary", "CPU at {{value}}% on {{instance}} (threshold {{threshold}}%)"));
  }

  static JsonObject channel(String name, String type, String url) {
    return new JsonObject().put("name", name).put("type", type).put("url", url).put("repeat_interval", 0);
  }

  /** Retries in tens of milliseconds, so failure paths finish quickly. */
  static JsonObject fastDelivery() {
    return new JsonObject().put("backoff_initial", "20ms").put("backoff_max", "80ms").put("timeout", "2s")
      .put("breaker_max_failures", 3).put("breaker_reset", "150ms").put("max_attempts", 50);
  }

  static JsonObject alerts(JsonArray rules, JsonArray channels) {
    return new JsonObject().put("rules", rules).put("channels", channels).put("delivery", fastDelivery())
      .put("limits", new JsonObject().put("sweep_interval", "50ms"));
  }

  /**
   * The whole config for a test node: no sampler, the edge on a free loopback port with an admin token, the given
   * alerts section, and Redis if a URL is given.
   */
  static PulseConfig config(String instance, JsonObject alerts, String redisUrl) {
    JsonObject doc = new JsonObject().put("instance_id", instance)
      .put("http", new JsonObject().put("host", "127.0.0.1").put("port", Edge.freePort()).put("instances", 1)
        .put("admin_token", ADMIN_TOKEN))
      .put("sampler", new JsonObject().put("enabled", false))
      .put("alerts", alerts);
    if (redisUrl != null) {
      doc.put("redis", new JsonObject().put("url", redisUrl));
    }
    return PulseConfig.from(doc);
  }

  static Future<String> deploy(Vertx vertx, PulseConfig config) {
    PulseMessageCodec.register(vertx);
    return vertx.deployVerticle(() -> new AlertVerticle(config), new DeploymentOptions());
  }

  /** Base time of this test run's samples: now, so repeats and staleness (wall clock) behave as in production. */
  static final double BASE = Math.floor(System.currentTimeMillis() / 1000d);

  static SystemMetrics cpu(String instance, double offsetSeconds, double cpu) {
    return new SystemMetrics(BASE + offsetSeconds, cpu, 40, 4096, 6144, 55, 120, 1000, 2000, 17,
      List.of(0.5, 0.25, 0.125), instance, (long) offsetSeconds, 10240, 2, 100, 200,
      List.of(new SystemMetrics.DiskUsage("/", 55, 120, 250)));
  }

  static void publish(Vertx vertx, SystemMetrics sample) {
    vertx.eventBus().publish(Addresses.METRICS_SYSTEM, sample);
  }
}
