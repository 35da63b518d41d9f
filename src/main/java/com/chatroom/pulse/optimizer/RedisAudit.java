package com.chatroom.pulse.optimizer;

import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The audit in Redis: one capped list per instance, {@code pulse:optimizer:audit:<instance>}, newest first (LPUSH, then
 * LTRIM to {@code optimizer.audit_size}). Writes are buffered (bounded: at most one audit's worth; beyond it the oldest
 * pending entries go, counted) and sent as one pipelined batch, never more than one in flight; a batch that fails is
 * put back in front of newer entries and retried at the next flush. Redis being away never stops a decision. Used only
 * on the optimizer verticle's context.
 */
final class RedisAudit {

  private static final Logger LOG = LoggerFactory.getLogger(RedisAudit.class);
  static final String PREFIX = "pulse:optimizer:audit:";

  private final Redis redis;
  private final String key;
  private final int size;
  private final Counter errors;
  private final ArrayDeque<String> pending = new ArrayDeque<>();
  private boolean inFlight;
  private Future<Void> writing = Future.succeededFuture();

  RedisAudit(Redis redis, String instance, int size, Counter errors) {
    this.redis = redis;
    this.key = PREFIX + instance;
    this.size = size;
    this.errors = errors;
  }

  static String key(String instance) {
    return PREFIX + instance;
  }

  /** The entries a previous run wrote, oldest first. */
  Future<List<JsonObject>> load() {
    return redis.send(Request.cmd(Command.LRANGE).arg(key).arg(0).arg(size - 1)).map(list -> {
      List<JsonObject> events = new ArrayList<>();
      if (list != null) {
        for (Response item : list) {
          try {
            events.add(new JsonObject(item.toString()));
          } catch (DecodeException | NullPointerException e) {
            LOG.warn("Ignoring an unreadable optimizer audit entry in {}: {}", key, e.getMessage());
          }
        }
      }
      Collections.reverse(events);
      return events;
    });
  }

  void append(JsonObject event) {
    if (pending.size() >= size) {
      pending.pollFirst();
      errors.increment();
    }
    pending.addLast(event.encode());
  }

  int pending() {
    return pending.size();
  }

  void flush() {
    if (inFlight || pending.isEmpty()) {
      return;
    }
    List<String> sent = new ArrayList<>(pending);
    pending.clear();
    Request push = Request.cmd(Command.LPUSH).arg(key);
    sent.forEach(push::arg);
    inFlight = true;
    writing = redis.batch(List.of(push, Request.cmd(Command.LTRIM).arg(key).arg(0).arg(size - 1))).onComplete(ar -> {
      inFlight = false;
      if (ar.failed()) {
        errors.increment();
        LOG.warn("Could not write the optimizer audit to Redis ({}); {} entries kept for the next attempt",
          ar.cause().getMessage(), sent.size() + pending.size());
        for (int i = sent.size() - 1; i >= 0; i--) {
          if (pending.size() >= size) {
            break; // newer entries win: the ring keeps the newest
          }
          pending.addFirst(sent.get(i));
        }
      }
    }).mapEmpty();
  }

  Future<Void> close() {
    return writing.otherwiseEmpty().compose(v -> {
      flush();
      return writing.otherwiseEmpty();
    });
  }
}
