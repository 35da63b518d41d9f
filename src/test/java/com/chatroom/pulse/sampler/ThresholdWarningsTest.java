package com.chatroom.pulse.sampler;

import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.config.SamplerConfig;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("The seed's warning thresholds")
class ThresholdWarningsTest {

  private static SystemMetrics sample(double cpu, double memory, double disk, long connections) {
    return new SystemMetrics(1.8e9, cpu, memory, 1, 1, disk, 1, 0, 0, connections, List.of(0d, 0d, 0d), "t", 1, 2, 1,
      0, 0, List.of(new SystemMetrics.DiskUsage("/", disk, 1, 2)));
  }

  @Test
  @DisplayName("warn once per upward crossing, not on every tick, and re-arm only after staying back at or below")
  void oncePerCrossing() {
    List<Integer> crossings = new ArrayList<>();
    ThresholdWarnings warnings = new ThresholdWarnings(new SamplerConfig.WarnThresholds(80, 85, 90, 1000), crossings::add);
    // hovering around the threshold: one warning, not one per wobble
    double[] cpu = {10, 81, 95, 99, 80, 79, 85, 85, 70, 81};
    for (double c : cpu) {
      warnings.check(sample(c, 50, 50, 10));
    }
    assertThat(crossings).containsExactly(ThresholdWarnings.Metric.CPU.ordinal());
    for (int i = 0; i < ThresholdWarnings.REARM_SAMPLES; i++) {
      warnings.check(sample(50, 50, 50, 10));
    }
    assertThat(warnings.isAbove(ThresholdWarnings.Metric.CPU)).isFalse();
    warnings.check(sample(90, 50, 50, 10));
    assertThat(crossings).containsExactly(ThresholdWarnings.Metric.CPU.ordinal(), ThresholdWarnings.Metric.CPU.ordinal());
    assertThat(warnings.isAbove(ThresholdWarnings.Metric.CPU)).isTrue();

    crossings.clear();
    for (int i = 0; i < ThresholdWarnings.REARM_SAMPLES; i++) {
      warnings.check(sample(10, 50, 50, 10));
    }
    warnings.check(sample(10, 86, 91, 1001));
    warnings.check(sample(10, 86, 91, 1001));
    assertThat(crossings).containsExactly(ThresholdWarnings.Metric.MEMORY.ordinal(),
      ThresholdWarnings.Metric.DISK.ordinal(), ThresholdWarnings.Metric.CONNECTIONS.ordinal());
    assertThat(warnings.isAbove(ThresholdWarnings.Metric.CPU)).isFalse();
  }

  @Test
  @DisplayName("CPU share comes from tick differences: busy is everything but idle and iowait")
  void cpuFromTicks() {
    // user, nice, system, idle, iowait, irq, softirq, steal
    long[] before = {100, 0, 50, 800, 50, 0, 0, 0};
    long[] after = {160, 0, 70, 880, 70, 10, 10, 0};
    // delta: busy 60+20+10+10 = 100, idle+iowait 80+20 = 100 → 50%
    assertThat(HostProbe.busyPercent(before, after)).isEqualTo(50d);
    assertThat(HostProbe.busyPercent(after, after)).isZero();
  }
}
