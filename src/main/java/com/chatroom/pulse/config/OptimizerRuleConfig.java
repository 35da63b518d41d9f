package com.chatroom.pulse.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One optimizer rule as configured: a condition with the alert rules' model and validation, what to do while it
 * holds, and its guardrails.
 *
 * @param key        config key of this rule, e.g. {@code optimizer.rules[cpu_high]}
 * @param condition  name, metric, op, threshold, for, clear_threshold, clear_for (read as an alert rule's are)
 * @param cooldownMs after this rule acted, how long it waits before it may act again
 * @param dryRun     decide and record, never act (also forced by {@code optimizer.dry_run})
 * @param action     what to apply while the condition holds; reverted once it has cleared for {@code clear_for}
 * @param verify     how the optimizer checks that the action helped
 */
public record OptimizerRuleConfig(String key, AlertRuleConfig condition, long cooldownMs, boolean dryRun, Action action,
                                  Verify verify) {

  /** The action types of the {@code optimizer.actions} contract. */
  public static final Set<String> ACTIONS = Set.of("shed_load", "reap_idle", "throttle_streams", "trim_caches", "webhook");
  private static final long MAX_DURATION_MS = 7L * 24 * 3_600_000;

  public String name() {
    return condition.name();
  }

  /**
   * @param type       one of {@link #ACTIONS}
   * @param parameters the contract's top-level parameters of this type (numbers), in a fixed order
   * @param webhook    the request to send, for {@code webhook} only (else null)
   */
  public record Action(String type, Map<String, Number> parameters, Webhook webhook) {
  }

  /**
   * @param url     where the action event is POSTed on apply and on revert
   * @param headers extra request headers (e.g. an Authorization for an autoscaler); values may be {@code ${ENV_VAR}}
   */
  public record Webhook(String url, Map<String, String> headers) {
  }

  /**
   * @param enabled        verify at all
   * @param settleMs       how long after applying the metric is judged
   * @param minImprovement the action is effective when the metric is back on the safe side of the threshold, or has
   *                       moved toward it by at least this fraction of its value when the action was applied
   */
  public record Verify(boolean enabled, long settleMs, double minImprovement) {

    static Verify read(ConfigReader r) {
      Verify v = new Verify(r.bool("enabled", true), r.durationMs("settle", 60_000, 0, MAX_DURATION_MS),
        r.number("min_improvement", 0.1, 0, 1));
      r.rejectUnknown();
      return v;
    }
  }

  static OptimizerRuleConfig read(ConfigReader r) {
    AlertRuleConfig condition = AlertRuleConfig.condition(r);
    long cooldown = r.durationMs("cooldown", 300_000, 0, MAX_DURATION_MS);
    boolean dryRun = r.bool("dry_run", false);
    if (!r.has("action")) {
      throw new ConfigException(r.key("action"), "is required: a section with 'type' (one of "
        + String.join(", ", new java.util.TreeSet<>(ACTIONS)) + ") and its parameters");
    }
    Action action = action(r.section("action"));
    Verify verify = Verify.read(r.section("verify"));
    OptimizerRuleConfig rule = new OptimizerRuleConfig(condition.key(), condition, cooldown, dryRun, action, verify);
    r.rejectUnknown();
    return rule;
  }

  private static Action action(ConfigReader r) {
    String type = r.string("type", "");
    if (!ACTIONS.contains(type)) {
      throw new ConfigException(r.key("type"), "must be one of " + String.join(", ", new java.util.TreeSet<>(ACTIONS))
        + ", got '" + type + "'");
    }
    Map<String, Number> p = new LinkedHashMap<>();
    Webhook webhook = null;
    switch (type) {
      case "shed_load" -> {
        if (!r.has("cap")) {
          throw new ConfigException(r.key("cap"), "is required: chat connections this node keeps accepting while it sheds load (0 = none)");
        }
        p.put("cap", r.integer("cap", 0, 0, 10_000_000));
        if (r.has("stream_cap")) {
          // optional: /metrics/stream subscribers this node keeps while shedding (absent: the stream is not capped)
          p.put("stream_cap", r.integer("stream_cap", 0, 0, 10_000_000));
        }
      }
      case "reap_idle" -> p.put("idle_seconds", r.integer("idle_seconds", 300, 1, 86_400));
      case "throttle_streams" -> {
        p.put("interval_ms", r.integer("interval_ms", 5000, 1000, 3_600_000));
        p.put("per_second", r.number("per_second", 2, 0.001, 1_000_000));
      }
      case "trim_caches" -> {
        if (r.has("history_raw_floor")) {
          p.put("history_raw_floor", r.integer("history_raw_floor", 0, 0, 100_000_000));
        }
        if (r.has("chat_backlog_floor")) {
          p.put("chat_backlog_floor", r.integer("chat_backlog_floor", 0, 0, 100_000_000));
        }
      }
      default -> {
        String url = AlertChannelConfig.secret(r, "url");
        AlertChannelConfig.checkUrl(r, url);
        Map<String, String> headers = new LinkedHashMap<>(r.stringMap("headers", 32, 8192));
        headers.replaceAll((name, value) -> envValue(r.key("headers") + "." + name, value));
        webhook = new Webhook(url, Collections.unmodifiableMap(headers));
      }
    }
    r.rejectUnknown();
    return new Action(type, Collections.unmodifiableMap(p), webhook);
  }

  private static String envValue(String key, String value) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}").matcher(value);
    if (!m.matches()) {
      return value;
    }
    String fromEnv = System.getenv(m.group(1));
    if (fromEnv == null || fromEnv.isBlank()) {
      throw new ConfigException(key, "refers to environment variable " + m.group(1) + ", which is not set");
    }
    return fromEnv.trim();
  }
}
