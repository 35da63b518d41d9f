package com.chatroom.pulse.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/** The measurements the load client reports besides latency and loss: CPU, GC, how each core was shared. */
final class Report {

  private Report() {
  }

  /**
   * How long one tick's frames took to arrive (first to last receipt), and what share of that span the client and
   * the server were on a CPU (their CPU per tick / span: both are idle between ticks). A client near 100 % would be
   * the bottleneck; both well under 100 % means the fan-out waited for something else, typically a core shared with
   * other processes.
   */
  static JsonObject bursts(StreamStats stats, double clientCpu, long ticks, double serverCpu) {
    double[] spans = stats.burstSpansMillis();
    JsonObject json = new JsonObject().put("ticks", spans.length);
    if (spans.length == 0 || ticks == 0) {
      return json;
    }
    double median = spans[spans.length / 2];
    double mean = java.util.Arrays.stream(spans).average().orElse(0);
    json.put("span_ms_median", round(median, 1)).put("span_ms_max", round(spans[spans.length - 1], 1))
      .put("span_ms_by_tick", new JsonArray(stats.burstSpansInOrder()))
      .put("client_cpu_ms_per_tick", round(clientCpu * 1000 / ticks, 1))
      .put("client_busy_percent_of_span", round(100 * clientCpu * 1000 / ticks / mean, 1));
    if (serverCpu >= 0) {
      json.put("server_cpu_ms_per_tick", round(serverCpu * 1000 / ticks, 1))
        .put("server_busy_percent_of_span", round(100 * serverCpu * 1000 / ticks / mean, 1));
    }
    return json;
  }

  /**
   * How busy each core was during the window, and how much CPU went to processes other than this client and the
   * server: on a shared machine that is the noise to read the figures against.
   */
  static JsonObject host(long[][] before, long[][] after, double seconds, double clientCpu, double serverCpu) {
    JsonObject json = new JsonObject();
    if (before.length == after.length && before.length > 0) {
      JsonArray perCpu = new JsonArray();
      double[] sums = new double[ProcStats.CPU_COLUMNS.length];
      for (int cpu = 0; cpu < after.length; cpu++) {
        JsonObject row = new JsonObject();
        long total = 0;
        for (int c = 0; c < sums.length; c++) {
          total += after[cpu][c] - before[cpu][c];
        }
        for (int c = 0; c < sums.length; c++) {
          long delta = after[cpu][c] - before[cpu][c];
          sums[c] += delta / (double) ProcStats.CLK_TCK;
          row.put(ProcStats.CPU_COLUMNS[c], round(total <= 0 ? 0 : 100d * delta / total, 1));
        }
        perCpu.add(row);
      }
      // user+nice+system of all cores, minus what the two benchmark processes used: everybody else
      double tasks = sums[0] + sums[1] + sums[2];
      json.put("cpu_percent", perCpu)
        .put("softirq_percent_of_core", round(100 * sums[6] / seconds, 1))
        .put("steal_percent_of_core", round(100 * sums[7] / seconds, 1))
        .put("other_processes_cpu_percent_of_core", round(100 * Math.max(0, tasks - clientCpu - serverCpu) / seconds, 1));
    }
    try {
      json.put("loadavg", Files.readString(Path.of("/proc/loadavg")).trim());
    } catch (IOException e) {
      // not Linux: leave it out
    }
    return json;
  }

  static Double splitPercent(long[] before, long[] after, int index, double seconds) {
    return before == null || after == null ? null
      : round(100 * (after[index] - before[index]) / (double) ProcStats.CLK_TCK / seconds, 2);
  }

  static long[] gcCountAndMillis() {
    long count = 0;
    long millis = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      count += Math.max(0, gc.getCollectionCount());
      millis += Math.max(0, gc.getCollectionTime());
    }
    return new long[] {count, millis};
  }

  static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  static double ms(long micros) {
    return round(micros / 1000d, 3);
  }

  static double round(double value, int decimals) {
    double scale = Math.pow(10, decimals);
    return Math.round(value * scale) / scale;
  }
}
