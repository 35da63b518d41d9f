package com.chatroom.pulse.alerts;

import com.chatroom.pulse.bus.PulseMessage;
import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.config.AlertRuleConfig;
import com.chatroom.pulse.config.AlertsConfig;

import java.util.HashSet;

/**
 * One rule's condition on one instance, for consumers other than the alert manager (the optimizer): the same
 * metric model ({@link Metric}, derived metrics included) and the same state machine (inactive → pending ({@code for})
 * → firing → resolved ({@code clear_threshold} held for {@code clear_for})), without labels, silences, flapping or
 * notifications. Durations are measured on the samples' own timestamps, as for alerts. Not thread-safe: drive it from
 * one context.
 */
public final class Condition {

  /** A change of the condition's state: {@code pending}, {@code firing}, {@code resolved} or {@code inactive}. */
  public interface Listener {
    void onChange(String state, String reason, long sampleMs);
  }

  private static final AlertsConfig.Flapping NO_FLAPPING = new AlertsConfig.Flapping(false, 1000, 2, 1000);

  private final Rule rule;
  private final Series series;
  private final StateMachine machine;
  private Listener listener;

  /**
   * Compiles the condition at once.
   *
   * @param spec the condition as configured; errors name {@code spec.key()}
   * @throws com.chatroom.pulse.config.ConfigException for an unknown or malformed metric
   */
  public Condition(AlertRuleConfig spec, String instance) {
    this.rule = Rule.compile(spec);
    this.series = new Series(rule, instance, 0);
    this.machine = new StateMachine(NO_FLAPPING, new HashSet<>(), (s, state, reason, t, wallMs) -> {
      s.published = state;
      if (listener != null) {
        listener.onChange(state, reason, t);
      }
    });
  }

  /** True when the metric reads {@code metrics.system} samples, false for {@code metrics.app}. */
  public boolean system() {
    return rule.metric.system();
  }

  public String metric() {
    return rule.metric.expression();
  }

  /**
   * Evaluates one sample of the condition's kind; state changes go to {@code listener}, synchronously.
   *
   * @return the metric's value, or NaN when the sample is of the other kind, older than the last one, or has no value
   */
  public double onSample(PulseMessage sample, double timestamp, Listener listener) {
    if ((sample instanceof SystemMetrics) != system()) {
      return Double.NaN;
    }
    long t = Math.round(timestamp * 1000);
    if (t < series.lastSampleMs) {
      return Double.NaN; // late: the state already moved past it
    }
    series.lastSampleMs = t;
    double value = rule.metric.read(sample, timestamp, series.derived);
    if (Double.isNaN(value)) {
      return value;
    }
    series.lastValue = value;
    this.listener = listener;
    try {
      machine.step(rule, series, value, t, 0);
    } finally {
      this.listener = null;
    }
    return value;
  }

  /** {@code value op threshold}: the condition that starts an episode. */
  public boolean fires(double value) {
    return rule.fires(value);
  }

  /** The value no longer passes the clear threshold: the condition that ends one. */
  public boolean clears(double value) {
    return rule.clears(value);
  }

  /** True for {@code >} and {@code >=}: a lower value is better. */
  public boolean above() {
    return rule.above;
  }

  /** {@code inactive}, {@code pending}, {@code firing} or {@code resolved}. */
  public String state() {
    return series.state.wire();
  }

  /** The newest value read, NaN before the first. */
  public double lastValue() {
    return series.lastValue;
  }

  /** Sample time (epoch ms) of the newest sample evaluated, or {@link Long#MIN_VALUE}. */
  public long lastSampleMs() {
    return series.lastSampleMs;
  }

  /**
   * Forgets the episode (no data, or an operator reset): back to inactive, derived metrics keep their windows. The
   * listener hears nothing.
   */
  public void reset() {
    series.state = Series.State.INACTIVE;
    series.activeSinceMs = -1;
    series.firedAtMs = -1;
    series.clearingSinceMs = -1;
    series.published = "inactive";
  }
}
