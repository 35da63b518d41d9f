package com.chatroom.pulse.alerts;

import com.chatroom.pulse.metrics.MeterNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Alert state in Redis: hashes {@code pulse:alerts:series} and {@code pulse:alerts:silences}, capped lists
 * {@code pulse:alerts:history} and {@code pulse:alerts:dead_letters} (newest first). Writes are buffered — the
 * latest state per key, a bounded tail of list entries — and flushed in one pipelined batch, never more than one in
 * flight. Every replica evaluates every sample and so records every change: a history entry is pushed only by the
 * first node to mark its key ({@code SET pulse:alerts:history:seen:<key> NX PX dedupe_ttl}, in the same script), so
 * the shared history holds each change once. Used only on the alert verticle's context.
 */
final class RedisAlertStore implements AlertStore {

  private static final Logger LOG = LoggerFactory.getLogger(RedisAlertStore.class);
  static final String SERIES = "pulse:alerts:series";
  static final String SILENCES = "pulse:alerts:silences";
  static final String HISTORY = "pulse:alerts:history";
  static final String DEAD_LETTERS = "pulse:alerts:dead_letters";
  static final String HISTORY_SEEN = "pulse:alerts:history:seen:";
  /** KEYS[1] the list; ARGV: marker prefix, marker TTL, last index kept, then key/entry pairs, oldest first. */
  private static final String PUSH_ONCE = "local pushed = 0 "
    + "for i = 4, #ARGV, 2 do "
    + "if redis.call('SET', ARGV[1] .. ARGV[i], '1', 'NX', 'PX', ARGV[2]) then "
    + "redis.call('LPUSH', KEYS[1], ARGV[i + 1]) pushed = pushed + 1 end end "
    + "redis.call('LTRIM', KEYS[1], 0, ARGV[3]) return pushed";
  /** Pending hash writes kept while Redis is away; beyond this, writes for new keys are dropped (and counted). */
  static final int MAX_PENDING = 200_000;

  private final Redis redis;
  private final int historySize;
  private final int deadLetterSize;
  private final long seenTtlMs;
  private final Counter errors;
  /** Pending writes: the newest value per key, or null for a delete. */
  private final Map<String, String> series = new LinkedHashMap<>();
  private final Map<String, String> silences = new LinkedHashMap<>();
  /** Pairs: key, entry. */
  private final ArrayDeque<String[]> history = new ArrayDeque<>();
  private final ArrayDeque<String> deadLetters = new ArrayDeque<>();
  private boolean inFlight;
  private Future<Void> writing = Future.succeededFuture();

  /** @param seenTtlMs how long a history key is remembered (the notification dedupe TTL) */
  RedisAlertStore(Redis redis, int historySize, int deadLetterSize, long seenTtlMs, MeterRegistry registry) {
    this.redis = redis;
    this.historySize = historySize;
    this.deadLetterSize = deadLetterSize;
    this.seenTtlMs = seenTtlMs;
    this.errors = Counter.builder(MeterNames.ALERTS_STORE_ERRORS).description("Failed reads and writes of shared alert state (Redis)")
      .tag("op", "write").register(registry);
  }

  @Override
  public Future<Loaded> load() {
    return redis.batch(List.of(
        Request.cmd(Command.HGETALL).arg(SERIES),
        Request.cmd(Command.HGETALL).arg(SILENCES),
        Request.cmd(Command.LRANGE).arg(HISTORY).arg(0).arg(historySize - 1),
        Request.cmd(Command.LRANGE).arg(DEAD_LETTERS).arg(0).arg(deadLetterSize - 1)))
      .map(r -> new Loaded(hashValues(r.get(0)), hashValues(r.get(1)), newestFirst(r.get(2)), newestFirst(r.get(3))));
  }

  private static List<JsonObject> hashValues(Response hash) {
    List<JsonObject> values = new ArrayList<>();
    if (hash != null) {
      for (String key : hash.getKeys()) {
        parse(hash.get(key), values);
      }
    }
    return values;
  }

  private static List<JsonObject> newestFirst(Response list) {
    List<JsonObject> values = new ArrayList<>();
    if (list != null) {
      for (Response item : list) {
        parse(item, values);
      }
    }
    Collections.reverse(values);
    return values;
  }

  private static void parse(Response item, List<JsonObject> into) {
    try {
      into.add(new JsonObject(item.toString()));
    } catch (DecodeException | NullPointerException e) {
      LOG.warn("Ignoring an unreadable alert record in Redis: {}", e.getMessage());
    }
  }

