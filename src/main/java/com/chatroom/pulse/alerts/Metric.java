package com.chatroom.pulse.alerts;

import com.chatroom.pulse.bus.ApplicationMetrics;
import com.chatroom.pulse.bus.PulseMessage;
import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.config.ConfigException;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a rule measures: a field of one of the two sample records by its JSON name, or a value derived from a series
 * of them. {@link #read} returns NaN when a sample has no value for it (a mount that is not there, the first sample
 * of a rate); the rule then leaves the alert as it is.
 */
abstract class Metric {

  private static final Map<String, ToDoubleFunction<SystemMetrics>> SYSTEM = new LinkedHashMap<>();
  private static final Map<String, ToDoubleFunction<ApplicationMetrics>> APP = new LinkedHashMap<>();
  private static final Pattern DISK = Pattern.compile("disks\\[(/[^\\]]*)]\\.(usage_percent|free_gb|total_gb)");
  private static final Pattern CALL = Pattern.compile("(rate|predict_linear)\\(\\s*([^,\\s)]+)\\s*(?:,\\s*([^,\\s)]+)\\s*)?(?:,\\s*([^,\\s)]+)\\s*)?\\)");

  static {
    SYSTEM.put("cpu_percent", SystemMetrics::cpuPercent);
    SYSTEM.put("memory_percent", SystemMetrics::memoryPercent);
    SYSTEM.put("memory_used_mb", SystemMetrics::memoryUsedMb);
    SYSTEM.put("memory_available_mb", SystemMetrics::memoryAvailableMb);
    SYSTEM.put("memory_total_mb", SystemMetrics::memoryTotalMb);
    SYSTEM.put("disk_usage_percent", SystemMetrics::diskUsagePercent);
    SYSTEM.put("disk_free_gb", SystemMetrics::diskFreeGb);
    SYSTEM.put("network_bytes_sent", SystemMetrics::networkBytesSent);
    SYSTEM.put("network_bytes_recv", SystemMetrics::networkBytesRecv);
    SYSTEM.put("network_sent_bytes_per_sec", SystemMetrics::networkSentPerSec);
    SYSTEM.put("network_recv_bytes_per_sec", SystemMetrics::networkRecvPerSec);
    SYSTEM.put("active_connections", SystemMetrics::activeConnections);
    SYSTEM.put("cpu_count", SystemMetrics::cpuCount);
    for (int i = 0; i < 3; i++) {
      int index = i;
      SYSTEM.put("load_average[" + i + "]", s -> s.loadAverage().get(index));
    }
    APP.put("active_users", ApplicationMetrics::activeUsers);
    APP.put("total_messages", ApplicationMetrics::totalMessages);
    APP.put("messages_per_minute", ApplicationMetrics::messagesPerMinute);
    APP.put("ai_requests_per_minute", ApplicationMetrics::aiRequestsPerMinute);
    APP.put("file_transfers_active", ApplicationMetrics::fileTransfersActive);
    APP.put("database_connections", ApplicationMetrics::databaseConnections);
    APP.put("response_time_avg", ApplicationMetrics::responseTimeAvg);
    APP.put("error_rate", ApplicationMetrics::errorRate);
  }

  private final boolean system;
  private final String expression;

  Metric(boolean system, String expression) {
    this.system = system;
    this.expression = expression;
  }

  /** True if this metric reads {@link SystemMetrics}, false for {@link ApplicationMetrics}. */
  final boolean system() {
    return system;
  }

  final String expression() {
    return expression;
  }

  /** Per-series memory a derived metric needs (previous sample, a window); null for plain fields. */
  Object newState() {
    return null;
  }

  /** @param state what {@link #newState()} returned for this series */
  abstract double read(PulseMessage sample, double timestamp, Object state);

  /**
   * Parses a rule's {@code metric}.
   *
   * @param key the config key to name in an error, e.g. {@code alerts.rules[cpu].metric}
   */
  static Metric parse(String expression, String key) {
    String expr = expression.trim();
    Matcher call = CALL.matcher(expr);
    if (call.matches()) {
      Metric field = parse(call.group(2), key);
      if (!(field instanceof Field plain)) {
        throw new ConfigException(key, "the argument of " + call.group(1) + "() must be a plain field, got '" + call.group(2) + "'");
      }
      if (call.group(1).equals("rate")) {
        if (call.group(3) != null) {
          throw new ConfigException(key, "rate() takes one argument: rate(total_messages)");
        }
        return new Derived.Rate(plain, expr);
      }
      if (call.group(3) == null) {
        throw new ConfigException(key, "predict_linear() needs a horizon: predict_linear(disk_usage_percent, 4h[, window 10m])");
      }
      return new Derived.PredictLinear(plain, expr, seconds(call.group(3), key), call.group(4) == null ? 600 : seconds(call.group(4), key));
    }
    ToDoubleFunction<SystemMetrics> sys = SYSTEM.get(expr);
    if (sys != null) {
      return new Field(true, expr, s -> sys.applyAsDouble((SystemMetrics) s));
    }
    ToDoubleFunction<ApplicationMetrics> app = APP.get(expr);
    if (app != null) {
      return new Field(false, expr, s -> app.applyAsDouble((ApplicationMetrics) s));
    }
    Matcher disk = DISK.matcher(expr);
    if (disk.matches()) {
      String mount = disk.group(1);
      String part = disk.group(2);
      return new Field(true, expr, s -> {
        java.util.List<SystemMetrics.DiskUsage> disks = ((SystemMetrics) s).disks();
        for (int i = 0; i < disks.size(); i++) { // indexed: no iterator per sample
          SystemMetrics.DiskUsage d = disks.get(i);
          if (d.mount().equals(mount)) {
            return part.equals("usage_percent") ? d.usagePercent() : part.equals("free_gb") ? d.freeGb() : d.totalGb();
          }
        }
        return Double.NaN;
      });
    }
    TreeSet<String> known = new TreeSet<>(SYSTEM.keySet());
    known.addAll(APP.keySet());
    throw new ConfigException(key, "unknown metric '" + expression + "'; use a field of either sample (" + String.join(", ", known)
      + "), disks[/mount].usage_percent|free_gb|total_gb, rate(field) or predict_linear(field, horizon[, window])");
  }

  private static double seconds(String duration, String key) {
    Matcher m = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h|d)?").matcher(duration);
    if (!m.matches()) {
      throw new ConfigException(key, "'" + duration + "' is not a duration such as 30s, 10m or 4h");
    }
    double amount = Double.parseDouble(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    double value = switch (unit) {
      case "ms" -> amount / 1000;
      case "m" -> amount * 60;
      case "h" -> amount * 3600;
      case "d" -> amount * 86400;
      default -> amount;
    };
    if (value <= 0) {
      throw new ConfigException(key, "durations in a metric must be positive, got '" + duration + "'");
    }
    return value;
  }

  /** A field read straight from the sample. */
  static final class Field extends Metric {

    private final ToDoubleFunction<PulseMessage> reader;

    Field(boolean system, String expression, ToDoubleFunction<PulseMessage> reader) {
      super(system, expression);
      this.reader = reader;
    }

    @Override
    double read(PulseMessage sample, double timestamp, Object state) {
      return reader.applyAsDouble(sample);
    }

    double value(PulseMessage sample) {
      return reader.applyAsDouble(sample);
    }
  }
}
