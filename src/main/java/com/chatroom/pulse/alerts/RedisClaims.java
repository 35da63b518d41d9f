package com.chatroom.pulse.alerts;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.UUID;

/**
 * Claims shared through Redis: {@code SET key <owner> NX PX lease} before sending; {@code sent} (or {@code dead})
 * with the dedupe TTL afterwards. A peer that finds the key held waits for the lease: if the owner dies before
 * delivering, the lease runs out and the peer sends instead. The one gap left is an owner that dies after the
 * receiver got the message but before it wrote {@code sent}: then a peer sends it again (at least once, never lost).
 */
final class RedisClaims implements Claims {

  static final String PREFIX = "pulse:alerts:claim:";
  private static final String SENT = "sent";
  private static final String DEAD = "dead";
  private static final String RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    + "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
  private static final String RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    + "return redis.call('DEL', KEYS[1]) else return 0 end";

  private final Redis redis;
  private final String owner;
  private final long ttlMs;

  RedisClaims(Redis redis, String node, long ttlMs) {
    this.redis = redis;
    // a fresh token per run: a restarted node must not mistake its previous run's lease for its own
    this.owner = node + "/" + UUID.randomUUID();
    this.ttlMs = ttlMs;
  }

  @Override
  public Future<Outcome> claim(String key, long leaseMs) {
    String k = PREFIX + key;
    return redis.send(Request.cmd(Command.SET).arg(k).arg(owner).arg("NX").arg("PX").arg(leaseMs))
      .compose(set -> {
        if (set != null && "OK".equals(set.toString())) {
          return Future.succeededFuture(Outcome.ACQUIRED);
        }
        return redis.send(Request.cmd(Command.GET).arg(k)).map(RedisClaims::outcomeOf);
      });
  }

  private static Outcome outcomeOf(Response value) {
    if (value == null) {
      return Outcome.HELD; // expired between our SET and GET: ask again shortly
    }
    String v = value.toString();
    return SENT.equals(v) || DEAD.equals(v) ? Outcome.DONE : Outcome.HELD;
  }

  @Override
  public Future<Boolean> renew(String key, long leaseMs) {
    return redis.send(Request.cmd(Command.EVAL).arg(RENEW).arg(1).arg(PREFIX + key).arg(owner).arg(leaseMs))
      .map(r -> r != null && r.toLong() == 1L);
  }

  @Override
  public Future<Void> markSent(String key) {
    return mark(key, SENT);
  }

  @Override
  public Future<Void> markDead(String key) {
    return mark(key, DEAD);
  }

  @Override
  public Future<Void> release(String key) {
    return redis.send(Request.cmd(Command.EVAL).arg(RELEASE).arg(1).arg(PREFIX + key).arg(owner)).mapEmpty();
  }

  private Future<Void> mark(String key, String value) {
    return redis.send(Request.cmd(Command.SET).arg(PREFIX + key).arg(value).arg("PX").arg(ttlMs)).mapEmpty();
  }
}