  @Override
  public void saveSeries(String key, JsonObject state) {
    pend(series, key, state.encode());
  }

  @Override
  public void deleteSeries(String key) {
    pend(series, key, null);
  }

  private void pend(Map<String, String> pending, String key, String value) {
    if (pending.size() >= MAX_PENDING && !pending.containsKey(key)) {
      errors.increment(); // Redis has been away for long: keep memory bounded, lose this write
      return;
    }
    pending.put(key, value);
  }

  @Override
  public void deleteSilence(String id) {
    pend(silences, id, null);
  }

  @Override
  public void appendHistory(String key, JsonObject event) {
    append(history, new String[] {key, event.encode()}, historySize);
  }

  @Override
  public void appendDeadLetter(JsonObject record) {
    append(deadLetters, record.encode(), deadLetterSize);
  }

  private static <T> void append(ArrayDeque<T> buffer, T value, int max) {
    if (buffer.size() >= max) {
      buffer.pollFirst();
    }
    buffer.addLast(value);
  }

  @Override
  public void flush() {
    if (inFlight || (series.isEmpty() && silences.isEmpty() && history.isEmpty() && deadLetters.isEmpty())) {
      return;
    }
    List<Request> batch = new ArrayList<>();
    hashWrites(batch, SERIES, series);
    // a forgotten series takes its acknowledgement with it (the acks hash stays bounded by the series in use)
    List<String> forgotten = series.entrySet().stream().filter(e -> e.getValue() == null).map(Map.Entry::getKey).toList();
    if (!forgotten.isEmpty()) {
      Request del = Request.cmd(Command.HDEL).arg(RedisSync.ACKS);
      forgotten.forEach(del::arg);
      batch.add(del);
    }
    hashWrites(batch, SILENCES, silences);
    historyWrites(batch);
    listWrites(batch, DEAD_LETTERS, deadLetters, deadLetterSize);
    Map<String, String> seriesSent = new LinkedHashMap<>(series);
    Map<String, String> silencesSent = new LinkedHashMap<>(silences);
    series.clear();
    silences.clear();
    history.clear();
    deadLetters.clear();
    inFlight = true;
    writing = redis.batch(batch).onComplete(ar -> {
      inFlight = false;
      if (ar.failed()) {
        errors.increment();
        LOG.warn("Could not write alert state to Redis ({}); will retry the latest state", ar.cause().getMessage());
        // keep whatever changed since; put back the rest (list entries written meanwhile are lost, counted above)
        seriesSent.forEach(series::putIfAbsent);
        silencesSent.forEach(silences::putIfAbsent);
      }
    }).mapEmpty();
  }

  private static void hashWrites(List<Request> batch, String hash, Map<String, String> pending) {
    Request set = Request.cmd(Command.HSET).arg(hash);
    Request del = Request.cmd(Command.HDEL).arg(hash);
    boolean sets = false;
    boolean dels = false;
    for (Map.Entry<String, String> e : pending.entrySet()) {
      if (e.getValue() == null) {
        del.arg(e.getKey());
        dels = true;
      } else {
        set.arg(e.getKey()).arg(e.getValue());
        sets = true;
      }
    }
    if (sets) {
      batch.add(set);
    }
    if (dels) {
      batch.add(del);
    }
  }

  private void historyWrites(List<Request> batch) {
    if (history.isEmpty()) {
      return;
    }
    Request push = Request.cmd(Command.EVAL).arg(PUSH_ONCE).arg(1).arg(HISTORY).arg(HISTORY_SEEN).arg(seenTtlMs)
      .arg(historySize - 1);
    history.forEach(entry -> push.arg(entry[0]).arg(entry[1]));
    batch.add(push);
  }

  private static void listWrites(List<Request> batch, String list, ArrayDeque<String> pending, int max) {
    if (pending.isEmpty()) {
      return;
    }
    Request push = Request.cmd(Command.LPUSH).arg(list);
    pending.forEach(push::arg);
    batch.add(push);
    batch.add(Request.cmd(Command.LTRIM).arg(list).arg(0).arg(max - 1));
  }

  @Override
  public Future<Void> close() {
    // let the batch in flight land, then write what is left
    return writing.otherwiseEmpty().compose(v -> {
      flush();
      return writing.otherwiseEmpty();
    });
  }
}
