package com.chatroom.pulse.optimizer;

import com.chatroom.pulse.bus.PulseMessage;
import com.chatroom.pulse.bus.Sample;
import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.config.OptimizerConfig;
import com.chatroom.pulse.config.OptimizerRuleConfig;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * The decisions: evaluates every rule on every sample of this node, acts when a condition starts to hold (unless a
 * guardrail says no), verifies after the settle time, and reverts when the condition has cleared. Plain Java, no
 * Vert.x: one instance, driven from the optimizer verticle's context; what it decides goes to an {@link Output}.
 */
final class Optimizer {

  /** The rule name of decisions an operator made over the API. */
  static final String MANUAL = "manual";

  /** Where decisions go. */
  interface Output {
    /** A decision: to the audit, the bus and the meters. */
    void record(JsonObject event);

    /** A webhook rule's apply or revert: delivered, then recorded (or recorded as failed). */
    void webhook(OptimizerRule rule, JsonObject event, boolean apply);

    /** An ineffective action: raise ({@code firing}) or end the alert event that escalates it. */
    void escalate(OptimizerRule rule, double value, boolean firing, String reason);
  }

  private final OptimizerConfig config;
  private final String instance;
  private final List<OptimizerRule> rules = new ArrayList<>();
  private final Map<String, OptimizerRule> byName = new LinkedHashMap<>();
  private final Budget budget;
  private final LongSupplier wallClock;
  private final Output out;
  private long nowMs = Long.MIN_VALUE;

  /** @throws com.chatroom.pulse.config.ConfigException for a rule whose metric does not compile */
  Optimizer(OptimizerConfig config, String instance, LongSupplier wallClock, Output out) {
    this.config = config;
    this.instance = instance;
    this.wallClock = wallClock;
    this.out = out;
    this.budget = new Budget(config.maxActionsPerHour());
    long wall = wallClock.getAsLong();
    for (OptimizerRuleConfig spec : config.rules()) {
      OptimizerRule rule = new OptimizerRule(spec, instance, rules.size(), wall);
      rules.add(rule);
      byName.put(rule.name, rule);
    }
  }

  List<OptimizerRule> rules() {
    return rules;
  }

  String instance() {
    return instance;
  }

  /** Evaluates the rules that read this kind of sample, if it comes from this node; other nodes act for themselves. */
  void onSample(PulseMessage sample) {
    if (!(sample instanceof Sample measured)) {
      return;
    }
    boolean system = measured instanceof SystemMetrics;
    String from = measured.instance();
    double timestamp = measured.timestamp();
    if (!instance.equals(from)) {
      return;
    }
    nowMs = Math.max(nowMs, Math.round(timestamp * 1000));
    long wall = wallClock.getAsLong();
    for (OptimizerRule rule : rules) {
      if (rule.condition.system() != system) {
        continue;
      }
      rule.lastSeenWallMs = wall;
      double value = rule.condition.onSample(sample, timestamp, (state, reason, at) -> onChange(rule, state));
      if (Double.isNaN(value) || !rule.condition.state().equals("firing")) {
        continue;
      }
      if (!rule.holding) {
        act(rule, value);
      } else if (!rule.dry && !rule.verified && rule.spec.verify().enabled()
        && nowMs - rule.appliedAtMs >= rule.spec.verify().settleMs()) {
        verify(rule, value);
      }
    }
  }

  private void onChange(OptimizerRule rule, String state) {
    if (state.equals("resolved")) {
      release(rule, false, Texts.clearedText(rule), true);
      rule.skipped = null;
    } else if (state.equals("inactive")) {
      rule.skipped = null;
    }
  }

  private void act(OptimizerRule rule, double value) {
    boolean dry = config.dryRun() || rule.spec.dryRun();
    String skip = null;
    String detail = null;
    if (rule.suspended) {
      skip = "suspended";
      detail = "the rule is suspended by an operator (POST /api/optimizer/rules/" + rule.name + "/resume)";
    } else if (nowMs < rule.cooldownUntilMs) {
      skip = "cooldown";
      detail = "the rule acted less than " + Texts.seconds(rule.spec.cooldownMs()) + " ago; it may act again in "
        + Texts.seconds(rule.cooldownUntilMs - nowMs);
    } else if (!budget.allows(dry, nowMs)) {
      skip = "budget";
      detail = budget.used(dry, nowMs) + " actions in the last hour (optimizer.max_actions_per_hour is " + budget.max()
        + "); room again in " + Texts.seconds(budget.freeAtMs(nowMs) - nowMs);
    }
    if (skip != null) {
      if (!skip.equals(rule.skipped)) {
        rule.skipped = skip;
        out.record(event(rule, false, "skipped", skip, Texts.metrics(rule, value)).put("detail", detail));
      }
      return;
    }
    budget.take(dry, nowMs);
    rule.cooldownUntilMs = nowMs + rule.spec.cooldownMs();
    String why = Texts.triggerText(rule, value);
    if (dry) {
      JsonObject e = event(rule, false, "dry_run", "dry run: would apply " + rule.action + " (" + why + ")", Texts.metrics(rule, value));
      rule.spec.action().parameters().forEach(e::put);
      rule.hold(e.getString("id"), nowMs, value, true);
      out.record(e);
      return;
    }
    JsonObject e = event(rule, false, "applied", why, Texts.metrics(rule, value));
    rule.hold(e.getString("id"), nowMs, value, false);
    if (rule.webhook()) {
      out.webhook(rule, e, true);
    } else {
      out.record(withEffective(e, rule.action));
    }
  }

