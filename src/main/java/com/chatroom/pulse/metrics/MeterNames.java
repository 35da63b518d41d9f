package com.chatroom.pulse.metrics;

/**
 * Every meter Pulse registers: lowercase, dotted, base units. Prometheus renders dots as underscores and adds
 * {@code _total} to counters and the unit suffix to timers ({@code pulse.sampler.duration} →
 * {@code pulse_sampler_duration_seconds}).
 */
public final class MeterNames {

  // sampler
  public static final String SAMPLER_SAMPLES = "pulse.sampler.samples";
  public static final String SAMPLER_FAILURES = "pulse.sampler.failures";
  public static final String SAMPLER_DURATION = "pulse.sampler.duration";
  public static final String SAMPLER_THRESHOLD_CROSSINGS = "pulse.sampler.threshold.crossings";

  // host, from the latest sample of this instance
  public static final String HOST_CPU_UTILIZATION = "pulse.host.cpu.utilization";
  public static final String HOST_MEMORY_UTILIZATION = "pulse.host.memory.utilization";
  public static final String HOST_MEMORY_USED = "pulse.host.memory.used.bytes";
  public static final String HOST_MEMORY_AVAILABLE = "pulse.host.memory.available.bytes";
  public static final String HOST_DISK_UTILIZATION = "pulse.host.disk.utilization";
  public static final String HOST_DISK_FREE = "pulse.host.disk.free.bytes";
  public static final String HOST_NETWORK_SENT = "pulse.host.network.sent.bytes";
  public static final String HOST_NETWORK_RECEIVED = "pulse.host.network.received.bytes";
  public static final String HOST_CONNECTIONS = "pulse.host.tcp.connections.established";
  public static final String HOST_LOAD = "pulse.host.load.average";

  // http
  public static final String HTTP_AUTH_REFUSED = "pulse.http.auth.refused";
  public static final String HTTP_UPGRADES_DELAYED = "pulse.http.upgrades.delayed";
  public static final String HTTP_UPGRADES_REFUSED = "pulse.http.upgrades.refused";
  public static final String HTTP_UPGRADES_WAITING = "pulse.http.upgrades.waiting";

  // bus
  public static final String BUS_REJECTED = "pulse.bus.messages.rejected";

  // stream
  public static final String STREAM_SUBSCRIBERS = "pulse.stream.subscribers";
  public static final String STREAM_FRAMES_SENT = "pulse.stream.frames.sent";
  public static final String STREAM_FRAMES_SKIPPED = "pulse.stream.frames.skipped";
  public static final String STREAM_EVENTS_PUBLISHED = "pulse.stream.events";
  public static final String STREAM_REFUSED = "pulse.stream.connections.refused";
  public static final String STREAM_INBOUND_REJECTED = "pulse.stream.inbound.rejected";
  public static final String STREAM_DISCONNECTS = "pulse.stream.disconnects";
  public static final String STREAM_SAMPLES_AGGREGATED = "pulse.stream.samples.aggregated";
  public static final String STREAM_OPTIMIZER_ACTIONS = "pulse.stream.optimizer.actions";

  // history
  public static final String HISTORY_SAMPLES = "pulse.history.samples";
  public static final String HISTORY_BUFFERED = "pulse.history.buffer.operations";
  public static final String HISTORY_DROPPED = "pulse.history.buffer.dropped";
  public static final String HISTORY_DEGRADED = "pulse.history.degraded";
  public static final String HISTORY_TREND = "pulse.history.trend.slope.per.hour";
  public static final String HISTORY_FORECAST = "pulse.history.forecast.full.hours";
  public static final String HISTORY_TRIMMED = "pulse.history.trimmed.samples";
  public static final String HISTORY_OPTIMIZER_ACTIONS = "pulse.history.optimizer.actions";
  // alerts: evaluation
  public static final String ALERTS_SAMPLES = "pulse.alerts.samples";
  public static final String ALERTS_EVALUATION = "pulse.alerts.evaluation.duration";
  public static final String ALERTS_CHANGES = "pulse.alerts.changes";
  public static final String ALERTS_ACTIVE = "pulse.alerts.active";
  public static final String ALERTS_TEMPLATE_ERRORS = "pulse.alerts.template.errors";
  public static final String ALERTS_SERIES_DROPPED = "pulse.alerts.series.dropped";
  public static final String ALERTS_STORE_ERRORS = "pulse.alerts.store.errors";

  // alerts: notifications, per channel
  public static final String ALERTS_NOTIFICATIONS_SENT = "pulse.alerts.notifications.sent";
  public static final String ALERTS_NOTIFICATIONS_FAILED = "pulse.alerts.notifications.failed";
  public static final String ALERTS_NOTIFICATIONS_RETRIES = "pulse.alerts.notifications.retries";
  public static final String ALERTS_NOTIFICATIONS_DEAD = "pulse.alerts.notifications.dead.letters";
  public static final String ALERTS_NOTIFICATIONS_DEDUPLICATED = "pulse.alerts.notifications.deduplicated";
  public static final String ALERTS_NOTIFICATIONS_SUPPRESSED = "pulse.alerts.notifications.suppressed";
  public static final String ALERTS_NOTIFICATIONS_QUEUED = "pulse.alerts.notifications.queued";
  public static final String ALERTS_NOTIFICATIONS_LATENCY = "pulse.alerts.notifications.latency";
  public static final String ALERTS_CIRCUIT_STATE = "pulse.alerts.circuit.state";

  // optimizer
  public static final String OPTIMIZER_SAMPLES = "pulse.optimizer.samples";
  public static final String OPTIMIZER_DECISIONS = "pulse.optimizer.decisions";
  public static final String OPTIMIZER_ACTIVE = "pulse.optimizer.actions.active";
  public static final String OPTIMIZER_AUDIT_ERRORS = "pulse.optimizer.audit.errors";

  // chat gateway
  public static final String CHAT_CONNECTIONS = "pulse.chat.connections";
  public static final String CHAT_ROOMS = "pulse.chat.rooms";
  public static final String CHAT_REFUSED = "pulse.chat.connections.refused";
  public static final String CHAT_INBOUND_REJECTED = "pulse.chat.inbound.rejected";
  public static final String CHAT_DISCONNECTS = "pulse.chat.disconnects";
  public static final String CHAT_MESSAGES = "pulse.chat.messages";
  public static final String CHAT_DUPLICATES = "pulse.chat.messages.duplicate";
  public static final String CHAT_DELIVERIES = "pulse.chat.deliveries";
  public static final String CHAT_REORDERED = "pulse.chat.messages.reordered";
  public static final String CHAT_ACTIVE_USERS = "pulse.chat.active.users";
  public static final String CHAT_MESSAGES_PER_MINUTE = "pulse.chat.messages.per.minute";
  public static final String CHAT_RESPONSE_TIME = "pulse.chat.response.time.average";
  public static final String CHAT_ERROR_RATIO = "pulse.chat.error.ratio";
  public static final String CHAT_OPTIMIZER_ACTIONS = "pulse.chat.optimizer.actions";
  public static final String CHAT_PENDING_FRAMES = "pulse.chat.pending.frames";
  public static final String CHAT_BACKLOG_TRIMMED = "pulse.chat.backlog.trimmed.messages";

  // ingest (HTTP and the TCP bridge)
  public static final String INGEST_ACCEPTED = "pulse.ingest.accepted";
  public static final String INGEST_REJECTED = "pulse.ingest.rejected";

  private MeterNames() {
  }
}
