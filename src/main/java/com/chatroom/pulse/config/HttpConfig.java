package com.chatroom.pulse.config;

/**
 * The HTTP edge: one server shared by {@code instances} verticle instances (one per event loop).
 *
 * @param host          interface to bind
 * @param port          port for HTTP, WebSockets, /metrics and the probes
 * @param instances     edge verticle instances; each owns the sockets it accepts and fans out to them
 * @param maxFrameBytes largest inbound WebSocket frame or message; bigger ones are closed with 1009
 * @param adminToken    bearer token for admin routes (silences, acknowledgements, overrides); empty disables them
 * @param ingestToken   bearer token for ingest routes (POST /api/metrics/app); empty disables them
 * @param dashboardToken token for the dashboard, the stream and the read API (a login form sets a cookie); empty
 *                       leaves them open, as they were
 * @param upgradeRate   WebSocket upgrades a second each edge instance lets go ahead at most once its burst is spent;
 *                       the others wait their turn, let through by batches sized to what the event loop has to spare
 *                       (0: no gate)
 * @param upgradeBurst  upgrades an instance lets go ahead at once, without waiting, after a quiet spell
 * @param upgradeQueue  upgrades that may wait per instance; past that one is refused with 503
 * @param warmupConnections loopback WebSocket connects the node makes to itself at start-up, before it is ready, so
 *                       a connect storm does not meet its handshake paths cold (0: none)
 */
public record HttpConfig(String host, int port, int instances, int maxFrameBytes, String adminToken, String ingestToken,
                         String dashboardToken, int upgradeRate, int upgradeBurst, int upgradeQueue,
                         int warmupConnections) {

  /** Secrets never appear in logs or toString. */
  @Override
  public String toString() {
    return "HttpConfig[host=" + host + ", port=" + port + ", instances=" + instances + ", maxFrameBytes=" + maxFrameBytes
      + ", adminToken=" + (adminToken.isEmpty() ? "unset" : "***") + ", ingestToken=" + (ingestToken.isEmpty() ? "unset" : "***")
      + ", dashboardToken=" + (dashboardToken.isEmpty() ? "unset" : "***") + ", upgradeRate=" + upgradeRate
      + ", upgradeBurst=" + upgradeBurst + ", upgradeQueue=" + upgradeQueue + ", warmupConnections=" + warmupConnections + "]";
  }

  static HttpConfig read(ConfigReader r) {
    int cores = Runtime.getRuntime().availableProcessors();
    HttpConfig config = new HttpConfig(
      r.string("host", "0.0.0.0"),
      r.integer("port", 8888, 0, 65535),
      resolveInstances(r.integer("instances", 0, 0, 256), cores),
      r.integer("max_frame_bytes", 65536, 256, 16 * 1024 * 1024),
      token(r, "admin_token"),
      token(r, "ingest_token"),
      token(r, "dashboard_token"),
      r.integer("upgrade_rate", 1000, 0, 1_000_000),
      r.integer("upgrade_burst", 50, 1, 1_000_000),
      r.integer("upgrade_queue", 10_000, 0, 1_000_000),
      r.integer("warmup_connections", 2000, 0, 100_000));
    r.rejectUnknown();
    return config;
  }

  private static String token(ConfigReader r, String name) {
    String token = r.string(name, "");
    if (!token.isEmpty() && token.length() < 16) {
      throw new ConfigException(r.key(name), "must be at least 16 characters (or empty to disable the routes it guards)");
    }
    return token;
  }

  private static int resolveInstances(int configured, int cores) {
    return configured == 0 ? cores : configured;
  }
}
