package com.chatroom.pulse.config;

import io.vertx.redis.client.ProtocolVersion;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;

import java.net.URI;

/**
 * Where shared state lives. No URL means no Redis: history and alert state stay in this process's memory.
 *
 * @param url            {@code redis://[:password@]host:port[/db]}; empty disables Redis
 * @param maxPoolSize    connections per client
 * @param maxPoolWaiting requests allowed to wait for a pooled connection before failing fast
 */
public record RedisConfig(String url, int maxPoolSize, int maxPoolWaiting) {

  public boolean enabled() {
    return !url.isEmpty();
  }

  /** Client options: pooled, RESP2 (flat replies for scored commands), bounded waiting queue. */
  public RedisOptions options() {
    return new RedisOptions()
      .setType(RedisClientType.STANDALONE)
      .setConnectionString(url)
      .setPreferredProtocolVersion(ProtocolVersion.RESP2)
      .setMaxPoolSize(maxPoolSize)
      .setMaxPoolWaiting(maxPoolWaiting)
      .setMaxWaitingHandlers(4096);
  }

  /** The URL with any password masked, for logs. */
  public String redactedUrl() {
    return url.replaceAll("//([^@/]*)@", "//***@");
  }

  @Override
  public String toString() {
    return "RedisConfig[url=" + redactedUrl() + ", maxPoolSize=" + maxPoolSize + ", maxPoolWaiting=" + maxPoolWaiting + "]";
  }

  static RedisConfig read(ConfigReader r) {
    String url = r.string("url", "");
    if (!url.isEmpty()) {
      try {
        URI uri = URI.create(url);
        if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme()) || uri.getHost() == null) {
          throw new IllegalArgumentException("scheme and host");
        }
      } catch (IllegalArgumentException e) {
        throw new ConfigException(r.key("url"), "must look like redis://host:6379 (or rediss:// for TLS), got '"
          + url.replaceAll("//([^@/]*)@", "//***@") + "'");
      }
    }
    RedisConfig config = new RedisConfig(url, r.integer("max_pool_size", 8, 1, 256), r.integer("max_pool_waiting", 8192, 1, 100_000));
    r.rejectUnknown();
    return config;
  }
}
