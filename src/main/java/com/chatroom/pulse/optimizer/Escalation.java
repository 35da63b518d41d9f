package com.chatroom.pulse.optimizer;

import com.chatroom.pulse.bus.AlertEvent;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The alert event an ineffective action raises on {@code alerts.events}: rule {@value #RULE}, firing when the
 * verification finds no improvement, resolved when the action is reverted. Its id follows the alert manager's
 * scheme ({@code <rule>/<instance>/<state>/<episode start ms>}, the episode being the action's), with the optimizer
 * rule in it so two rules escalating on one node stay apart; consumers de-duplicate on it.
 */
final class Escalation {

  static final String RULE = "OptimizerActionIneffective";

  private Escalation() {
  }

  static AlertEvent event(OptimizerRule rule, String instance, String severity, double value, boolean firing,
                          String reason, long wallMs) {
    String state = firing ? "firing" : "resolved";
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("alertname", RULE);
    labels.put("instance", instance);
    labels.put("severity", severity);
    labels.put("optimizer_rule", rule.name);
    labels.put("action", rule.action);
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put("summary", firing
      ? "Optimizer action " + rule.action + " of rule " + rule.name + " on " + instance + " did not help: " + reason
      : "Optimizer action " + rule.action + " of rule " + rule.name + " on " + instance + " ended: " + reason);
    var c = rule.spec.condition();
    return new AlertEvent(RULE + "/" + instance + "/" + rule.name + "/" + state + "/" + rule.appliedAtMs, RULE, instance, state,
      firing ? "inactive" : "firing", firing ? "optimizer_ineffective" : "optimizer_reverted", severity, c.metric(), c.op(),
      value, c.threshold(), c.clearThreshold(), labels, annotations, rule.appliedAtMs / 1000d, wallMs / 1000d, false, false,
      null, instance);
  }
}
