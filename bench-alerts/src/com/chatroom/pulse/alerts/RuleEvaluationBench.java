package com.chatroom.pulse.alerts;

import com.chatroom.pulse.bus.AlertEvent;
import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.config.AlertRuleConfig;
import com.chatroom.pulse.config.AlertsConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Rule evaluation cost per sample: 100 rules over 100 instances, samples fed round-robin as the sampler would at
 * 1 Hz per instance (sample time advances one second per round). Warm-up, then {@code ROUNDS} measured runs; prints
 * the median, min and max µs per sample and the share of one core that 100 instances at 1 Hz would need.
 * Same package as the engine (compiled separately by run.sh) so it drives the real, package-private classes.
 */
public final class RuleEvaluationBench {

  private static final int INSTANCES = 100;
  private static final int RULES = 100;
  private static final int WARMUP_ROUNDS = 3;
  private static final int ROUNDS = 9;
  /** Seconds of 1 Hz samples per instance in one run. */
  private static final int SECONDS = 1000;
  private static final String[] FIELDS = {"cpu_percent", "memory_percent", "disk_usage_percent", "load_average[0]",
    "active_connections", "network_sent_bytes_per_sec", "memory_available_mb", "disks[/].usage_percent"};

  private RuleEvaluationBench() {
  }

  /**
   * 100 threshold rules over eight fields with varied ops, thresholds, for and clear settings: alert levels (cpu over
   * 80-94 %, little memory available, ...) that most hosts stay clear of, as in production.
   */
  static List<AlertRuleConfig> plainRules() {
    List<AlertRuleConfig> rules = new ArrayList<>();
    for (int i = 0; i < RULES; i++) {
      String field = FIELDS[i % FIELDS.length];
      boolean above = !field.equals("memory_available_mb");
      double threshold = switch (field) {
        case "memory_available_mb" -> 500 + i * 5;
        case "active_connections" -> 900 + i;
        case "network_sent_bytes_per_sec" -> 7.5e6;
        case "load_average[0]" -> 3.5 + i % 3;
        default -> 80 + i % 15;
      };
      double clear = above ? threshold * 0.95 : threshold * 1.05;
      rules.add(new AlertRuleConfig("alerts.rules[r" + i + "]", "r" + i, field, above ? ">" : "<", threshold, clear,
        (i % 4) * 10_000L, (i % 3) * 5_000L, i % 2 == 0 ? "critical" : "warning", Map.of("team", "t" + (i % 7)),
        Map.of("summary", "{{rule}} on {{instance}}: {{value}} {{op}} {{threshold}}"), List.of()));
    }
    return rules;
  }

  /** The same, with five rate() and five predict_linear() rules in place of ten plain ones. */
  static List<AlertRuleConfig> mixedRules() {
    List<AlertRuleConfig> rules = new ArrayList<>(plainRules().subList(0, RULES - 10));
    for (int i = 0; i < 5; i++) {
      rules.add(new AlertRuleConfig("alerts.rules[rate" + i + "]", "rate" + i, "rate(network_bytes_sent)", ">", 1e7, 1e7,
        0, 0, "warning", Map.of(), Map.of(), List.of()));
      rules.add(new AlertRuleConfig("alerts.rules[fc" + i + "]", "fc" + i, "predict_linear(disk_usage_percent, 4h, 10m)",
        ">", 100, 100, 0, 0, "warning", Map.of(), Map.of(), List.of()));
    }
    return rules;
  }

  public static void main(String[] args) {
    run("100 threshold rules", plainRules());
    run("90 threshold + 5 rate() + 5 predict_linear() rules", mixedRules());
  }

  private static void run(String label, List<AlertRuleConfig> specs) {
    List<Rule> rules = specs.stream().map(Rule::compile).toList();
    SystemMetrics[] samples = samples();
    double[] usPerSample = new double[ROUNDS];
    long[] events = new long[1];
    int series = 0;
    for (int round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
      // a fresh engine per run: sample time only moves forward, as it does in production
      events[0] = 0;
      RuleEngine engine = new RuleEngine(rules, new AlertsConfig.Flapping(true, 600_000, 6, 600_000), 100_000, "bench",
        (labels, now) -> false, new RuleEngine.Listener() {
          @Override
          public void onEvent(AlertEvent event, Series s) {
            events[0]++;
          }
        });
      long start = System.nanoTime();
      for (SystemMetrics sample : samples) {
        engine.onSample(sample, 0);
      }
      long elapsed = System.nanoTime() - start;
      if (round >= 0) {
        usPerSample[round] = elapsed / 1000d / samples.length;
      }
      series = engine.seriesCount();
    }
    Arrays.sort(usPerSample);
    double median = usPerSample[ROUNDS / 2];
    System.out.printf("%s, %d instances: median %.2f µs/sample (min %.2f, max %.2f over %d runs of %d samples); "
        + "%d series, %d state changes per run; 100 instances at 1 Hz = %.4f %% of one core%n",
      label, INSTANCES, median, usPerSample[0], usPerSample[ROUNDS - 1], ROUNDS, samples.length,
      series, events[0], median * INSTANCES / 1e6 * 100);
  }

  /**
   * Mean-reverting random walks per instance, one sample per second of sample time: most hosts idle around 35 % CPU,
   * one in twenty runs hot around 85 %, so rules cross their thresholds now and then (pending, firing, resolved) as
   * real fleets do. Precomputed: the bench times evaluation, not sample creation.
   */
  private static SystemMetrics[] samples() {
    Random random = new Random(42);
    SystemMetrics[] samples = new SystemMetrics[SECONDS * INSTANCES];
    double[] cpu = new double[INSTANCES];
    double[] mem = new double[INSTANCES];
    double[] disk = new double[INSTANCES];
    long[] sent = new long[INSTANCES];
    double base = 1_764_000_000d;
    for (int t = 0; t < SECONDS; t++) {
      for (int i = 0; i < INSTANCES; i++) {
        boolean hot = i % 20 == 0;
        cpu[i] = clamp(cpu[i] + 0.1 * ((hot ? 85 : 35) - cpu[i]) + random.nextGaussian() * 3);
        mem[i] = clamp(mem[i] + 0.05 * ((hot ? 88 : 55) - mem[i]) + random.nextGaussian());
        disk[i] = clamp(disk[i] + 0.01 * ((hot ? 86 : 60) - disk[i]) + random.nextGaussian() * 0.1);
        sent[i] += 1_000_000 + random.nextInt(5_000_000);
        samples[t * INSTANCES + i] = new SystemMetrics(base + t, cpu[i], mem[i], 4096, 16384 * (1 - mem[i] / 100), disk[i],
          100, sent[i], sent[i], (hot ? 850 : 300) + random.nextInt(100), List.of(hot ? 3 + random.nextDouble() : 1.0, 1.5, 1.2),
          "host-" + i, t, 16384, 8, random.nextDouble() * (hot ? 8e6 : 4e6), 1e6,
          List.of(new SystemMetrics.DiskUsage("/", disk[i], 100, 500)));
      }
    }
    return samples;
  }

  private static double clamp(double v) {
    return Math.max(0, Math.min(100, v));
  }
}
