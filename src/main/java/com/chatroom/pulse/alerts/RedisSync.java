package com.chatroom.pulse.alerts;

import com.chatroom.pulse.metrics.MeterNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Silences and acknowledgements shared through Redis, so that nodes sharing only Redis (no clustered event bus) agree
 * on them. Redis holds the truth: a silence is in {@code pulse:alerts:silences}, an acknowledgement in
 * {@code pulse:alerts:acks} (field {@code rule|instance}, value naming the firing episode), both written before the
 * API answers. Each change is also published on the Redis channel {@code pulse:alerts:sync}, which every node
 * subscribes to (on a connection of its own, re-subscribed after a loss), so peers apply it at once. Pub/sub is
 * fire-and-forget, so before sending, a channel asks {@link #suppressedBy} what Redis holds now: a peer's silence or
 * acknowledgement this node has not heard of yet still stops the notification, and is applied here as well.
 * Used only on the alert verticle's context.
 */
final class RedisSync implements Gate {

  private static final Logger LOG = LoggerFactory.getLogger(RedisSync.class);
  static final String CHANNEL = "pulse:alerts:sync";
  static final String ACKS = "pulse:alerts:acks";
  /** First and longest wait before subscribing again: a Redis away for long costs a log line every 30 s, not every second. */
  private static final long RESUBSCRIBE_MS = 1000;
  private static final long RESUBSCRIBE_MAX_MS = 30_000;

  private final Vertx vertx;
  private final Redis redis;
  private final Redis subscriberClient;
  private final int maxSilences;
  private final Consumer<JsonObject> apply;
  private final MeterRegistry registry;
  /**
   * The last write: writes go one after another, and a check waits for those issued before it, so this node never
   * reads back (and re-applies) a silence it has just deleted; the pool may otherwise use another connection.
   */
  private Future<?> writes = Future.succeededFuture();
  private RedisConnection subscriber;
  private boolean closed;
  private long retryTimer = -1;
  private long retryDelayMs = RESUBSCRIBE_MS;
  private boolean subscribedOnce;

  /**
   * @param apply applies a change (the message form published on {@link #CHANNEL}; see {@link AlertApi}) to this
   *              node's state: a peer's, or one found in Redis by {@link #suppressedBy}
   */
  RedisSync(Vertx vertx, Redis redis, RedisOptions options, int maxSilences, Consumer<JsonObject> apply,
            MeterRegistry registry) {
    this.vertx = vertx;
    this.redis = redis;
    // its own client: a subscribed connection can do nothing else, so it must not hold a slot of the shared pool
    this.subscriberClient = Redis.createClient(vertx, new RedisOptions(options).setMaxPoolSize(1).setMaxPoolWaiting(1));
    this.maxSilences = maxSilences;
    this.apply = apply;
    this.registry = registry;
  }

  /**
   * Subscribes; completes after the first try whatever its outcome: a Redis that is away now is retried in the
   * background rather than failing start-up (the check before sending covers the gap).
   */
  Future<Void> start() {
    return subscribe().otherwiseEmpty();
  }

  private Future<Void> subscribe() {
    if (closed) {
      return Future.succeededFuture();
    }
    return subscriberClient.connect().compose(conn -> {
      subscriber = conn;
      conn.handler(this::onPush);
      conn.exceptionHandler(e -> LOG.debug("Alert sync subscription: {}", e.toString()));
      conn.endHandler(v -> {
        subscriber = null;
        if (!closed) {
          LOG.warn("Lost the Redis subscription to {}; subscribing again", CHANNEL);
          retryLater();
        }
      });
      return conn.send(Request.cmd(Command.SUBSCRIBE).arg(CHANNEL)).<Void>mapEmpty();
    }).onSuccess(v -> {
      retryDelayMs = RESUBSCRIBE_MS;
      if (subscribedOnce) {
        resync();
      }
      subscribedOnce = true;
    }).onFailure(e -> {
      error("subscribe", e);
      if (subscriber != null) {
        subscriber.close();
        subscriber = null;
      }
      retryLater();
    });
  }

  private void retryLater() {
    if (!closed && retryTimer < 0) {
      retryTimer = vertx.setTimer(retryDelayMs, id -> {
        retryTimer = -1;
        subscribe();
      });
      retryDelayMs = Math.min(RESUBSCRIBE_MAX_MS, retryDelayMs * 2);
    }
  }

  /**
   * After a lost subscription: announcements made meanwhile are gone, so take the stored silences as they are now
   * (start-up reads them through the store).
   */
  private void resync() {
    writes.transform(ar -> redis.send(Request.cmd(Command.HGETALL).arg(RedisAlertStore.SILENCES))).onSuccess(stored -> {
      JsonArray all = new JsonArray();
      if (stored != null) {
        for (String id : stored.getKeys()) {
          try {
            all.add(new JsonObject(stored.get(id).toString()));
          } catch (RuntimeException e) {
            LOG.debug("Ignoring an unreadable stored silence {}: {}", id, e.toString());
          }
        }
      }
      apply.accept(new JsonObject().put("op", "silences").put("silences", all));
    }).onFailure(e -> error("resync", e));
  }

  private void onPush(Response push) {
    if (push == null || push.size() < 3 || !"message".equals(push.get(0).toString())) {
      return; // the subscribe confirmation
    }
    try {
      apply.accept(new JsonObject(push.get(2).toString()));
    } catch (RuntimeException e) {
      LOG.warn("Ignoring an unreadable message on {}: {}", CHANNEL, e.toString());
    }
  }

  /** Stores a silence and tells the peers; completes once Redis has it. */
  Future<Void> silence(Silences.Silence silence, JsonObject message) {
    return write(Request.cmd(Command.HSET).arg(RedisAlertStore.SILENCES).arg(silence.id()).arg(silence.toStored().encode()),
      message);
  }

  /** Forgets a silence and tells the peers. */
  Future<Void> unsilence(String id, JsonObject message) {
    return write(Request.cmd(Command.HDEL).arg(RedisAlertStore.SILENCES).arg(id), message);
  }

  /**
   * Stores an acknowledgement of one firing episode ({@code stateId}) and tells the peers.
   */
  Future<Void> acknowledge(String seriesKey, String stateId, JsonObject message) {
    JsonObject stored = message.copy().put("state_id", stateId);
    stored.remove("origin");
    return write(Request.cmd(Command.HSET).arg(ACKS).arg(seriesKey).arg(stored.encode()), message);
  }

  private Future<Void> write(Request store, JsonObject message) {
    Request publish = Request.cmd(Command.PUBLISH).arg(CHANNEL).arg(message.encode());
    Future<Void> write = writes.transform(ar -> redis.batch(List.of(store, publish)))
      .onFailure(e -> error("sync", e)).mapEmpty();
    writes = write;
    return write;
  }

  @Override
  public Future<String> suppressedBy(Notification n) {
    List<Request> reads = new ArrayList<>(2);
    reads.add(Request.cmd(Command.HGETALL).arg(RedisAlertStore.SILENCES));
    boolean repeat = n.kind() == Notification.Kind.REPEAT;
    if (repeat) {
      reads.add(Request.cmd(Command.HGET).arg(ACKS).arg(Series.key(n.event().rule(), n.event().instance())));
    }
    return writes.transform(ar -> redis.batch(reads)).map(r -> {
      long now = System.currentTimeMillis();
      Response stored = r.get(0);
      if (stored != null) {
        Silences view = new Silences(Math.max(maxSilences, stored.size()));
        for (String id : stored.getKeys()) {
          try {
            view.add(Silences.Silence.fromStored(new JsonObject(stored.get(id).toString())));
          } catch (RuntimeException e) {
            LOG.debug("Ignoring an unreadable stored silence {}: {}", id, e.toString());
          }
        }
        String by = view.silencedBy(n.event().labels(), now);
        if (by != null) {
          Silences.Silence s = view.get(by);
          apply.accept(new JsonObject().put("op", "silence").put("silence", s.toStored()));
          return "silenced";
        }
      }
      if (repeat && r.get(1) != null) {
        JsonObject ack = new JsonObject(r.get(1).toString());
        if (n.event().id().equals(ack.getString("state_id"))) {
          apply.accept(ack.copy().put("op", "ack"));
          return "acknowledged";
        }
      }
      return null;
    }).onFailure(e -> error("gate", e));
  }

  private void error(String op, Throwable e) {
    Counter.builder(MeterNames.ALERTS_STORE_ERRORS).description("Failed reads and writes of shared alert state (Redis)")
      .tag("op", op).register(registry).increment();
    LOG.warn("Alert sync through Redis: {} failed ({})", op, e.getMessage());
  }

  Future<Void> close() {
    closed = true;
    if (retryTimer >= 0) {
      vertx.cancelTimer(retryTimer);
    }
    Future<Void> unsubscribed = subscriber == null ? Future.succeededFuture() : subscriber.close();
    return writes.transform(ar -> unsubscribed).otherwiseEmpty().eventually(subscriberClient::close);
  }
}
