package com.chatroom.pulse.optimizer;

import com.chatroom.pulse.Samples;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.AlertEvent;
import com.chatroom.pulse.config.ConfigException;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static com.chatroom.pulse.optimizer.OptimizerTestKit.NODE;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.action;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.actions;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.count;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.cpu;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.deploy;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.evaluated;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.last;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.node;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.optimizer;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.rule;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.rules;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.sample;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.states;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.step;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.until;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("The optimizer verticle, driven by synthetic samples with a real edge")
class OptimizerVerticleTest {

  private WebClient client;
  private int port;

  private Future<Void> check(Runnable assertions) {
    try {
      assertions.run();
      return Future.succeededFuture();
    } catch (Throwable t) {
      return Future.failedFuture(t);
    }
  }

  private Future<PulseConfig> start(Vertx vertx, JsonObject optimizer) {
    client = WebClient.create(vertx);
    return deploy(vertx, node(optimizer)).onSuccess(config -> port = config.http().port());
  }

  private Future<HttpResponse<Buffer>> ready() {
    return client.get(port, "127.0.0.1", "/health/ready").send();
  }

  /** Polls readiness until it answers {@code status} (the edge follows actions on its own event loops). */
  private Future<HttpResponse<Buffer>> readyIs(Vertx vertx, int status) {
    return ready().compose(r -> {
      if (r.statusCode() == status) {
        return Future.succeededFuture(r);
      }
      io.vertx.core.Promise<Void> later = io.vertx.core.Promise.promise();
      vertx.setTimer(10, id -> later.complete());
      return later.future().compose(v -> readyIs(vertx, status));
    });
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("shed_load makes /health/ready answer 503 with the reason, and 200 again once reverted")
  void readinessFlips(Vertx vertx, VertxTestContext ctx) {
    List<JsonObject> actions = actions(vertx);
    JsonObject shed = rule("shed", "cpu_percent", 90, 70, action("shed_load").put("cap", 5));
    start(vertx, optimizer(shed))
      .compose(c -> readyIs(vertx, 200))
      .compose(r -> step(vertx, cpu(0, 95), () -> count(actions, "applied") == 1))
      .compose(v -> check(() -> {
        JsonObject applied = last(actions, "applied");
        assertThat(applied.getString("id")).isNotBlank();
        assertThat(applied.getLong("timestamp")).isGreaterThan(1_000_000_000_000L);
        assertThat(applied.getString("instance")).isEqualTo(NODE);
        assertThat(applied.getString("rule")).isEqualTo("shed");
        assertThat(applied.getString("action")).isEqualTo("shed_load");
        assertThat(applied.getInteger("cap")).isEqualTo(5);
        assertThat(applied.getString("reason")).isEqualTo("cpu_percent 95 > 90");
        assertThat(applied.getJsonObject("metrics").getDouble("cpu_percent")).isEqualTo(95.0);
        assertThat(applied.getJsonArray("held_by")).containsExactly("shed");
      }))
      .compose(v -> readyIs(vertx, 503))
      .compose(r -> check(() -> assertThat(r.bodyAsString()).contains("shedding load: cpu_percent 95 > 90")))
      .compose(v -> step(vertx, cpu(1, 50), () -> count(actions, "reverted") == 1))
      .compose(v -> check(() -> assertThat(last(actions, "reverted").getString("reason"))
        .isEqualTo("cleared: cpu_percent 50 no longer > 70")))
      .compose(v -> readyIs(vertx, 200))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("only this node's samples are evaluated; a malformed sample is refused and counted, and changes nothing")
  void ownSamplesOnly(Vertx vertx, VertxTestContext ctx) {
    List<JsonObject> actions = actions(vertx);
    start(vertx, optimizer(rule("hot", "cpu_percent", 90, 70, action("reap_idle").put("idle_seconds", 30))))
      .compose(c -> {
        vertx.eventBus().publish(Addresses.METRICS_SYSTEM, Samples.at("other-node", 1, OptimizerTestKit.T0, 99, 40, 50));
        vertx.eventBus().publish(Addresses.METRICS_SYSTEM, new JsonObject().put("cpu_percent", "hot"));
        return evaluated(vertx, cpu(0, 50), "hot");
      })
      .compose(v -> until(vertx, () -> {
        var counter = Meters.registry(vertx).find(MeterNames.BUS_REJECTED).tags("consumer", "optimizer").counter();
        return counter != null && counter.count() == 1;
      }))
      .compose(v -> check(() -> assertThat(actions).isEmpty()))
      .compose(v -> step(vertx, cpu(1, 95), () -> count(actions, "applied") == 1))
      .compose(v -> check(() -> {
        assertThat(last(actions, "applied").getInteger("idle_seconds")).isEqualTo(30);
        assertThat(last(actions, "applied").getString("instance")).isEqualTo(NODE);
      }))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("cooldown: a rule that acted is skipped once (reason cooldown) until its cooldown has passed, then acts again")
  void cooldown(Vertx vertx, VertxTestContext ctx) {
    List<JsonObject> actions = actions(vertx);
    JsonObject throttle = rule("cpu_high", "cpu_percent", 90, 70, action("throttle_streams")).put("cooldown", "300s");
    start(vertx, optimizer(throttle))
      .compose(c -> step(vertx, cpu(0, 95), () -> count(actions, "applied") == 1))
      .compose(v -> step(vertx, cpu(1, 50), () -> count(actions, "reverted") == 1))
      .compose(v -> step(vertx, cpu(2, 95), () -> count(actions, "skipped") == 1))
      .compose(v -> check(() -> {
        JsonObject skipped = last(actions, "skipped");
        assertThat(skipped.getString("reason")).isEqualTo("cooldown");
        assertThat(skipped.getString("detail")).contains("may act again in 298 s");
        assertThat(skipped.getJsonObject("metrics").getDouble("cpu_percent")).isEqualTo(95.0);
      }))
      .compose(v -> evaluated(vertx, cpu(3, 96), "cpu_high"))
      .compose(v -> rules(vertx))
      .compose(listing -> check(() -> {
        assertThat(count(actions, "skipped")).as("one skip per reason and episode").isEqualTo(1);
        JsonObject r = OptimizerTestKit.rule(listing, "cpu_high");
        assertThat(r.getString("status")).isEqualTo("cooldown");
        assertThat(r.getString("condition")).isEqualTo("firing");
        assertThat(r.getLong("cooldown_until")).isEqualTo(Math.round((OptimizerTestKit.T0 + 300) * 1000));
      }))
      .compose(v -> step(vertx, cpu(300, 95), () -> count(actions, "applied") == 2))
      .compose(v -> check(() -> assertThat(states(actions))
        .containsExactly("applied", "verified", "reverted", "skipped", "applied")))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("budget: beyond max_actions_per_hour a decision is skipped (reason budget) until the hour has moved on")
  void budget(Vertx vertx, VertxTestContext ctx) {
    List<JsonObject> actions = actions(vertx);
    JsonObject opt = optimizer(rule("cpu_high", "cpu_percent", 90, 70, action("trim_caches"))).put("max_actions_per_hour", 2);
    start(vertx, opt)
      .compose(c -> step(vertx, cpu(0, 95), () -> count(actions, "applied") == 1))
      .compose(v -> step(vertx, cpu(1, 50), () -> count(actions, "reverted") == 1))
      .compose(v -> step(vertx, cpu(2, 95), () -> count(actions, "applied") == 2))
      .compose(v -> step(vertx, cpu(3, 50), () -> count(actions, "reverted") == 2))
      .compose(v -> step(vertx, cpu(4, 95), () -> count(actions, "skipped") == 1))
      .compose(v -> rules(vertx))
      .compose(listing -> check(() -> {
        JsonObject skipped = last(actions, "skipped");
        assertThat(skipped.getString("reason")).isEqualTo("budget");
        assertThat(skipped.getString("detail")).contains("2 actions in the last hour (optimizer.max_actions_per_hour is 2)");
        assertThat(listing.getJsonObject("budget").getInteger("used")).isEqualTo(2);
        assertThat(listing.getJsonObject("budget").getInteger("remaining")).isZero();
      }))
      .compose(v -> step(vertx, cpu(3600, 95), () -> count(actions, "applied") == 3))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("global dry run: decisions are recorded as dry_run and nothing is applied (readiness stays 200)")
  void globalDryRun(Vertx vertx, VertxTestContext ctx) {
    List<JsonObject> actions = actions(vertx);
    JsonObject opt = optimizer(rule("shed", "cpu_percent", 90, 70, action("shed_load").put("cap", 0))).put("dry_run", true);
    start(vertx, opt)
      .compose(c -> step(vertx, cpu(0, 95), () -> count(actions, "dry_run") == 1))
      .compose(v -> rules(vertx))
      .compose(listing -> check(() -> {
        JsonObject dry = last(actions, "dry_run");
        assertThat(dry.getString("reason")).isEqualTo("dry run: would apply shed_load (cpu_percent 95 > 90)");
        assertThat(dry.getInteger("cap")).isZero();
        assertThat(OptimizerTestKit.rule(listing, "shed").getString("status")).isEqualTo("dry_run");
        assertThat(listing.getBoolean("dry_run")).isTrue();
      }))
      .compose(v -> ready())
      .compose(r -> check(() -> assertThat(r.statusCode()).isEqualTo(200)))
      .compose(v -> step(vertx, cpu(1, 50), () -> count(actions, "dry_run") == 2))
      .compose(v -> check(() -> {
        assertThat(last(actions, "dry_run").getString("reason")).startsWith("dry run: would revert shed_load (cleared:");
        assertThat(states(actions)).containsOnly("dry_run");
      }))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("per-rule dry run: that rule only records, the live rule beside it applies")
  void ruleDryRun(Vertx vertx, VertxTestContext ctx) {
    List<JsonObject> actions = actions(vertx);
    JsonObject shed = rule("shed", "cpu_percent", 90, 70, action("shed_load").put("cap", 0)).put("dry_run", true);
    JsonObject throttle = rule("throttle", "cpu_percent", 90, 70, action("throttle_streams"));
    start(vertx, optimizer(shed, throttle))
      .compose(c -> step(vertx, cpu(0, 95), () -> count(actions, "dry_run") == 1 && count(actions, "applied") == 1))
      .compose(v -> check(() -> {
        assertThat(last(actions, "dry_run").getString("rule")).isEqualTo("shed");
        assertThat(last(actions, "applied").getString("rule")).isEqualTo("throttle");
      }))
      .compose(v -> ready())
      .compose(r -> check(() -> assertThat(r.statusCode()).as("the dry-run shed_load changes nothing").isEqualTo(200)))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("verification after the settle time: an improvement of at least min_improvement is effective")
  void verifiedEffective(Vertx vertx, VertxTestContext ctx) {
    List<JsonObject> actions = actions(vertx);
    start(vertx, optimizer(rule("cpu_high", "cpu_percent", 80, 70, action("throttle_streams"))))
      .compose(c -> step(vertx, cpu(0, 95), () -> count(actions, "applied") == 1))
      .compose(v -> evaluated(vertx, cpu(9, 93), "cpu_high"))
      .compose(v -> check(() -> assertThat(count(actions, "verified")).as("not before the settle time").isZero()))
      .compose(v -> step(vertx, cpu(10, 85), () -> count(actions, "verified") == 1))
      .compose(v -> check(() -> {
        JsonObject verified = last(actions, "verified");
        assertThat(verified.getString("result")).isEqualTo("effective");
        assertThat(verified.getJsonObject("metrics").getMap()).containsEntry("cpu_percent", 85.0).containsEntry("cpu_percent_at_apply", 95.0);
        assertThat(verified.getString("reason")).isEqualTo("cpu_percent 95 → 85 after 10 s: improved by at least 10 %");
      }))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("an ineffective action is escalated as an alert event, resolved when the action is reverted")
  void verifiedIneffective(Vertx vertx, VertxTestContext ctx) {
    List<JsonObject> actions = actions(vertx);
    List<AlertEvent> alerts = new CopyOnWriteArrayList<>();
    vertx.eventBus().<AlertEvent>consumer(Addresses.ALERTS_EVENTS, m -> alerts.add(m.body()));
    start(vertx, optimizer(rule("cpu_high", "cpu_percent", 80, 70, action("throttle_streams"))))
      .compose(c -> step(vertx, cpu(0, 95), () -> count(actions, "applied") == 1))
      .compose(v -> step(vertx, cpu(10, 96), () -> count(actions, "verified") == 1 && alerts.size() == 1))
      .compose(v -> check(() -> {
        assertThat(last(actions, "verified").getString("result")).isEqualTo("ineffective");
        AlertEvent alert = alerts.get(0);
        assertThat(alert.rule()).isEqualTo("OptimizerActionIneffective");
        assertThat(alert.state()).isEqualTo("firing");
        assertThat(alert.instance()).isEqualTo(NODE);
        assertThat(alert.severity()).isEqualTo("warning");
        assertThat(alert.value()).isEqualTo(96.0);
        assertThat(alert.labels()).containsEntry("optimizer_rule", "cpu_high").containsEntry("action", "throttle_streams");
        assertThat(alert.annotations().get("summary")).contains("did not help", "cpu_percent 95 → 96");
      }))
      .compose(v -> step(vertx, cpu(11, 50), () -> count(actions, "reverted") == 1 && alerts.size() == 2))
      .compose(v -> check(() -> {
        assertThat(alerts.get(1).state()).isEqualTo("resolved");
        assertThat(alerts.get(1).activeSince()).isEqualTo(alerts.get(0).activeSince());
        assertThat(states(actions)).containsExactly("applied", "verified", "reverted");
      }))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("two rules holding one action: the strongest parameters whichever fires first, reverted only when neither holds it")
  void conflictingRules(Vertx vertx, VertxTestContext ctx) {
    List<JsonObject> actions = actions(vertx);
    JsonObject a = rule("cpu_high", "cpu_percent", 80, 60, action("throttle_streams").put("interval_ms", 10000).put("per_second", 5));
    JsonObject b = rule("memory_high", "memory_percent", 80, 60, action("throttle_streams").put("interval_ms", 4000).put("per_second", 1));
    a.getJsonObject("verify").put("enabled", false);
    b.getJsonObject("verify").put("enabled", false);
    start(vertx, optimizer(a, b))
      // cpu first, then memory
      .compose(c -> step(vertx, sample(0, 95, 40), () -> count(actions, "applied") == 1))
      .compose(v -> check(() -> assertEffective(last(actions, "applied"), 10000, 5, "cpu_high")))
      .compose(v -> step(vertx, sample(1, 95, 95), () -> count(actions, "applied") == 2))
      .compose(v -> check(() -> assertEffective(last(actions, "applied"), 10000, 1, "cpu_high", "memory_high")))
      .compose(v -> gauge(vertx, 2))
      .compose(v -> step(vertx, sample(2, 50, 95), () -> count(actions, "applied") == 3))
      .compose(v -> check(() -> {
        JsonObject released = last(actions, "applied");
        assertThat(released.getString("rule")).isEqualTo("cpu_high");
        assertThat(released.getString("reason")).startsWith("cpu_high released throttle_streams (cleared:").endsWith("still held by memory_high");
        assertEffective(released, 4000, 1, "memory_high");
        assertThat(count(actions, "reverted")).isZero();
      }))
      .compose(v -> step(vertx, sample(3, 50, 50), () -> count(actions, "reverted") == 1))
      .compose(v -> check(() -> assertThat(last(actions, "reverted").getString("rule")).isEqualTo("memory_high")))
      .compose(v -> gauge(vertx, 0))
      // memory first, then cpu: the same effective parameters
      .compose(v -> step(vertx, sample(4, 40, 95), () -> count(actions, "applied") == 4))
      .compose(v -> check(() -> assertEffective(last(actions, "applied"), 4000, 1, "memory_high")))
      .compose(v -> step(vertx, sample(5, 95, 95), () -> count(actions, "applied") == 5))
      .compose(v -> check(() -> {
        assertEffective(last(actions, "applied"), 10000, 1, "cpu_high", "memory_high");
        var decisions = Meters.registry(vertx).find(MeterNames.OPTIMIZER_DECISIONS)
          .tags("rule", "memory_high", "action", "throttle_streams", "state", "applied").counter();
        assertThat(decisions.count()).isEqualTo(2);
      }))
      .onComplete(ctx.succeedingThenComplete());
  }

  private static void assertEffective(JsonObject applied, int intervalMs, double perSecond, String... heldBy) {
    assertThat(applied.getString("state")).isEqualTo("applied");
    assertThat(applied.getInteger("interval_ms")).isEqualTo(intervalMs);
    assertThat(applied.getDouble("per_second")).isEqualTo(perSecond);
    assertThat(applied.getJsonArray("held_by")).isEqualTo(new JsonArray(List.of((Object[]) heldBy)));
  }

  private Future<Void> gauge(Vertx vertx, int expected) {
    return until(vertx, () -> {
      var gauge = Meters.registry(vertx).find(MeterNames.OPTIMIZER_ACTIVE).tags("action", "throttle_streams").gauge();
      return gauge != null && gauge.value() == expected;
    });
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("no sample for stale_after on this node's clock reverts the action (no_data)")
  void staleData(Vertx vertx, VertxTestContext ctx) {
    List<JsonObject> actions = actions(vertx);
    AtomicLong clock = new AtomicLong(System.currentTimeMillis());
    JsonObject opt = optimizer(rule("cpu_high", "cpu_percent", 90, 70, action("reap_idle"))).put("stale_after", "1s");
    client = WebClient.create(vertx);
    com.chatroom.pulse.Edge.deploy(vertx, node(opt))
      .compose(config -> vertx.deployVerticle(() -> new OptimizerVerticle(config, clock::get), new DeploymentOptions()))
      .compose(id -> step(vertx, cpu(0, 95), () -> count(actions, "applied") == 1))
      .compose(v -> {
        clock.addAndGet(5000);
        return until(vertx, () -> count(actions, "reverted") == 1);
      })
      .compose(v -> check(() -> assertThat(last(actions, "reverted").getString("reason"))
        .isEqualTo("no_data: no sample of cpu_percent for 5 s")))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 10, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a rule with an unknown metric fails the deployment, naming the rule and field")
  void badMetric(Vertx vertx, VertxTestContext ctx) {
    JsonObject bad = rule("typo", "cpu_percnt", 90, 70, action("trim_caches"));
    PulseConfig config = PulseConfig.from(new JsonObject().put("instance_id", NODE).put("optimizer", optimizer(bad)));
    vertx.deployVerticle(() -> new OptimizerVerticle(config), new DeploymentOptions())
      .onComplete(ctx.failing(e -> ctx.verify(() -> {
        assertThat(e).isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("invalid config key 'optimizer.rules[typo].metric': unknown metric 'cpu_percnt'");
        ctx.completeNow();
      })));
  }
}
