package com.chatroom.pulse.config;

/**
 * The TCP event-bus bridge for non-JVM services: inbound only, to {@code metrics.app}.
 *
 * @param enabled        listen at all (off by default: it is an ingest port, open it on purpose)
 * @param host           interface to bind
 * @param port           TCP port (7000 by default)
 * @param maxFrameBytes  largest frame a client may declare; a bigger one is answered with an error and the socket closed
 * @param idleTimeoutSeconds a socket silent this long is closed
 * @param maxConnections node-wide cap on bridge sockets
 */
public record BridgeConfig(boolean enabled, String host, int port, int maxFrameBytes, int idleTimeoutSeconds, int maxConnections) {

  static BridgeConfig read(ConfigReader r) {
    BridgeConfig config = new BridgeConfig(
      r.bool("enabled", false),
      r.string("host", "0.0.0.0"),
      r.integer("port", 7000, 0, 65535),
      r.integer("max_frame_bytes", 65536, 64, 16 * 1024 * 1024),
      r.integer("idle_timeout_seconds", 300, 1, 86_400),
      r.integer("max_connections", 1000, 1, 100_000));
    r.rejectUnknown();
    return config;
  }
}
