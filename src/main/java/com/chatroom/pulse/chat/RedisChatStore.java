package com.chatroom.pulse.chat;

import com.chatroom.pulse.bus.ChatMessage;
import com.chatroom.pulse.config.ChatConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Rooms in Redis, shared by every node. Per room {@code r}:
 * <ul>
 *   <li>{@code pulse:chat:r:seq}: the room counter (INCR), so sequence numbers are monotonic across the cluster;</li>
 *   <li>{@code pulse:chat:r:log}: a stream with entry id {@code <seq>-1}, trimmed to {@code history_size} (MAXLEN);</li>
 *   <li>{@code pulse:chat:r:dedup:<user>:<id>}: the sequence number a client id got, expiring after {@code dedup_seconds}.</li>
 * </ul>
 * One Lua script checks the id, increments, appends and remembers atomically, so two nodes can never give one id two
 * numbers. The counter never falls behind the log: if it does (the counter key lost or restored apart from the log),
 * the script continues after the log's newest entry, where XADD would otherwise refuse every new id. Posts to one room run one at a time (a bounded queue per room): the pooled client may complete two
 * commands out of order, and a room's messages must be published in sequence order. Idle rooms expire after 30 days.
 */
final class RedisChatStore implements ChatStore {

  static final int MAX_QUEUED_PER_ROOM = 1000;
  private static final long ROOM_TTL_SECONDS = 30L * 86400;
  private static final String POST = """
    local d = redis.call('GET', KEYS[3])
    if d then return {tonumber(d), 1} end
    local seq = redis.call('INCR', KEYS[1])
    local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
    if top then
      local last = tonumber(string.match(top[1], '^(%d+)'))
      if last >= seq then
        seq = last + 1
        redis.call('SET', KEYS[1], seq)
      end
    end
    redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[1], seq .. '-1', 'c', ARGV[2], 'u', ARGV[3], 'n', ARGV[4], 't', ARGV[5], 'ts', ARGV[6], 'o', ARGV[8])
    redis.call('SET', KEYS[3], seq, 'EX', ARGV[7])
    redis.call('EXPIRE', KEYS[1], ARGV[9])
    redis.call('EXPIRE', KEYS[2], ARGV[9])
    return {seq, 0}
    """;

  private final Redis client;
  private final ChatConfig config;
  private final Map<String, ArrayDeque<Runnable>> queues = new HashMap<>();

  RedisChatStore(Redis client, ChatConfig config) {
    this.client = client;
    this.config = config;
  }

  private static String key(String room, String part) {
    return "pulse:chat:" + room + ":" + part;
  }

  @Override
  public Future<Posted> post(Draft d) {
    Promise<Posted> promise = Promise.promise();
    ArrayDeque<Runnable> queue = queues.computeIfAbsent(d.room(), r -> new ArrayDeque<>());
    if (queue.size() >= MAX_QUEUED_PER_ROOM) {
      return Future.failedFuture(new ChatError("room_busy", "room",
        "room '" + d.room() + "' has " + MAX_QUEUED_PER_ROOM + " messages waiting for the store; retry shortly"));
    }
    queue.addLast(() -> client.send(Request.cmd(Command.EVAL).arg(POST).arg(3)
        .arg(key(d.room(), "seq")).arg(key(d.room(), "log")).arg(key(d.room(), "dedup:" + d.userId() + ":" + d.clientId()))
        .arg(config.historySize()).arg(d.clientId()).arg(d.userId()).arg(d.userName()).arg(d.text())
        .arg(Double.toString(d.timestamp())).arg(config.dedupSeconds()).arg(d.origin()).arg(ROOM_TTL_SECONDS))
      .map(r -> new Posted(r.get(0).toLong(), r.get(1).toInteger() == 1))
      .onComplete(ar -> {
        promise.handle(ar);
        queue.pollFirst();
        if (queue.isEmpty()) {
          queues.remove(d.room());
        } else {
          queue.peekFirst().run();
        }
      }));
    if (queue.size() == 1) {
      queue.peekFirst().run();
    }
    return promise.future();
  }

  @Override
  public Future<History> since(String room, long since, int limit) {
    return read(room, Request.cmd(Command.XRANGE).arg(key(room, "log")).arg("(" + since + "-1").arg("+").arg("COUNT").arg(limit), false);
  }

  @Override
  public Future<History> latest(String room, int count) {
    if (count == 0) {
      return read(room, null, false);
    }
    return read(room, Request.cmd(Command.XREVRANGE).arg(key(room, "log")).arg("+").arg("-").arg("COUNT").arg(count), true);
  }

  /** One pipelined batch: the counter, the oldest entry, and the range asked for. */
  private Future<History> read(String room, Request range, boolean reversed) {
    List<Request> batch = new ArrayList<>(List.of(Request.cmd(Command.GET).arg(key(room, "seq")),
      Request.cmd(Command.XRANGE).arg(key(room, "log")).arg("-").arg("+").arg("COUNT").arg(1)));
    if (range != null) {
      batch.add(range);
    }
    return client.batch(batch).map(replies -> {
      long last = replies.get(0) == null ? 0 : replies.get(0).toLong();
      Response oldest = replies.get(1);
      long first = oldest == null || oldest.size() == 0 ? last + 1 : seqOf(oldest.get(0));
      List<ChatMessage> messages = new ArrayList<>();
      if (range != null && replies.get(2) != null) {
        for (Response entry : replies.get(2)) {
          messages.add(decode(room, entry));
        }
      }
      if (reversed) {
        java.util.Collections.reverse(messages);
      }
      return new History(messages, last, first);
    });
  }

  private static long seqOf(Response entry) {
    String id = entry.get(0).toString();
    return Long.parseLong(id.substring(0, id.indexOf('-')));
  }

  private static ChatMessage decode(String room, Response entry) {
    Response fields = entry.get(1);
    Map<String, String> f = new HashMap<>();
    for (int i = 0; i + 1 < fields.size(); i += 2) {
      f.put(fields.get(i).toString(), fields.get(i + 1).toString());
    }
    return new ChatMessage(room, seqOf(entry), f.get("c"), f.get("u"), f.get("n"), f.get("t"),
      Double.parseDouble(f.getOrDefault("ts", "0")), f.getOrDefault("o", ""), 0);
  }

  @Override
  public String backend() {
    return "redis";
  }

  @Override
  public Future<Void> close() {
    client.close();
    return Future.succeededFuture();
  }
}
