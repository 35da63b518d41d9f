package com.chatroom.pulse.config;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The alert manager: rules, notification channels, delivery, flapping and limits.
 *
 * @param enabled     evaluate rules on this node
 * @param externalUrl base URL of this Pulse, used for links in notifications ({@code generatorURL}, {@code externalURL})
 */
public record AlertsConfig(boolean enabled, String externalUrl, List<AlertRuleConfig> rules,
                           List<AlertChannelConfig> channels, Delivery delivery, Flapping flapping, Limits limits) {

  /**
   * How each channel delivers: a bounded queue, one request in flight (so a channel sees changes in order), retries
   * with exponential backoff, and a circuit breaker.
   *
   * @param queueSize          notifications waiting per channel; the next one is dead-lettered as {@code queue_full}
   * @param maxAttempts        attempts per notification before it is dead-lettered
   * @param backoffInitialMs   delay after the first failure; doubled after each further one
   * @param backoffMaxMs       ceiling of that delay
   * @param timeoutMs          one attempt's time limit
   * @param breakerMaxFailures consecutive failures that open the channel's circuit
   * @param breakerResetMs     time an open circuit waits before letting one attempt through
   * @param dedupeTtlMs        how long a sent notification's idempotency key is remembered (Redis or memory)
   */
  public record Delivery(int queueSize, int maxAttempts, long backoffInitialMs, long backoffMaxMs, long timeoutMs,
                         int breakerMaxFailures, long breakerResetMs, long dedupeTtlMs) {

    static Delivery read(ConfigReader r) {
      Delivery d = new Delivery(
        r.integer("queue_size", 1000, 1, 1_000_000),
        r.integer("max_attempts", 8, 1, 100),
        r.durationMs("backoff_initial", 500, 1, 3_600_000),
        r.durationMs("backoff_max", 60_000, 1, 86_400_000),
        r.durationMs("timeout", 5000, 10, 300_000),
        r.integer("breaker_max_failures", 5, 1, 1000),
        r.durationMs("breaker_reset", 30_000, 10, 3_600_000),
        r.durationMs("dedupe_ttl", 86_400_000L, 60_000, 30L * 86_400_000));
      if (d.backoffMaxMs() < d.backoffInitialMs()) {
        throw new ConfigException(r.key("backoff_max"), "must be at least backoff_initial (" + d.backoffInitialMs() + " ms)");
      }
      r.rejectUnknown();
      return d;
    }
  }

  /**
   * Flapping: an alert whose state changes (firing or resolved) {@code maxChanges} times within {@code windowMs} is
   * reported once as flapping and then held until it has been quiet for {@code holdMs}.
   */
  public record Flapping(boolean enabled, long windowMs, int maxChanges, long holdMs) {

    static Flapping read(ConfigReader r) {
      Flapping f = new Flapping(r.bool("enabled", true), r.durationMs("window", 600_000, 1000, 86_400_000),
        r.integer("max_changes", 6, 2, 1000), r.durationMs("hold", 600_000, 1000, 86_400_000));
      r.rejectUnknown();
      return f;
    }
  }

  /**
   * Bounds on memory.
   *
   * @param maxSeries       (rule, instance) pairs tracked; samples from further instances are not evaluated (counted)
   * @param historySize     state changes kept for {@code GET /api/alerts/history}
   * @param maxSilences     silences in force at once
   * @param deadLetters     dead-letter records kept
   * @param staleAfterMs    an instance that sends no sample for this long has its alerts resolved ({@code no_data})
   * @param sweepIntervalMs how often staleness, silence expiry and repeat intervals are checked
   */
  public record Limits(int maxSeries, int historySize, int maxSilences, int deadLetters, long staleAfterMs,
                       long sweepIntervalMs) {

    static Limits read(ConfigReader r) {
      Limits l = new Limits(
        r.integer("max_series", 10_000, 1, 1_000_000),
        r.integer("history_size", 1000, 1, 100_000),
        r.integer("max_silences", 1000, 1, 100_000),
        r.integer("dead_letters", 500, 1, 100_000),
        r.durationMs("stale_after", 300_000, 1000, 86_400_000),
        r.durationMs("sweep_interval", 1000, 10, 60_000));
      r.rejectUnknown();
      return l;
    }
  }

  static AlertsConfig read(ConfigReader r) {
    boolean enabled = r.bool("enabled", true);
    String externalUrl = r.string("external_url", "");
    if (!externalUrl.isEmpty() && !externalUrl.matches("https?://\\S+")) {
      throw new ConfigException(r.key("external_url"), "must be an http:// or https:// URL, got '" + externalUrl + "'");
    }
    List<AlertRuleConfig> rules = r.sections("rules", 1000, "name").stream().map(AlertRuleConfig::read).toList();
    unique(rules.stream().map(AlertRuleConfig::name).toList(), r.key("rules"), "rule");
    List<AlertChannelConfig> channels = r.sections("channels", 64, "name").stream().map(AlertChannelConfig::read).toList();
    unique(channels.stream().map(AlertChannelConfig::name).toList(), r.key("channels"), "channel");
    AlertsConfig config = new AlertsConfig(enabled, externalUrl.replaceAll("/+$", ""), rules, channels,
      Delivery.read(r.section("delivery")), Flapping.read(r.section("flapping")), Limits.read(r.section("limits")));
    r.rejectUnknown();
    return config;
  }

  private static void unique(List<String> names, String key, String what) {
    Set<String> seen = new HashSet<>();
    for (String name : names) {
      if (!seen.add(name)) {
        throw new ConfigException(key + "[" + name + "].name", "two " + what + "s are named '" + name + "'");
      }
    }
  }
}