  private void verify(OptimizerRule rule, double value) {
    double before = rule.valueAtApply;
    boolean safe = !rule.condition.fires(value);
    double moved = rule.condition.above() ? before - value : value - before;
    double needed = rule.spec.verify().minImprovement() * Math.abs(before);
    boolean effective = safe || (moved > 0 && moved >= needed);
    rule.verified = true;
    rule.result = effective ? "effective" : "ineffective";
    String metric = rule.condition.metric();
    String reason = metric + " " + Texts.fmt(before) + " → " + Texts.fmt(value) + " after " + Texts.seconds(nowMs - rule.appliedAtMs) + ": "
      + (safe ? "no longer " + rule.spec.condition().op() + " " + Texts.fmt(rule.spec.condition().threshold())
        : effective ? "improved by at least " + Texts.percent(rule.spec.verify().minImprovement())
        : "did not improve by " + Texts.percent(rule.spec.verify().minImprovement()) + " and is still "
          + rule.spec.condition().op() + " " + Texts.fmt(rule.spec.condition().threshold()));
    out.record(event(rule, false, "verified", reason, Texts.metrics(rule, value).put(metric + "_at_apply", Texts.finite(before)))
      .put("result", rule.result));
    if (!effective) {
      rule.escalated = true;
      out.escalate(rule, value, true, reason);
    }
  }

  /**
   * Ends a rule's holding: reverts its action, or re-publishes the effective parameters when other rules still hold
   * the same action type (so owners, who keep no per-rule state, never undo what another rule still needs).
   */
  private void release(OptimizerRule rule, boolean manual, String reason, boolean cleared) {
    if (!rule.holding) {
      return;
    }
    double value = rule.condition.lastValue();
    if (rule.dry) {
      rule.release();
      out.record(event(rule, manual, "dry_run", "dry run: would revert " + rule.action + " (" + reason + ")", Texts.metrics(rule, value)));
      return;
    }
    if (cleared && !rule.verified && rule.spec.verify().enabled()) {
      rule.verified = true;
      rule.result = "effective";
      out.record(event(rule, false, "verified", "the condition cleared before the settle time ended ("
        + Texts.seconds(rule.spec.verify().settleMs()) + ")", Texts.metrics(rule, value).put(rule.condition.metric() + "_at_apply",
        Texts.finite(rule.valueAtApply))).put("result", "effective"));
    }
    if (rule.escalated) {
      rule.escalated = false;
      out.escalate(rule, value, false, reason);
    }
    rule.release();
    if (rule.webhook()) {
      out.webhook(rule, event(rule, manual, "reverted", reason, Texts.metrics(rule, value)), false);
      return;
    }
    List<OptimizerRule> still = holders(rule.action);
    if (still.isEmpty()) {
      out.record(event(rule, manual, "reverted", reason, Texts.metrics(rule, value)));
    } else {
      out.record(withEffective(event(rule, manual, "applied", rule.name + " released " + rule.action + " (" + reason
        + "); still held by " + String.join(", ", still.stream().map(r -> r.name).toList()), Texts.metrics(rule, value)), rule.action));
    }
  }

  /** A webhook apply that could not be delivered: the rule holds nothing (its cooldown still runs). */
  void webhookFailed(OptimizerRule rule, String appliedId) {
    if (rule.holding && appliedId.equals(rule.appliedId)) {
      rule.release();
    }
  }

