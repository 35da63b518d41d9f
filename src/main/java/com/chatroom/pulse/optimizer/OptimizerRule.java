package com.chatroom.pulse.optimizer;

import com.chatroom.pulse.alerts.Condition;
import com.chatroom.pulse.config.OptimizerRuleConfig;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * A rule compiled from its config, with its state on this node. Times named {@code ...Ms} without "wall" are sample
 * time (epoch ms of the samples' timestamps, as alert durations are), so a test or a replay drives every duration with
 * the samples it sends. Touched only on the optimizer verticle's context.
 */
final class OptimizerRule {

  final OptimizerRuleConfig spec;
  final String name;
  final String action;
  final Condition condition;
  /** Position in the config: ties and listings follow it. */
  final int index;

  /** This rule's action is in force (or, in dry run, would be). */
  boolean holding;
  /** The holding is a dry run: nothing was applied. */
  boolean dry;
  /** The id of the decision that applied the action now held. */
  String appliedId;
  long appliedAtMs = Long.MIN_VALUE;
  double valueAtApply = Double.NaN;
  boolean verified;
  String result;
  /** An ineffective verification raised an alert event that is still firing. */
  boolean escalated;
  /** The rule may act again from this sample time on. */
  long cooldownUntilMs = Long.MIN_VALUE;
  /** The reason the current episode was last skipped for; a skip is recorded once per reason and episode. */
  String skipped;
  boolean suspended;
  /** This node's clock when the rule last saw a sample of its kind (for no_data). */
  long lastSeenWallMs;

  /** Webhook deliveries of this rule, one after the other (a revert waits for its apply). */
  Future<Void> webhookChain = Future.succeededFuture();
  /** The apply request reached the receiver, so a revert must be sent. */
  boolean webhookDelivered;

  OptimizerRule(OptimizerRuleConfig spec, String instance, int index, long wallMs) {
    this.spec = spec;
    this.name = spec.name();
    this.action = spec.action().type();
    this.condition = new Condition(spec.condition(), instance);
    this.index = index;
    this.lastSeenWallMs = wallMs;
  }

  boolean webhook() {
    return action.equals("webhook");
  }

  /** True when this rule's holding counts towards the effective parameters published to owners. */
  boolean holdsLive() {
    return holding && !dry;
  }

  void hold(String id, long atMs, double value, boolean dryRun) {
    holding = true;
    dry = dryRun;
    appliedId = id;
    appliedAtMs = atMs;
    valueAtApply = value;
    verified = false;
    result = null;
    skipped = null;
  }

  void release() {
    holding = false;
    dry = false;
    appliedId = null;
    verified = false;
  }

  /**
   * What {@code GET /api/optimizer/rules} shows: {@code suspended}, {@code active} (holding its action),
   * {@code dry_run} (holding it in a dry run), {@code cooldown} (may not act before {@code cooldown_until}), or
   * {@code idle}.
   */
  String status(long nowMs) {
    if (suspended) {
      return "suspended";
    }
    if (holding) {
      return dry ? "dry_run" : "active";
    }
    return nowMs < cooldownUntilMs ? "cooldown" : "idle";
  }

  /** This rule for {@code GET /api/optimizer/rules}. */
  JsonObject toJson(long nowMs, boolean globalDryRun) {
    JsonObject actionJson = new JsonObject().put("type", action);
    spec.action().parameters().forEach(actionJson::put);
    var c = spec.condition();
    return new JsonObject().put("name", name).put("status", status(nowMs)).put("condition", condition.state())
      .put("metric", condition.metric()).put("op", c.op()).put("threshold", c.threshold())
      .put("clear_threshold", c.clearThreshold()).put("value", Texts.finite(condition.lastValue())).put("action", actionJson)
      .put("dry_run", globalDryRun || spec.dryRun()).put("suspended", suspended)
      .put("cooldown_seconds", spec.cooldownMs() / 1000d)
      .put("cooldown_until", cooldownUntilMs > nowMs ? cooldownUntilMs : null)
      .put("active_since", holding ? appliedAtMs : null)
      .put("result", holding ? result : null);
  }
}
