package com.chatroom.pulse.config;

import java.util.List;

/**
 * The chat gateway at {@code WS /chat}. Identity is required by default: with neither a JWT key nor
 * {@code allow_anonymous}, every connection is refused with a message saying which setting to change.
 *
 * @param jwtSecret            HS256 shared secret (at least 32 bytes); empty: not used
 * @param jwtPublicKey         PEM public key (RS256, or ES256 with {@code jwtAlgorithm}); empty: not used
 * @param jwtAlgorithm         algorithm of {@code jwtPublicKey}
 * @param jwtIssuer            required {@code iss} claim; empty: not checked
 * @param jwtAudience          required {@code aud} claim; empty: not checked
 * @param allowAnonymous       accept {@code ?nickname=} without a token
 * @param allowedOrigins       browser origins allowed; empty: same origin only; clients without Origin always pass
 * @param maxConnections       node-wide cap; the next one is closed with 1013
 * @param maxConnectionsPerIp  per remote address on this node; the next one is closed with 1008
 * @param maxMessageChars      longest chat text, in characters
 * @param messagesPerSecond    inbound frames per second per connection (token bucket refill)
 * @param burst                token bucket size
 * @param writeQueueBytes      bounded outbound queue per connection; a client that fills it is disconnected (4000)
 * @param historySize          messages kept per room (Redis stream MAXLEN, or the in-memory ring)
 * @param joinHistory          messages replayed on a join without {@code since}
 * @param maxRooms             rooms this node tracks (in memory: oldest idle room's history is evicted beyond it)
 * @param maxRoomsPerConnection rooms one connection may be in
 * @param presenceListMax      rooms up to this many members get the member list in presence frames, larger a count
 * @param presenceBatchMs      join/leave events are batched per room for this long
 * @param dedupSeconds         how long a client message id is remembered for de-duplication
 * @param metricsIntervalMs    how often ApplicationMetrics are published on metrics.app
 * @param opsRoom              room that receives critical alert notices; only tokens with the admin role may join it
 * @param adminRole            the JWT {@code roles} entry that grants the ops room
 * @param postTimeoutMs        edge → room registry request timeout
 * @param maxPendingFrames     room frames sequenced but not yet written out by every edge instance; at this many,
 *                             new messages are refused ({@code overloaded}) until the edges catch up
 */
public record ChatConfig(String jwtSecret, String jwtPublicKey, String jwtAlgorithm, String jwtIssuer, String jwtAudience,
                         boolean allowAnonymous, List<String> allowedOrigins, int maxConnections, int maxConnectionsPerIp,
                         int maxMessageChars, double messagesPerSecond, int burst, int writeQueueBytes, int historySize,
                         int joinHistory, int maxRooms, int maxRoomsPerConnection, int presenceListMax, long presenceBatchMs,
                         long dedupSeconds, long metricsIntervalMs, String opsRoom, String adminRole, long postTimeoutMs,
                         int maxPendingFrames) {

  /** True when some identity is configured: a JWT key, or anonymous access. */
  public boolean identityConfigured() {
    return !jwtSecret.isEmpty() || !jwtPublicKey.isEmpty() || allowAnonymous;
  }

  @Override
  public String toString() {
    return "ChatConfig[jwt=" + (jwtSecret.isEmpty() ? jwtPublicKey.isEmpty() ? "off" : jwtAlgorithm : "HS256")
      + ", anonymous=" + allowAnonymous + ", maxConnections=" + maxConnections + ", historySize=" + historySize + "]";
  }

  static ChatConfig read(ConfigReader r) {
    String secret = r.string("jwt_secret", "");
    if (!secret.isEmpty() && secret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
      throw new ConfigException(r.key("jwt_secret"), "must be at least 32 bytes for HS256 (or empty)");
    }
    String publicKey = r.string("jwt_public_key", "");
    if (!publicKey.isEmpty() && !publicKey.contains("BEGIN PUBLIC KEY")) {
      throw new ConfigException(r.key("jwt_public_key"), "must be a PEM public key (-----BEGIN PUBLIC KEY-----...)");
    }
    String algorithm = r.string("jwt_algorithm", "RS256");
    if (!List.of("RS256", "RS384", "RS512", "ES256", "ES384", "ES512").contains(algorithm)) {
      throw new ConfigException(r.key("jwt_algorithm"), "must be RS256/384/512 or ES256/384/512, got '" + algorithm + "'");
    }
    String opsRoom = r.string("ops_room", "ops");
    if (!opsRoom.matches(ROOM_PATTERN)) {
      throw new ConfigException(r.key("ops_room"), "must be 1-64 letters, digits, '.', '_' or '-'");
    }
    ChatConfig config = new ChatConfig(secret, publicKey, algorithm, r.string("jwt_issuer", ""), r.string("jwt_audience", ""),
      r.bool("allow_anonymous", false),
      r.strings("allowed_origins", List.of(), 256),
      r.integer("max_connections", 20000, 0, 1_000_000),
      r.integer("max_connections_per_ip", 200, 1, 1_000_000),
      r.integer("max_message_chars", 2000, 1, 100_000),
      r.number("messages_per_second", 5, 0.1, 10_000),
      r.integer("burst", 20, 1, 100_000),
      r.integer("write_queue_bytes", 262144, 1024, 64 * 1024 * 1024),
      r.integer("history_size", 200, 1, 100_000),
      r.integer("join_history", 20, 0, 100_000),
      r.integer("max_rooms", 10000, 1, 1_000_000),
      r.integer("max_rooms_per_connection", 32, 1, 10_000),
      r.integer("presence_list_max", 100, 0, 10_000),
      r.integer("presence_batch_ms", 500L, 10, 60_000),
      r.integer("dedup_seconds", 600L, 1, 86_400),
      r.integer("metrics_interval_ms", 5000L, 100, 3_600_000),
      opsRoom, r.string("admin_role", "admin"),
      r.integer("post_timeout_ms", 5000L, 100, 60_000),
      r.integer("max_pending_frames", 10_000, 0, 10_000_000));
    r.rejectUnknown();
    return config;
  }

  /** Room names: short, safe in Redis keys and bus addresses. */
  public static final String ROOM_PATTERN = "[A-Za-z0-9._-]{1,64}";
}
