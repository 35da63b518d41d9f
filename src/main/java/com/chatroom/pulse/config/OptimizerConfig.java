package com.chatroom.pulse.config;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The optimizer: rules that act on this node while a condition holds, and the guardrails around them.
 *
 * @param enabled            run the optimizer on this node
 * @param dryRun             every rule decides and records, none acts
 * @param maxActionsPerHour  actions applied in any sliding hour, over all rules; beyond it a decision is skipped
 *                           ({@code budget}); reverts are never limited
 * @param auditSize          decisions kept in memory (and in Redis, per instance) for {@code GET /api/optimizer/actions}
 * @param staleAfterMs       a rule whose metric has had no sample for this long reverts its action ({@code no_data})
 * @param escalationSeverity severity of the alert event an ineffective action raises
 * @param webhook            how webhook actions are delivered
 * @param rules              in order; the seed's three in {@code conf/config.yaml}
 */
public record OptimizerConfig(boolean enabled, boolean dryRun, int maxActionsPerHour, int auditSize, long staleAfterMs,
                              String escalationSeverity, WebhookDelivery webhook, List<OptimizerRuleConfig> rules) {

  /**
   * @param timeoutMs   one attempt's time limit
   * @param maxAttempts attempts per event (apply or revert) before it is recorded as {@code failed}
   * @param backoffMs   delay after the first failed attempt, doubled after each further one
   */
  public record WebhookDelivery(long timeoutMs, int maxAttempts, long backoffMs) {

    static WebhookDelivery read(ConfigReader r) {
      WebhookDelivery d = new WebhookDelivery(r.durationMs("timeout", 5000, 10, 300_000),
        r.integer("max_attempts", 3, 1, 20), r.durationMs("backoff", 1000, 1, 600_000));
      r.rejectUnknown();
      return d;
    }
  }

  static OptimizerConfig read(ConfigReader r) {
    boolean enabled = r.bool("enabled", true);
    boolean dryRun = r.bool("dry_run", false);
    int budget = r.integer("max_actions_per_hour", 12, 1, 100_000);
    int audit = r.integer("audit_size", 1000, 1, 100_000);
    long stale = r.durationMs("stale_after", 120_000, 1000, 86_400_000);
    String severity = r.string("escalation_severity", "warning");
    if (!AlertRuleConfig.SEVERITIES.contains(severity)) {
      throw new ConfigException(r.key("escalation_severity"), "must be one of critical, warning, info, got '" + severity + "'");
    }
    WebhookDelivery webhook = WebhookDelivery.read(r.section("webhook"));
    List<OptimizerRuleConfig> rules = r.sections("rules", 100, "name").stream().map(OptimizerRuleConfig::read).toList();
    Set<String> seen = new HashSet<>();
    for (OptimizerRuleConfig rule : rules) {
      if (!seen.add(rule.name())) {
        throw new ConfigException(r.key("rules") + "[" + rule.name() + "].name", "two rules are named '" + rule.name() + "'");
      }
      if (rule.name().equals("manual")) {
        throw new ConfigException(rule.key() + ".name", "'manual' names the operator's overrides in the audit; choose another name");
      }
    }
    OptimizerConfig config = new OptimizerConfig(enabled, dryRun, budget, audit, stale, severity, webhook, rules);
    r.rejectUnknown();
    return config;
  }
}