  /** Reverts every rule whose metric has had no sample for {@code optimizer.stale_after} (wall clock). */
  void sweep() {
    long wall = wallClock.getAsLong();
    for (OptimizerRule rule : rules) {
      if (wall - rule.lastSeenWallMs < config.staleAfterMs()
        || (!rule.holding && rule.condition.state().equals("inactive"))) {
        continue;
      }
      release(rule, false, "no_data: no sample of " + rule.condition.metric() + " for " + Texts.seconds(wall - rule.lastSeenWallMs), false);
      rule.skipped = null;
      rule.condition.reset();
    }
  }

  /** Reverts everything this node holds (the optimizer is stopping: owners go back to their configured behaviour). */
  void releaseAll(String reason) {
    rules.forEach(rule -> release(rule, false, reason, false));
  }

  // --- operator overrides ---------------------------------------------------------------------------------------

  /**
   * @throws NoSuchElementException for an unknown rule
   * @throws IllegalStateException  when the rule holds no action
   */
  JsonObject revert(String name, String by) {
    OptimizerRule rule = find(name);
    if (!rule.holding) {
      throw new IllegalStateException("rule '" + name + "' holds no action (it is " + rule.status(now()) + ")");
    }
    rule.cooldownUntilMs = Math.max(rule.cooldownUntilMs, now() + rule.spec.cooldownMs());
    release(rule, true, "reverted by " + by + "; the rule may act again after its cooldown (" + Texts.seconds(rule.spec.cooldownMs())
      + ") if its condition still holds", false);
    rule.skipped = "cooldown"; // the operator's revert already says why it does not act again at once
    return ruleJson(rule);
  }

  /** @throws IllegalStateException when the rule is already suspended */
  JsonObject suspend(String name, String by) {
    OptimizerRule rule = find(name);
    if (rule.suspended) {
      throw new IllegalStateException("rule '" + name + "' is already suspended");
    }
    rule.suspended = true;
    out.record(event(rule, true, "suspended", "suspended by " + by + ": the rule decides nothing until it is resumed",
      Texts.metrics(rule, rule.condition.lastValue())));
    release(rule, true, "rule " + name + " suspended by " + by, false);
    rule.skipped = "suspended";
    return ruleJson(rule);
  }

  /** @throws IllegalStateException when the rule is not suspended */
  JsonObject resume(String name, String by) {
    OptimizerRule rule = find(name);
    if (!rule.suspended) {
      throw new IllegalStateException("rule '" + name + "' is not suspended");
    }
    rule.suspended = false;
    rule.skipped = null;
    out.record(event(rule, true, "resumed", "resumed by " + by + ": the rule acts again when its condition holds",
      Texts.metrics(rule, rule.condition.lastValue())));
    return ruleJson(rule);
  }

  private OptimizerRule find(String name) {
    OptimizerRule rule = byName.get(name);
    if (rule == null) {
      throw new NoSuchElementException("no optimizer rule named '" + name + "' (rules: " + String.join(", ", byName.keySet()) + ")");
    }
    return rule;
  }

  // --- state for the API and meters -------------------------------------------------------------------------------

  /** Rules holding {@code type} live, in config order. */
  List<OptimizerRule> holders(String type) {
    List<OptimizerRule> holders = new ArrayList<>();
    for (OptimizerRule r : rules) {
      if (r.action.equals(type) && r.holdsLive()) {
        holders.add(r);
      }
    }
    return holders;
  }

  /** Sample time of the newest sample, or this node's clock before the first. */
  long now() {
    return nowMs == Long.MIN_VALUE ? wallClock.getAsLong() : nowMs;
  }

  JsonObject budgetJson() {
    long now = now();
    int used = budget.used(false, now);
    return new JsonObject().put("max_per_hour", budget.max()).put("used", used).put("remaining", Math.max(0, budget.max() - used))
      .put("dry_run_used", budget.used(true, now));
  }

  JsonObject ruleJson(OptimizerRule rule) {
    return rule.toJson(now(), config.dryRun());
  }

  // --- events ---------------------------------------------------------------------------------------------------

  private JsonObject event(OptimizerRule rule, boolean manual, String state, String reason, JsonObject metrics) {
    JsonObject e = new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", wallClock.getAsLong())
      .put("instance", instance).put("rule", manual ? MANUAL : rule.name).put("action", rule.action).put("state", state)
      .put("reason", reason).put("metrics", metrics);
    if (manual) {
      e.put("target_rule", rule.name);
    }
    return e;
  }

  /** An {@code applied} event carrying the effective parameters of every rule holding {@code type}, and their names. */
  private JsonObject withEffective(JsonObject e, String type) {
    List<OptimizerRule> holders = holders(type);
    Effective.parameters(holders).forEach(p -> e.put(p.getKey(), p.getValue()));
    return e.put("held_by", Effective.names(holders));
  }
}
