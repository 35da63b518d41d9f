package com.chatroom.pulse.config;

import io.vertx.core.json.JsonObject;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.Set;

/**
 * The whole configuration, typed. Built from the merged document of {@link ConfigLoader}; each verticle is handed
 * its own part.
 *
 * @param instanceId this node's name in every sample and event (INSTANCE_ID, else the host name)
 */
public record PulseConfig(String instanceId, HttpConfig http, RedisConfig redis, SamplerConfig sampler, StreamConfig stream,
                          HistoryConfig history, AlertsConfig alerts, OptimizerConfig optimizer, ChatConfig chat,
                          BridgeConfig bridge) {

  /** Top-level keys of the config document. */
  static final Set<String> SECTIONS = Set.of("instance_id", "http", "redis", "sampler", "stream", "history", "alerts",
    "optimizer", "chat", "bridge");

  /**
   * Environment variables Pulse reads, and the config key each one overrides. Lists are comma-separated.
   * LOG_LEVEL is read by the logging configuration directly.
   */
  public static final Map<String, String> ENVIRONMENT = Map.ofEntries(
    Map.entry("INSTANCE_ID", "instance_id"),
    Map.entry("HTTP_HOST", "http.host"),
    Map.entry("HTTP_PORT", "http.port"),
    Map.entry("HTTP_INSTANCES", "http.instances"),
    Map.entry("HTTP_UPGRADE_RATE", "http.upgrade_rate"),
    Map.entry("HTTP_WARMUP_CONNECTIONS", "http.warmup_connections"),
    Map.entry("PULSE_ADMIN_TOKEN", "http.admin_token"),
    Map.entry("PULSE_INGEST_TOKEN", "http.ingest_token"),
    Map.entry("PULSE_DASHBOARD_TOKEN", "http.dashboard_token"),
    Map.entry("REDIS_URL", "redis.url"),
    Map.entry("SAMPLER_ENABLED", "sampler.enabled"),
    Map.entry("SAMPLER_INTERVAL_MS", "sampler.interval_ms"),
    Map.entry("SAMPLER_MOUNTS", "sampler.mounts"),
    Map.entry("STREAM_MAX_SUBSCRIBERS", "stream.max_subscribers"),
    Map.entry("STREAM_ALLOWED_ORIGINS", "stream.allowed_origins"),
    Map.entry("ALERTS_ENABLED", "alerts.enabled"),
    Map.entry("ALERTS_EXTERNAL_URL", "alerts.external_url"),
    Map.entry("OPTIMIZER_ENABLED", "optimizer.enabled"),
    Map.entry("OPTIMIZER_DRY_RUN", "optimizer.dry_run"),
    Map.entry("CHAT_JWT_SECRET", "chat.jwt_secret"),
    Map.entry("CHAT_JWT_PUBLIC_KEY", "chat.jwt_public_key"),
    Map.entry("CHAT_JWT_ISSUER", "chat.jwt_issuer"),
    Map.entry("CHAT_ALLOW_ANONYMOUS", "chat.allow_anonymous"),
    Map.entry("CHAT_ALLOWED_ORIGINS", "chat.allowed_origins"),
    Map.entry("CHAT_MAX_CONNECTIONS", "chat.max_connections"),
    Map.entry("CHAT_MAX_CONNECTIONS_PER_IP", "chat.max_connections_per_ip"),
    Map.entry("CHAT_HISTORY_SIZE", "chat.history_size"),
    Map.entry("BRIDGE_ENABLED", "bridge.enabled"),
    Map.entry("BRIDGE_PORT", "bridge.port"));

  /**
   * Reads and validates a merged config document (sections only; overrides already applied).
   *
   * @throws ConfigException naming the first bad key
   */
  public static PulseConfig from(JsonObject document) {
    for (String key : document.fieldNames()) {
      if (!SECTIONS.contains(key)) {
        throw new ConfigException(key, "unknown key (known top-level keys: " + String.join(", ", new java.util.TreeSet<>(SECTIONS)) + ")");
      }
    }
    ConfigReader root = new ConfigReader(document, "");
    String instance = root.string("instance_id", "");
    if (instance.isEmpty()) {
      instance = hostName();
    }
    if (instance.length() > 253 || !instance.matches("[A-Za-z0-9._:-]+")) {
      throw new ConfigException("instance_id", "must be 1-253 characters of letters, digits, '.', '_', ':' or '-', got '" + instance + "'");
    }
    return new PulseConfig(instance,
      HttpConfig.read(ConfigReader.section(document, "http", "")),
      RedisConfig.read(ConfigReader.section(document, "redis", "")),
      SamplerConfig.read(ConfigReader.section(document, "sampler", "")),
      StreamConfig.read(ConfigReader.section(document, "stream", "")),
      HistoryConfig.read(ConfigReader.section(document, "history", "")),
      AlertsConfig.read(ConfigReader.section(document, "alerts", "")),
      OptimizerConfig.read(ConfigReader.section(document, "optimizer", "")),
      ChatConfig.read(ConfigReader.section(document, "chat", "")),
      BridgeConfig.read(ConfigReader.section(document, "bridge", "")));
  }

  private static String hostName() {
    String fromEnv = System.getenv("HOSTNAME");
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv.trim();
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }
}
