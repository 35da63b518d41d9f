package com.chatroom.pulse.config;

import java.util.List;

/**
 * The live stream at {@code /metrics/stream}.
 *
 * @param maxSubscribers        node-wide cap; the next subscriber is closed with 1013 (try again later)
 * @param maxInboundFrameBytes  largest client frame the stream reads; bigger ones get an error frame
 * @param allowedOrigins        browser origins allowed to connect; empty means same-origin only. Clients that send
 *                              no Origin (not browsers) are always allowed
 * @param writeQueueBytes       per-subscriber outbound buffer; when full, samples are coalesced to the newest
 * @param inboundPerSecond      client frames per second a subscriber may send (token bucket refill)
 * @param inboundBurst          token bucket size
 * @param maxPendingEvents      per slow subscriber, events (alerts, actions) held while its queue is full; oldest go first
 */
public record StreamConfig(int maxSubscribers, int maxInboundFrameBytes, List<String> allowedOrigins,
                           int writeQueueBytes, double inboundPerSecond, int inboundBurst, int maxPendingEvents) {

  static StreamConfig read(ConfigReader r) {
    StreamConfig config = new StreamConfig(
      r.integer("max_subscribers", 20000, 0, 1_000_000),
      r.integer("max_inbound_frame_bytes", 4096, 64, 1024 * 1024),
      r.strings("allowed_origins", List.of(), 256),
      r.integer("write_queue_bytes", 65536, 1024, 64 * 1024 * 1024),
      r.number("inbound_per_second", 10, 0.1, 10_000),
      r.integer("inbound_burst", 20, 1, 100_000),
      r.integer("max_pending_events", 64, 1, 100_000));
    r.rejectUnknown();
    return config;
  }
}
