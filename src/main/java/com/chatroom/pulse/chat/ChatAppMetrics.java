package com.chatroom.pulse.chat;

import com.chatroom.pulse.bus.ApplicationMetrics;
import com.chatroom.pulse.metrics.MeterNames;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.ArrayDeque;

/**
 * The gateway's own health as an {@link ApplicationMetrics} sample, every {@code chat.metrics_interval_ms}, and the same
 * figures as gauges in {@code /metrics}:
 * <ul>
 *   <li>{@code active_users}: distinct users connected to this node;</li>
 *   <li>{@code total_messages}: messages sequenced on this node since it started (re-sent duplicates not counted);</li>
 *   <li>{@code messages_per_minute}: of those, the ones in the last 60 s;</li>
 *   <li>{@code response_time_avg}: mean time from an edge receiving a message to that edge having written it to its
 *       members in the room, over the interval, in ms (0 when no message was fanned out);</li>
 *   <li>{@code error_rate}: client frames answered with an error over client frames received, over the interval.</li>
 * </ul>
 * The seed's other fields are not the gateway's to measure and stay 0. Registry context only.
 */
final class ChatAppMetrics {

  private final ChatNode node;
  private final String instance;
  private long total;
  /** (time ms, total) at each sample of the last minute, for messages_per_minute. */
  private final ArrayDeque<long[]> minute = new ArrayDeque<>();
  private long lastFrames;
  private long lastRejected;
  private long lastFanoutNanos;
  private long lastFanoutCount;
  private volatile ApplicationMetrics latest;

  ChatAppMetrics(ChatNode node, MeterRegistry registry, String instance, long startMs) {
    this.node = node;
    this.instance = instance;
    this.latest = new ApplicationMetrics(startMs / 1000d, 0, 0, 0, 0, 0, 0, 0, 0, instance, "chat-gateway");
    minute.add(new long[] {startMs, 0});
    Gauge.builder(MeterNames.CHAT_ACTIVE_USERS, node.users, java.util.Map::size)
      .description("Distinct users connected to the chat gateway on this node").register(registry);
    Gauge.builder(MeterNames.CHAT_CONNECTIONS, node.connections, java.util.concurrent.atomic.AtomicInteger::get)
      .description("Open chat WebSocket connections on this node").register(registry);
    Gauge.builder(MeterNames.CHAT_MESSAGES_PER_MINUTE, this, m -> m.latest.messagesPerMinute())
      .description("Chat messages sequenced on this node in the last minute, as last published on metrics.app").register(registry);
    Gauge.builder(MeterNames.CHAT_RESPONSE_TIME, this, m -> m.latest.responseTimeAvg() / 1000d).baseUnit("seconds")
      .description("Mean time from receipt to fan-out over the last metrics interval, as last published on metrics.app").register(registry);
    Gauge.builder(MeterNames.CHAT_ERROR_RATIO, this, m -> m.latest.errorRate())
      .description("Client frames refused over frames received in the last metrics interval (0-1)").register(registry);
    Gauge.builder(MeterNames.CHAT_PENDING_FRAMES, node.pendingFrames, java.util.concurrent.atomic.AtomicLong::get)
      .description("Room events handed to the edge instances and not yet written out, counted once per instance").register(registry);
    FunctionCounter.builder(MeterNames.CHAT_DELIVERIES, node.deliveries, java.util.concurrent.atomic.LongAdder::sum)
      .description("Chat messages written live to members' sockets (presence and history replays not counted)").register(registry);
  }

  private long secondOldest() {
    var it = minute.iterator();
    it.next();
    return it.next()[0];
  }

  void accepted() {
    total++;
  }

  ApplicationMetrics sample(long nowMs) {
    minute.addLast(new long[] {nowMs, total});
    // the baseline is the newest snapshot at least a minute old (in the first minute: zero, taken at start-up)
    while (minute.size() > 1 && secondOldest() <= nowMs - 60_000) {
      minute.pollFirst();
    }
    long perMinute = total - minute.peekFirst()[1];
    long frames = node.framesReceived.sum();
    long rejected = node.framesRejected.sum();
    long fanoutNanos = node.fanoutNanos.sum();
    long fanoutCount = node.fanoutCount.sum();
    long dFrames = frames - lastFrames;
    long dRejected = rejected - lastRejected;
    long dCount = fanoutCount - lastFanoutCount;
    double responseMs = dCount == 0 ? 0 : (fanoutNanos - lastFanoutNanos) / 1e6 / dCount;
    double errorRate = dFrames == 0 ? 0 : Math.min(1, (double) dRejected / dFrames);
    lastFrames = frames;
    lastRejected = rejected;
    lastFanoutNanos = fanoutNanos;
    lastFanoutCount = fanoutCount;
    latest = new ApplicationMetrics(nowMs / 1000d, node.users.size(), total, perMinute, 0, 0, 0,
      Math.round(responseMs * 1000) / 1000d, Math.round(errorRate * 10000) / 10000d, instance, "chat-gateway");
    return latest;
  }
}
