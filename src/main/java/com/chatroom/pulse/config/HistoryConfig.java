package com.chatroom.pulse.config;

/**
 * History tiers and limits.
 *
 * @param rawRetentionMinutes   raw samples kept (at least 60: the "at least 1 hour")
 * @param minuteRetentionHours  1-minute rollups kept (at least 24)
 * @param hourRetentionDays     1-hour rollups kept (at least 30)
 * @param bufferOperations      writes held while Redis is unreachable (one per sample, one per minute rollup);
 *                              beyond it the oldest are dropped and counted
 * @param maxInstances          instances the in-memory store keeps; the least recently seen goes first
 * @param baselineDays          past days that make the hour-of-day baseline
 * @param trendHours            window of the linear trend and forecasts
 * @param queryTimeoutMs        bus request timeout for history queries
 */
public record HistoryConfig(int rawRetentionMinutes, int minuteRetentionHours, int hourRetentionDays,
                            int bufferOperations, int maxInstances, int baselineDays, int trendHours, long queryTimeoutMs) {

  public long rawRetentionSeconds() {
    return rawRetentionMinutes * 60L;
  }

  public long minuteRetentionSeconds() {
    return minuteRetentionHours * 3600L;
  }

  public long hourRetentionSeconds() {
    return hourRetentionDays * 86400L;
  }

  static HistoryConfig read(ConfigReader r) {
    HistoryConfig config = new HistoryConfig(
      r.integer("raw_retention_minutes", 120, 60, 7 * 24 * 60),
      r.integer("minute_retention_hours", 48, 24, 24 * 90),
      r.integer("hour_retention_days", 35, 30, 3650),
      r.integer("buffer_operations", 20000, 100, 10_000_000),
      r.integer("max_instances", 1000, 1, 100_000),
      r.integer("baseline_days", 7, 1, 90),
      r.integer("trend_hours", 6, 1, 24 * 30),
      r.integer("query_timeout_ms", 5000L, 100, 60_000));
    r.rejectUnknown();
    return config;
  }
}
