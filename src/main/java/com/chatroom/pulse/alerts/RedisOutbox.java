package com.chatroom.pulse.alerts;

import com.chatroom.pulse.metrics.MeterNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The outbox in Redis: one hash per channel, {@code pulse:alerts:outbox:<channel>}, field = the notification's
 * idempotency key, value = the notification with a sequence number that orders the channel's entries. Keyed by the
 * change, so replicas that queue the same change share one entry ({@code HSETNX}), and whichever of them delivers it
 * removes it. Entries older than {@code dedupe_ttl} are dropped at load: their claims are forgotten, so sending them
 * could repeat what was already sent. Used only on the alert verticle's context.
 */
final class RedisOutbox implements Outbox {

  private static final Logger LOG = LoggerFactory.getLogger(RedisOutbox.class);
  static final String PREFIX = "pulse:alerts:outbox:";

  private final Redis redis;
  private final long maxAgeMs;
  private final MeterRegistry registry;
  /** The last write per entry, so its removal is sent only after it landed (the pool may use two connections). */
  private final Map<String, Future<?>> inFlight = new HashMap<>();
  private long seq;

  RedisOutbox(Redis redis, long maxAgeMs, MeterRegistry registry) {
    this.redis = redis;
    this.maxAgeMs = maxAgeMs;
    this.registry = registry;
  }

  /** Microseconds of wall time, kept strictly increasing: orders entries within a run and across restarts. */
  private long nextSeq() {
    seq = Math.max(System.currentTimeMillis() * 1000, seq + 1);
    return seq;
  }

  @Override
  public void add(String channel, Notification n) {
    String value = n.toStored(nextSeq(), System.currentTimeMillis()).encode();
    track(channel, n.key(), () -> redis.send(Request.cmd(Command.HSETNX).arg(PREFIX + channel).arg(n.key()).arg(value)), "outbox_add");
  }

  @Override
  public void remove(String channel, String key) {
    track(channel, key, () -> redis.send(Request.cmd(Command.HDEL).arg(PREFIX + channel).arg(key)), "outbox_remove");
  }

  private void track(String channel, String key, java.util.function.Supplier<Future<Response>> write, String op) {
    String id = channel + '\u0000' + key;
    Future<?> before = inFlight.getOrDefault(id, Future.succeededFuture());
    Future<Response> after = before.transform(ar -> write.get());
    after.onFailure(e -> error(op, e));
    inFlight.put(id, after);
    after.onComplete(ar -> inFlight.remove(id, after));
  }

  private void error(String op, Throwable e) {
    Counter.builder(MeterNames.ALERTS_STORE_ERRORS).description("Failed reads and writes of shared alert state (Redis)")
      .tag("op", op).register(registry).increment();
    LOG.warn("Could not {} a notification in the Redis outbox ({}); it is still queued in memory", op.substring(7), e.getMessage());
  }

  @Override
  public Future<Map<String, List<Notification>>> load(List<String> channels) {
    if (channels.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    List<Request> reads = channels.stream().map(c -> Request.cmd(Command.HGETALL).arg(PREFIX + c)).toList();
    return redis.batch(reads).map(responses -> {
      long oldest = System.currentTimeMillis() - maxAgeMs;
      Map<String, List<Notification>> byChannel = new LinkedHashMap<>();
      for (int i = 0; i < channels.size(); i++) {
        String channel = channels.get(i);
        List<JsonObject> entries = new ArrayList<>();
        Response hash = responses.get(i);
        if (hash != null) {
          for (String key : hash.getKeys()) {
            try {
              JsonObject entry = new JsonObject(hash.get(key).toString());
              if (entry.getLong("queued_at_ms", 0L) < oldest) {
                remove(channel, key);
              } else {
                entries.add(entry);
              }
            } catch (RuntimeException e) {
              LOG.warn("Dropping an unreadable outbox entry {} of channel {}: {}", key, channel, e.toString());
              remove(channel, key);
            }
          }
        }
        entries.sort(Comparator.comparingLong(e -> e.getLong("seq", 0L)));
        List<Notification> queued = new ArrayList<>();
        for (JsonObject entry : entries) {
          try {
            queued.add(Notification.fromStored(entry));
          } catch (RuntimeException e) {
            LOG.warn("Dropping an unreadable outbox entry of channel {}: {}", channel, e.toString());
            remove(channel, entry.getString("key", ""));
          }
        }
        byChannel.put(channel, queued);
      }
      return byChannel;
    });
  }

  @Override
  public Future<Void> close() {
    return Future.join(new ArrayList<>(inFlight.values())).otherwiseEmpty().mapEmpty();
  }
}
