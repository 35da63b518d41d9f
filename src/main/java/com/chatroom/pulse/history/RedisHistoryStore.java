package com.chatroom.pulse.history;

import com.chatroom.pulse.bus.InvalidMessageException;
import com.chatroom.pulse.bus.PulseMessage;
import com.chatroom.pulse.config.HistoryConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * History in Redis, shared by every node. Keys (for kind k, instance i):
 * <ul>
 *   <li>{@code pulse:hist:k:i:raw:<hour start>}: sorted set of raw sample JSON scored by timestamp, one per hour;</li>
 *   <li>{@code pulse:hist:k:i:min:<day start>}: hash {@code <minute start>:<metric>} → encoded stat, one per day;</li>
 *   <li>{@code pulse:hist:k:i:hour:<10-day start>}: hash {@code <hour start>:<metric>} → encoded stat;</li>
 *   <li>{@code pulse:hist:k:instances}: sorted set of instances scored by last sample time.</li>
 * </ul>
 * Every bucket key gets {@code EXPIREAT} at (bucket end + retention), so Redis itself removes old history: no scans,
 * and a node that dies leaves nothing behind for longer than the retention.
 */
final class RedisHistoryStore implements HistoryStore {

  private static final long DAY = 86400;
  private static final long HOUR_BUCKET = 10 * DAY;

  private final Redis client;
  private final HistoryConfig config;
  private final WriteBuffer buffer;

  RedisHistoryStore(Vertx vertx, Redis client, HistoryConfig config) {
    this.client = client;
    this.config = config;
    this.buffer = new WriteBuffer(vertx, client, config.bufferOperations());
  }

  static String key(Kind kind, String instance, String tier, long bucket) {
    return "pulse:hist:" + kind.wireName() + ":" + instance + ":" + tier + ":" + bucket;
  }

  private static String instancesKey(Kind kind) {
    return "pulse:hist:" + kind.wireName() + ":instances";
  }

  @Override
  public Future<Void> append(Kind kind, PulseMessage sample) {
    double ts = Kind.timestampOf(sample);
    String instance = Kind.instanceOf(sample);
    long hour = Tier.floor(ts, 3600);
    String rawKey = key(kind, instance, "raw", hour);
    String indexKey = instancesKey(kind);
    return buffer.write(List.of(
      Request.cmd(Command.ZADD).arg(rawKey).arg(Double.toString(ts)).arg(sample.toJson().encode()),
      Request.cmd(Command.EXPIREAT).arg(rawKey).arg(hour + 3600 + config.rawRetentionSeconds()),
      Request.cmd(Command.ZADD).arg(indexKey).arg(Double.toString(ts)).arg(instance),
      Request.cmd(Command.ZREMRANGEBYSCORE).arg(indexKey).arg("-inf").arg(Double.toString(ts - config.hourRetentionSeconds()))));
  }

  @Override
  public Future<Void> rollup(Kind kind, String instance, long minuteStart) {
    return buffer.run(() -> readRaw(kind, instance, minuteStart, minuteStart + 60, true, Integer.MAX_VALUE)
      .compose(samples -> samples.isEmpty() ? Future.succeededFuture() : writeMinute(kind, instance, minuteStart, samples))
      .compose(v -> rollupHour(kind, instance, Tier.floor(minuteStart, 3600))));
  }

  private Future<?> writeMinute(Kind kind, String instance, long minuteStart, List<PulseMessage> samples) {
    long day = Tier.floor(minuteStart, DAY);
    String minKey = key(kind, instance, "min", day);
    return client.batch(List.of(
      hset(minKey, minuteStart, Rollup.of(kind, minuteStart, samples)),
      Request.cmd(Command.EXPIREAT).arg(minKey).arg(day + DAY + config.minuteRetentionSeconds())));
  }

  /** One HSET with a field per metric, so a one-metric query reads only that metric. */
  private static Request hset(String key, long start, Rollup rollup) {
    Request hset = Request.cmd(Command.HSET).arg(key);
    rollup.encode().forEach((metric, stat) -> hset.arg(start + ":" + metric).arg(stat));
    return hset;
  }

  private Future<?> rollupHour(Kind kind, String instance, long hourStart) {
    return rollups(kind, instance, Tier.MINUTE, hourStart, hourStart + 3600, null).compose(minutes -> {
      if (minutes.isEmpty()) {
        return Future.succeededFuture();
      }
      Rollup hour = new Rollup(hourStart);
      minutes.forEach(hour::merge);
      long bucket = Tier.floor(hourStart, HOUR_BUCKET);
      String hourKey = key(kind, instance, "hour", bucket);
      return client.batch(List.of(
        hset(hourKey, hourStart, hour),
        Request.cmd(Command.EXPIREAT).arg(hourKey).arg(bucket + HOUR_BUCKET + config.hourRetentionSeconds())));
    });
  }

