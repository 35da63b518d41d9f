package com.chatroom.pulse.bus;

import io.vertx.core.json.JsonObject;

/**
 * One application sample from a service. The JSON form is a superset of the seed's Python
 * {@code ApplicationMetrics} dataclass, so the original server can post {@code asdict(ApplicationMetrics(...))}
 * unchanged; {@code instance} and {@code service} are Pulse's additions and optional.
 *
 * @param timestamp            epoch seconds
 * @param activeUsers          users connected now
 * @param totalMessages        messages handled since the service started
 * @param messagesPerMinute    messages in the last minute
 * @param aiRequestsPerMinute  AI requests in the last minute
 * @param fileTransfersActive  file transfers in progress
 * @param databaseConnections  open database connections
 * @param responseTimeAvg      average response time, milliseconds
 * @param errorRate            share of requests that failed, a ratio 0–1
 * @param instance             the instance that measured it
 * @param service              the service that measured it
 */
public record ApplicationMetrics(
  double timestamp,
  long activeUsers,
  long totalMessages,
  long messagesPerMinute,
  long aiRequestsPerMinute,
  long fileTransfersActive,
  long databaseConnections,
  double responseTimeAvg,
  double errorRate,
  String instance,
  String service) implements Sample {

  public static final String KIND = "app";
  public static final String DEFAULT_INSTANCE = "unknown";
  public static final String DEFAULT_SERVICE = "chat-room";

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject()
      .put("timestamp", JsonFields.seconds(timestamp))
      .put("active_users", activeUsers)
      .put("total_messages", totalMessages)
      .put("messages_per_minute", messagesPerMinute)
      .put("ai_requests_per_minute", aiRequestsPerMinute)
      .put("file_transfers_active", fileTransfersActive)
      .put("database_connections", databaseConnections)
      .put("response_time_avg", responseTimeAvg)
      .put("error_rate", errorRate)
      .put("instance", instance)
      .put("service", service);
  }

  /**
   * Reads and validates the JSON form: the seed's nine fields are required, unknown fields are ignored.
   *
   * @throws InvalidMessageException naming the first offending field
   */
  public static ApplicationMetrics fromJson(JsonObject json) {
    JsonFields f = new JsonFields(json);
    long max = JsonFields.MAX_SAFE_INTEGER;
    return new ApplicationMetrics(
      f.timestamp("timestamp"),
      f.integer("active_users", 0, max),
      f.integer("total_messages", 0, max),
      f.integer("messages_per_minute", 0, max),
      f.integer("ai_requests_per_minute", 0, max),
      f.integer("file_transfers_active", 0, max),
      f.integer("database_connections", 0, max),
      f.number("response_time_avg", 0, Double.MAX_VALUE),
      f.number("error_rate", 0, 1),
      f.optionalString("instance", 253, DEFAULT_INSTANCE),
      f.optionalString("service", 128, DEFAULT_SERVICE));
  }
}
