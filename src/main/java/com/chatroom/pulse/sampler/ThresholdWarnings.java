package com.chatroom.pulse.sampler;

import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.config.SamplerConfig.WarnThresholds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.IntConsumer;

/**
 * The seed's warning log lines, once per crossing rather than on every tick: a warning when a value goes above
 * its threshold, one info line when it has stayed at or below it for {@link #REARM_SAMPLES} samples in a row (so a
 * value hovering around the threshold does not fill the log).
 */
final class ThresholdWarnings {

  private static final Logger LOG = LoggerFactory.getLogger(ThresholdWarnings.class);

  enum Metric { CPU, MEMORY, DISK, CONNECTIONS }

  private final WarnThresholds thresholds;
  static final int REARM_SAMPLES = 10;

  private final boolean[] above = new boolean[Metric.values().length];
  private final int[] belowStreak = new int[Metric.values().length];
  private final IntConsumer onCrossing;

  /** @param onCrossing told the metric ordinal of every upward crossing (for the crossings counter) */
  ThresholdWarnings(WarnThresholds thresholds, IntConsumer onCrossing) {
    this.thresholds = thresholds;
    this.onCrossing = onCrossing;
  }

  void check(SystemMetrics s) {
    update(Metric.CPU, s.cpuPercent(), thresholds.cpuPercent(), "High CPU usage: {}% (threshold {}%)", "CPU usage back to {}% (threshold {}%)");
    update(Metric.MEMORY, s.memoryPercent(), thresholds.memoryPercent(), "High memory usage: {}% (threshold {}%)", "Memory usage back to {}% (threshold {}%)");
    update(Metric.DISK, s.diskUsagePercent(), thresholds.diskPercent(), "Low disk space: {}% used (threshold {}%)", "Disk usage back to {}% (threshold {}%)");
    update(Metric.CONNECTIONS, s.activeConnections(), thresholds.connections(), "High connection count: {} (threshold {})", "Connection count back to {} (threshold {})");
  }

  boolean isAbove(Metric metric) {
    return above[metric.ordinal()];
  }

  private void update(Metric metric, double value, double threshold, String warning, String recovered) {
    int m = metric.ordinal();
    boolean now = value > threshold;
    if (now) {
      belowStreak[m] = 0;
    } else if (above[m] && ++belowStreak[m] < REARM_SAMPLES) {
      return;
    }
    if (now == above[m]) {
      return;
    }
    above[m] = now;
    String shown = metric == Metric.CONNECTIONS ? Long.toString((long) value) : String.format("%.1f", value);
    String limit = metric == Metric.CONNECTIONS ? Long.toString((long) threshold) : String.format("%.1f", threshold);
    if (now) {
      LOG.warn(warning, shown, limit);
      onCrossing.accept(metric.ordinal());
    } else {
      LOG.info(recovered, shown, limit);
    }
  }
}