  @Override
  public Future<List<PulseMessage>> raw(Kind kind, String instance, double from, double to, int limit) {
    return readRaw(kind, instance, from, to, false, limit);
  }

  /** Raw samples in [from, to] (or [from, to) when {@code exclusiveEnd}), across the hourly keys that hold them. */
  private Future<List<PulseMessage>> readRaw(Kind kind, String instance, double from, double to, boolean exclusiveEnd, int limit) {
    List<Request> requests = new ArrayList<>();
    String max = (exclusiveEnd ? "(" : "") + to;
    for (long hour = Tier.floor(from, 3600); hour <= to; hour += 3600) {
      requests.add(Request.cmd(Command.ZRANGEBYSCORE).arg(key(kind, instance, "raw", hour)).arg(Double.toString(from)).arg(max));
    }
    if (requests.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    return client.batch(requests).map(responses -> {
      List<PulseMessage> out = new ArrayList<>();
      for (Response r : responses) {
        if (r == null) {
          continue;
        }
        for (Response member : r) {
          if (out.size() >= limit) {
            return out;
          }
          try {
            out.add(kind.parse(member.toString()));
          } catch (InvalidMessageException e) {
            // a sample written by an incompatible version: skip it rather than fail the whole query
          }
        }
      }
      return out;
    });
  }

  @Override
  public Future<List<Rollup>> rollups(Kind kind, String instance, Tier tier, long from, long to, Set<String> only) {
    if (from >= to) {
      return Future.succeededFuture(List.of());
    }
    List<String> metrics = only == null ? List.copyOf(kind.metricNames()) : List.copyOf(only);
    long bucketSize = tier == Tier.HOUR ? HOUR_BUCKET : DAY;
    String tierName = tier == Tier.HOUR ? "hour" : "min";
    long first = ((from + tier.seconds - 1) / tier.seconds) * tier.seconds;
    List<Request> requests = new ArrayList<>();
    List<List<Long>> fieldsPerRequest = new ArrayList<>();
    for (long bucket = Tier.floor(first, bucketSize); bucket < to; bucket += bucketSize) {
      Request hmget = Request.cmd(Command.HMGET).arg(key(kind, instance, tierName, bucket));
      List<Long> fields = new ArrayList<>();
      for (long t = Math.max(first, bucket); t < Math.min(to, bucket + bucketSize); t += tier.seconds) {
        for (String metric : metrics) {
          hmget.arg(t + ":" + metric);
        }
        fields.add(t);
      }
      if (!fields.isEmpty()) {
        requests.add(hmget);
        fieldsPerRequest.add(fields);
      }
    }
    if (requests.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    return client.batch(requests).map(responses -> {
      List<Rollup> out = new ArrayList<>();
      for (int i = 0; i < responses.size(); i++) {
        Response values = responses.get(i);
        List<Long> fields = fieldsPerRequest.get(i);
        for (int j = 0; j < fields.size(); j++) {
          Rollup rollup = null;
          for (int m = 0; m < metrics.size(); m++) {
            Response value = values == null ? null : values.get(j * metrics.size() + m);
            if (value != null) {
              if (rollup == null) {
                rollup = new Rollup(fields.get(j));
              }
              rollup.put(metrics.get(m), value.toString());
            }
          }
          if (rollup != null) {
            out.add(rollup);
          }
        }
      }
      return out;
    });
  }

  @Override
  public Future<List<String>> instances(Kind kind) {
    return client.send(Request.cmd(Command.ZREVRANGE).arg(instancesKey(kind)).arg(0).arg(-1)).map(r -> {
      List<String> names = new ArrayList<>();
      if (r != null) {
        r.forEach(member -> names.add(member.toString()));
      }
      return names;
    });
  }

  @Override
  public String backend() {
    return "redis";
  }

  @Override
  public JsonObject health() {
    return buffer.health().put("backend", backend());
  }

  WriteBuffer buffer() {
    return buffer;
  }

  @Override
  public Future<Void> close() {
    return buffer.drain(2000).eventually(() -> {
      if (buffer.size() > 0) {
        org.slf4j.LoggerFactory.getLogger(RedisHistoryStore.class)
          .warn("Closing history with {} writes still buffered: Redis did not take them in time", buffer.size());
      }
      buffer.close();
      return client.close();
    });
  }
}
