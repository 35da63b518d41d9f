package com.chatroom.pulse.optimizer;

import io.vertx.core.json.JsonObject;

/** The words and numbers of decisions: reasons an operator reads in the audit, and the metrics they cite. */
final class Texts {

  private Texts() {
  }

  static JsonObject metrics(OptimizerRule rule, double value) {
    return new JsonObject().put(rule.condition.metric(), finite(value));
  }

  static String triggerText(OptimizerRule rule, double value) {
    var c = rule.spec.condition();
    return c.metric() + " " + fmt(value) + " " + c.op() + " " + fmt(c.threshold())
      + (c.forMs() > 0 ? " for " + seconds(c.forMs()) : "");
  }

  static String clearedText(OptimizerRule rule) {
    var c = rule.spec.condition();
    return "cleared: " + c.metric() + " " + fmt(rule.condition.lastValue()) + " no longer " + c.op() + " "
      + fmt(c.clearThreshold()) + (c.clearForMs() > 0 ? " for " + seconds(c.clearForMs()) : "");
  }

  static Double finite(double value) {
    return Double.isFinite(value) ? value : null;
  }

  static String fmt(double value) {
    if (!Double.isFinite(value)) {
      return "n/a";
    }
    double rounded = Math.round(value * 100) / 100d;
    return rounded == Math.rint(rounded) ? Long.toString((long) rounded) : Double.toString(rounded);
  }

  static String seconds(long ms) {
    return fmt(ms / 1000d) + " s";
  }

  static String percent(double fraction) {
    return fmt(fraction * 100) + " %";
  }
}
