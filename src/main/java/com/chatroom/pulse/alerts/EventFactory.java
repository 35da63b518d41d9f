package com.chatroom.pulse.alerts;

import com.chatroom.pulse.bus.AlertEvent;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/** Builds the {@link AlertEvent} of a series: its id, labels and rendered annotations. */
final class EventFactory {

  private final String node;
  private final Runnable onTemplateError;

  EventFactory(String node, Runnable onTemplateError) {
    this.node = node;
    this.onTemplateError = onTemplateError;
  }

  /** A state change: {@code s.published} is already the new state. */
  AlertEvent change(Series s, String previous, String reason, long changedAtMs) {
    return build(s, s.stateId(), previous, reason, changedAtMs);
  }

  /** Only a flag changed (silenced, unsilenced, acknowledged): the state and its id stay, the id gets a suffix. */
  AlertEvent flag(Series s, String reason, long atMs) {
    return build(s, s.stateId() + '/' + reason + '/' + atMs, s.published, reason, atMs);
  }

  /** The series as it stands, for listings and repeats. */
  AlertEvent current(Series s) {
    long at = s.published.equals("firing") && s.firedAtMs > 0 ? s.firedAtMs
      : s.published.equals("flapping") ? s.flapSinceMs : Math.max(s.activeSinceMs, 0);
    return build(s, s.stateId(), s.published, "current", at);
  }

  private AlertEvent build(Series s, String id, String previous, String reason, long changedAtMs) {
    Rule rule = s.rule;
    Map<String, String> annotations = new LinkedHashMap<>();
    Function<String, Object> variables = name -> variable(s, name);
    rule.annotations.forEach((name, template) -> {
      String text;
      try {
        text = template.render(variables, onTemplateError);
      } catch (RuntimeException e) {
        // a template must never cost us the alert: send its source instead
        onTemplateError.run();
        text = template.source();
      }
      annotations.put(name, text);
    });
    double activeSince = (s.activeSinceMs > 0 ? s.activeSinceMs : changedAtMs) / 1000d;
    return new AlertEvent(id, rule.name, s.instance, s.published, previous, reason, rule.severity, rule.spec.metric(),
      rule.spec.op(), s.lastValue, rule.threshold, rule.clearThreshold, s.labels, annotations, activeSince, changedAtMs / 1000d,
      s.silenced, s.ackBy != null, s.ackBy, node);
  }

  private Object variable(Series s, String name) {
    Rule rule = s.rule;
    return switch (name) {
      case "rule", "alertname" -> rule.name;
      case "instance" -> s.instance;
      case "value" -> s.lastValue;
      case "threshold" -> rule.threshold;
      case "clear_threshold" -> rule.clearThreshold;
      case "metric" -> rule.spec.metric();
      case "severity" -> rule.severity;
      case "state" -> s.published;
      case "op" -> rule.spec.op();
      case "for" -> Template.plain(rule.forMs / 1000d) + "s";
      case "node" -> node;
      default -> name.startsWith("labels.") ? s.labels.get(name.substring(7)) : null;
    };
  }
}
