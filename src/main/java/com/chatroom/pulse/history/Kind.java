package com.chatroom.pulse.history;

import com.chatroom.pulse.bus.ApplicationMetrics;
import com.chatroom.pulse.bus.BusMessages;
import com.chatroom.pulse.bus.PulseMessage;
import com.chatroom.pulse.bus.SystemMetrics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * The two kinds of history and the metrics each one rolls up, by their JSON names. Every rolled-up metric keeps
 * count, sum, min, max, last and a quantile sketch per minute and per hour.
 */
public enum Kind {

  SYSTEM("system", systemMetrics()),
  APP("app", appMetrics());

  private final String wireName;
  private final Map<String, ToDoubleFunction<PulseMessage>> metrics;

  Kind(String wireName, Map<String, ToDoubleFunction<PulseMessage>> metrics) {
    this.wireName = wireName;
    this.metrics = metrics;
  }

  /** The name in URLs and stream frames: {@code system} or {@code app}. */
  public String wireName() {
    return wireName;
  }

  public Set<String> metricNames() {
    return metrics.keySet();
  }

  Map<String, ToDoubleFunction<PulseMessage>> metrics() {
    return metrics;
  }

  /** @return null when there is no such kind */
  public static Kind of(String wireName) {
    for (Kind kind : values()) {
      if (kind.wireName.equals(wireName)) {
        return kind;
      }
    }
    return null;
  }

  /** The kind a metric belongs to, or null. */
  public static Kind ofMetric(String metric) {
    for (Kind kind : values()) {
      if (kind.metrics.containsKey(metric)) {
        return kind;
      }
    }
    return null;
  }

  static Kind of(PulseMessage message) {
    return message instanceof SystemMetrics ? SYSTEM : APP;
  }

  static String instanceOf(PulseMessage message) {
    return message instanceof SystemMetrics s ? s.instance() : ((ApplicationMetrics) message).instance();
  }

  static double timestampOf(PulseMessage message) {
    return message instanceof SystemMetrics s ? s.timestamp() : ((ApplicationMetrics) message).timestamp();
  }

  /** Reads a stored JSON sample back into its record. */
  PulseMessage parse(String json) {
    return this == SYSTEM ? BusMessages.systemMetrics(json) : BusMessages.applicationMetrics(json);
  }

  private static Map<String, ToDoubleFunction<PulseMessage>> systemMetrics() {
    Map<String, ToDoubleFunction<SystemMetrics>> m = new LinkedHashMap<>();
    m.put("cpu_percent", SystemMetrics::cpuPercent);
    m.put("memory_percent", SystemMetrics::memoryPercent);
    m.put("memory_used_mb", SystemMetrics::memoryUsedMb);
    m.put("memory_available_mb", SystemMetrics::memoryAvailableMb);
    m.put("disk_usage_percent", SystemMetrics::diskUsagePercent);
    m.put("disk_free_gb", SystemMetrics::diskFreeGb);
    m.put("active_connections", SystemMetrics::activeConnections);
    m.put("network_sent_bytes_per_sec", SystemMetrics::networkSentPerSec);
    m.put("network_recv_bytes_per_sec", SystemMetrics::networkRecvPerSec);
    m.put("load_average_1m", s -> s.loadAverage().get(0));
    m.put("load_average_5m", s -> s.loadAverage().get(1));
    m.put("load_average_15m", s -> s.loadAverage().get(2));
    return widen(m, SystemMetrics.class);
  }

  private static Map<String, ToDoubleFunction<PulseMessage>> appMetrics() {
    Map<String, ToDoubleFunction<ApplicationMetrics>> m = new LinkedHashMap<>();
    m.put("active_users", ApplicationMetrics::activeUsers);
    m.put("total_messages", ApplicationMetrics::totalMessages);
    m.put("messages_per_minute", ApplicationMetrics::messagesPerMinute);
    m.put("ai_requests_per_minute", ApplicationMetrics::aiRequestsPerMinute);
    m.put("file_transfers_active", ApplicationMetrics::fileTransfersActive);
    m.put("database_connections", ApplicationMetrics::databaseConnections);
    m.put("response_time_avg", ApplicationMetrics::responseTimeAvg);
    m.put("error_rate", ApplicationMetrics::errorRate);
    return widen(m, ApplicationMetrics.class);
  }

  private static <T> Map<String, ToDoubleFunction<PulseMessage>> widen(Map<String, ToDoubleFunction<T>> typed, Class<T> type) {
    Map<String, ToDoubleFunction<PulseMessage>> wide = new LinkedHashMap<>();
    typed.forEach((name, f) -> wide.put(name, message -> f.applyAsDouble(type.cast(message))));
    return java.util.Collections.unmodifiableMap(wide);
  }
}
