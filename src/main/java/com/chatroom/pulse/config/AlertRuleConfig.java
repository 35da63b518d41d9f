package com.chatroom.pulse.config;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One alert rule as configured. The alert engine compiles it (metric and templates) and reports problems with
 * {@link #key()} so the error names the rule and field.
 *
 * @param key            config key of this rule, e.g. {@code alerts.rules[cpu_high]}
 * @param name           the alert name ({@code alertname} label), unique
 * @param metric         a field of SystemMetrics or ApplicationMetrics by its JSON name, or a derived metric
 *                       ({@code rate(total_messages)}, {@code predict_linear(disk_usage_percent, 4h)})
 * @param op             one of {@code > >= < <=}
 * @param threshold      the value the metric is compared with
 * @param clearThreshold the alert resolves only once the metric no longer passes this (hysteresis)
 * @param forMs          how long the condition must hold before the alert fires
 * @param clearForMs     how long the clear condition must hold before the alert resolves
 * @param severity       {@code critical}, {@code warning} or {@code info}
 * @param labels         extra labels for routing and silences
 * @param annotations    templates ({@code {{instance}}}, {@code {{value}}}, ...) rendered on every change
 * @param instances      glob patterns of the instances the rule applies to; empty means all
 */
public record AlertRuleConfig(String key, String name, String metric, String op, double threshold, double clearThreshold,
                              long forMs, long clearForMs, String severity, Map<String, String> labels,
                              Map<String, String> annotations, List<String> instances) {

  public static final Set<String> SEVERITIES = Set.of("critical", "warning", "info");
  public static final Set<String> OPERATORS = Set.of(">", ">=", "<", "<=");
  /** Labels every alert carries; a rule cannot set them itself. */
  public static final Set<String> RESERVED_LABELS = Set.of("alertname", "instance", "severity");
  private static final String NAME = "[A-Za-z_][A-Za-z0-9_.:-]{0,127}";
  private static final String LABEL = "[A-Za-z_][A-Za-z0-9_]{0,127}";
  private static final long MAX_DURATION_MS = 7L * 24 * 3_600_000;

  public boolean above() {
    return op.startsWith(">");
  }

  static AlertRuleConfig read(ConfigReader r) {
    AlertRuleConfig condition = condition(r);
    String severity = r.string("severity", "warning");
    if (!SEVERITIES.contains(severity)) {
      throw new ConfigException(r.key("severity"), "must be one of critical, warning, info, got '" + severity + "'");
    }
    Map<String, String> labels = r.stringMap("labels", 32, 1024);
    for (String label : labels.keySet()) {
      if (!label.matches(LABEL)) {
        throw new ConfigException(r.key("labels") + "." + label, "label names are letters, digits and '_', starting with a letter or '_'");
      }
      if (RESERVED_LABELS.contains(label)) {
        throw new ConfigException(r.key("labels") + "." + label, "is set by Pulse itself (alertname, instance, severity)");
      }
    }
    Map<String, String> annotations = r.stringMap("annotations", 16, 4096);
    for (String annotation : annotations.keySet()) {
      if (!annotation.matches(LABEL)) {
        throw new ConfigException(r.key("annotations") + "." + annotation, "annotation names are letters, digits and '_'");
      }
    }
    List<String> instances = r.strings("instances", List.of(), 256);
    AlertRuleConfig rule = new AlertRuleConfig(condition.key(), condition.name(), condition.metric(), condition.op(),
      condition.threshold(), condition.clearThreshold(), condition.forMs(), condition.clearForMs(), severity, labels,
      annotations, instances);
    r.rejectUnknown();
    return rule;
  }

  /**
   * The condition part of a rule — {@code name}, {@code metric}, {@code op}, {@code threshold}, {@code clear_threshold},
   * {@code for}, {@code clear_for} — shared by alert rules and optimizer rules, so both validate it the same way. The
   * result has severity {@code warning} and no labels, annotations or instance patterns; the caller reads the rest of
   * its section and calls {@link ConfigReader#rejectUnknown()}.
   */
  static AlertRuleConfig condition(ConfigReader r) {
    String name = r.string("name", "");
    if (!name.matches(NAME)) {
      throw new ConfigException(r.key("name"), "must be 1-128 letters, digits, '_', '.', ':' or '-' starting with a letter or '_', got '" + name + "'");
    }
    String metric = r.string("metric", "");
    if (metric.isEmpty()) {
      throw new ConfigException(r.key("metric"), "is required: a field of either sample, e.g. cpu_percent or error_rate");
    }
    String op = operator(r);
    if (!r.has("threshold")) {
      throw new ConfigException(r.key("threshold"), "is required");
    }
    double threshold = r.number("threshold", 0, -Double.MAX_VALUE, Double.MAX_VALUE);
    double clear = r.number("clear_threshold", threshold, -Double.MAX_VALUE, Double.MAX_VALUE);
    boolean above = op.startsWith(">");
    if (above ? clear > threshold : clear < threshold) {
      throw new ConfigException(r.key("clear_threshold"), "must be " + (above ? "at most" : "at least")
        + " the threshold " + threshold + " for a '" + op + "' rule (it is where the rule stops, not where it starts), got " + clear);
    }
    long forMs = r.durationMs("for", 0, 0, MAX_DURATION_MS);
    long clearForMs = r.durationMs("clear_for", 0, 0, MAX_DURATION_MS);
    return new AlertRuleConfig(r.key("").substring(0, r.key("").length() - 1), name, metric, op, threshold, clear, forMs,
      clearForMs, "warning", Map.of(), Map.of(), List.of());
  }

  private static String operator(ConfigReader r) {
    String op = r.string("op", "");
    String normalized = switch (op) {
      case "gt" -> ">";
      case "ge", "gte" -> ">=";
      case "lt" -> "<";
      case "le", "lte" -> "<=";
      default -> op;
    };
    if (!OPERATORS.contains(normalized)) {
      throw new ConfigException(r.key("op"), "must be one of > >= < <= (quote it in YAML: op: \">\"), got '" + op + "'");
    }
    return normalized;
  }
}
