package com.chatroom.pulse.alerts;

import com.chatroom.pulse.bus.AlertEvent;
import com.chatroom.pulse.bus.ApplicationMetrics;
import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.config.AlertRuleConfig;
import com.chatroom.pulse.config.AlertsConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A rule engine over synthetic samples, recording every event; times in seconds from {@link #T0}. */
final class EngineFixture implements RuleEngine.Listener {

  static final double T0 = 1_764_000_000d;
  static final AlertsConfig.Flapping NO_FLAPPING = new AlertsConfig.Flapping(false, 600_000, 6, 600_000);

  final List<AlertEvent> events = new ArrayList<>();
  int templateErrors;
  int dropped;
  final Silences silences = new Silences(100);
  final RuleEngine engine;

  EngineFixture(AlertsConfig.Flapping flapping, int maxSeries, AlertRuleConfig... rules) {
    List<Rule> compiled = new ArrayList<>();
    for (AlertRuleConfig r : rules) {
      compiled.add(Rule.compile(r));
    }
    engine = new RuleEngine(compiled, flapping, maxSeries, "node-1", silences::silencedBy, this);
  }

  EngineFixture(AlertRuleConfig... rules) {
    this(NO_FLAPPING, 10_000, rules);
  }

  static AlertRuleConfig rule(String name, String metric, String op, double threshold, double clear, long forMs,
                              long clearForMs) {
    return new AlertRuleConfig("alerts.rules[" + name + "]", name, metric, op, threshold, clear, forMs, clearForMs,
      "critical", Map.of("team", "chat"), Map.of(), List.of());
  }

  static AlertRuleConfig withAnnotations(AlertRuleConfig r, Map<String, String> annotations, List<String> instances) {
    return new AlertRuleConfig(r.key(), r.name(), r.metric(), r.op(), r.threshold(), r.clearThreshold(), r.forMs(),
      r.clearForMs(), r.severity(), r.labels(), annotations, instances);
  }

  static SystemMetrics system(String instance, double seconds, double cpu) {
    return new SystemMetrics(T0 + seconds, cpu, 40, 4096, 6144, 55, 120, 1000, 2000, 17, List.of(0.5, 0.25, 0.125),
      instance, (long) seconds, 10240, 2, 100, 200, List.of(new SystemMetrics.DiskUsage("/", 55, 120, 250)));
  }

  static SystemMetrics disk(String instance, double seconds, double diskPercent) {
    return new SystemMetrics(T0 + seconds, 10, 40, 4096, 6144, diskPercent, 120, 1000, 2000, 17, List.of(0.5, 0.25, 0.125),
      instance, (long) seconds, 10240, 2, 100, 200, List.of(new SystemMetrics.DiskUsage("/data", diskPercent, 120, 250)));
  }

  static ApplicationMetrics app(String instance, double seconds, long totalMessages, double errorRate) {
    return new ApplicationMetrics(T0 + seconds, 10, totalMessages, 60, 1, 0, 4, 20, errorRate, instance, "chat-room");
  }

  /** Feeds one CPU sample per second, from {@code from} (inclusive) to {@code to} (exclusive), at a fixed value. */
  void cpu(String instance, int from, int to, double cpu) {
    for (int t = from; t < to; t++) {
      engine.onSample(system(instance, t, cpu), wall(t));
    }
  }

  static long wall(double seconds) {
    return Math.round((T0 + seconds) * 1000);
  }

  List<String> states() {
    return events.stream().map(AlertEvent::state).toList();
  }

  AlertEvent last() {
    return events.get(events.size() - 1);
  }

  @Override
  public void onEvent(AlertEvent event, Series series) {
    events.add(event);
  }

  @Override
  public void onTemplateError() {
    templateErrors++;
  }

  @Override
  public void onSeriesDropped() {
    dropped++;
  }
}
