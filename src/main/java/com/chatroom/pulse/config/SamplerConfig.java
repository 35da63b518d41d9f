package com.chatroom.pulse.config;

import java.util.List;

/**
 * The host sampler.
 *
 * @param enabled    sample this host (off: the node only relays other instances' samples)
 * @param intervalMs time between the end of one sample and the start of the next
 * @param mounts     file systems to report; the first one fills the seed's {@code disk_*} fields
 * @param warn       log a warning when a value crosses these (the seed's thresholds), once per crossing
 */
public record SamplerConfig(boolean enabled, long intervalMs, List<String> mounts, WarnThresholds warn) {

  /** The seed's warning levels: cpu > 80, memory > 85, disk > 90, connections > 1000. */
  public record WarnThresholds(double cpuPercent, double memoryPercent, double diskPercent, long connections) {

    static WarnThresholds read(ConfigReader r) {
      WarnThresholds t = new WarnThresholds(
        r.number("cpu_percent", 80, 0, 100),
        r.number("memory_percent", 85, 0, 100),
        r.number("disk_percent", 90, 0, 100),
        r.integer("connections", 1000L, 0, Long.MAX_VALUE));
      r.rejectUnknown();
      return t;
    }
  }

  static SamplerConfig read(ConfigReader r) {
    boolean enabled = r.bool("enabled", true);
    long interval = r.integer("interval_ms", 1000L, 100, 3_600_000);
    List<String> mounts = r.strings("mounts", List.of("/"), 64);
    if (mounts.isEmpty()) {
      throw new ConfigException(r.key("mounts"), "must name at least one mount (for example /)");
    }
    for (String mount : mounts) {
      if (!mount.startsWith("/")) {
        throw new ConfigException(r.key("mounts"), "entries must be absolute paths, got '" + mount + "'");
      }
    }
    SamplerConfig config = new SamplerConfig(enabled, interval, mounts, WarnThresholds.read(r.section("warn")));
    r.rejectUnknown();
    return config;
  }
}
