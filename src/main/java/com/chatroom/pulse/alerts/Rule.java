package com.chatroom.pulse.alerts;

import com.chatroom.pulse.config.AlertRuleConfig;
import com.chatroom.pulse.config.AlertsConfig;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** A rule compiled from its config: the metric resolved, templates parsed, instance patterns ready. */
final class Rule {

  static final String DEFAULT_SUMMARY = "{{rule}} on {{instance}}: {{metric}} is {{value}} ({{op}} {{threshold}})";
  private static final int INSTANCE_CACHE = 4096;

  final AlertRuleConfig spec;
  final String name;
  final Metric metric;
  final boolean above;
  final boolean orEqual;
  final double threshold;
  final double clearThreshold;
  final long forMs;
  final long clearForMs;
  final String severity;
  /** alertname, severity and the rule's labels, in that order; each series adds its instance. */
  final Map<String, String> labels;
  final Map<String, Template> annotations;
  private final List<Pattern> instancePatterns;
  private final Map<String, Boolean> instanceCache = new HashMap<>();

  private Rule(AlertRuleConfig spec) {
    this.spec = spec;
    this.name = spec.name();
    this.metric = Metric.parse(spec.metric(), spec.key() + ".metric");
    this.above = spec.op().startsWith(">");
    this.orEqual = spec.op().endsWith("=");
    this.threshold = spec.threshold();
    this.clearThreshold = spec.clearThreshold();
    this.forMs = spec.forMs();
    this.clearForMs = spec.clearForMs();
    this.severity = spec.severity();
    Map<String, String> l = new LinkedHashMap<>();
    l.put("alertname", name);
    l.put("severity", severity);
    l.putAll(spec.labels());
    this.labels = Collections.unmodifiableMap(l);
    Map<String, Template> a = new LinkedHashMap<>();
    spec.annotations().forEach((k, v) -> a.put(k, Template.compile(v, spec.key() + ".annotations." + k)));
    a.putIfAbsent("summary", Template.compile(DEFAULT_SUMMARY, spec.key() + ".annotations.summary"));
    this.annotations = Collections.unmodifiableMap(a);
    List<Pattern> patterns = new ArrayList<>();
    for (String glob : spec.instances()) {
      patterns.add(Pattern.compile(globToRegex(glob)));
    }
    this.instancePatterns = List.copyOf(patterns);
  }

  /** Compiles every rule, failing on the first bad one with a ConfigException naming the rule and field. */
  static List<Rule> compile(AlertsConfig config) {
    return config.rules().stream().map(Rule::new).toList();
  }

  static Rule compile(AlertRuleConfig spec) {
    return new Rule(spec);
  }

  /** The condition that starts an alert: {@code value op threshold}. */
  boolean fires(double value) {
    return passes(value, threshold);
  }

  /** The condition that ends one: the value no longer passes the clear threshold. */
  boolean clears(double value) {
    return !passes(value, clearThreshold);
  }

  private boolean passes(double value, double limit) {
    if (above) {
      return orEqual ? value >= limit : value > limit;
    }
    return orEqual ? value <= limit : value < limit;
  }

  boolean appliesTo(String instance) {
    if (instancePatterns.isEmpty()) {
      return true;
    }
    Boolean cached = instanceCache.get(instance);
    if (cached == null) {
      cached = instancePatterns.stream().anyMatch(p -> p.matcher(instance).matches());
      if (instanceCache.size() >= INSTANCE_CACHE) {
        instanceCache.clear();
      }
      instanceCache.put(instance, cached);
    }
    return cached;
  }

  static String globToRegex(String glob) {
    StringBuilder regex = new StringBuilder();
    for (char c : glob.toCharArray()) {
      switch (c) {
        case '*' -> regex.append(".*");
        case '?' -> regex.append('.');
        default -> regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return regex.toString();
  }
}
