package com.chatroom.pulse.history;

import com.chatroom.pulse.bus.PulseMessage;
import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The history verticle's side of {@code pulse.history.query}: validates a request, runs it, replies JSON. Bad
 * requests fail with 400 and a message naming the parameter; a store that cannot answer fails with 503.
 */
final class HistoryRequests {

  static final int MAX_BACKFILL = 20_000;

  private final HistoryQueries queries;
  private final HistoryStore store;

  HistoryRequests(HistoryQueries queries, HistoryStore store) {
    this.queries = queries;
    this.store = store;
  }

  /** A request that cannot be served as asked. */
  static final class BadRequest extends RuntimeException {
    BadRequest(String message) {
      super(message, null, false, false);
    }
  }

  void handle(Message<JsonObject> message) {
    Future<?> answer;
    try {
      answer = dispatch(message.body());
    } catch (BadRequest | ClassCastException e) {
      message.fail(400, e instanceof BadRequest ? e.getMessage() : "malformed history request");
      return;
    }
    answer.onSuccess(message::reply).onFailure(e -> message.fail(e instanceof BadRequest ? 400 : 503,
      e instanceof BadRequest ? e.getMessage() : "history store unavailable: " + e.getMessage()));
  }

  private Future<?> dispatch(JsonObject q) {
    String op = q.getString("op", "");
    return switch (op) {
      case "health" -> Future.succeededFuture(store.health());
      case "summary" -> queries.summary(kind(q), instance(q), q.getDouble("hours"));
      case "range" -> range(q);
      case "instances" -> store.instances(kind(q)).map(names -> new JsonObject().put("kind", kind(q).wireName())
        .put("instances", new JsonArray(names)));
      case "backfill" -> backfill(q);
      default -> throw new BadRequest("unknown history op '" + op + "'");
    };
  }

  private Future<JsonObject> range(JsonObject q) {
    Kind kind = kind(q);
    String metric = q.getString("metric");
    if (metric == null || !kind.metricNames().contains(metric)) {
      throw new BadRequest("parameter 'metric' must be one of " + kind.metricNames() + " for " + kind.wireName());
    }
    return queries.range(kind, instance(q), metric, q.getDouble("from"), q.getDouble("to"), q.getLong("step"));
  }

  /**
   * Raw samples since a time, as ready-to-send stream frames: [stream, instance, timestamp, frame text, data text]
   * (the data text lets the stream tell a sample it already sent from another one with the same timestamp).
   */
  private Future<JsonObject> backfill(JsonObject q) {
    double since = q.getDouble("since");
    JsonArray streams = q.getJsonArray("streams");
    JsonArray instanceFilter = q.getJsonArray("instances");
    Set<String> instances = null;
    if (instanceFilter != null) {
      instances = new HashSet<>();
      for (Object name : instanceFilter) {
        instances.add((String) name);
      }
    }
    Set<String> only = instances;
    List<Kind> kinds = streams == null ? List.of(Kind.values())
      : List.of(Kind.values()).stream().filter(k -> streams.contains(k.wireName())).toList();
    List<Future<List<PulseMessage>>> reads = kinds.stream()
      .map(k -> queries.backfill(k, only, since, MAX_BACKFILL)).toList();
    return Future.all(reads).map(v -> {
      List<PulseMessage> all = new java.util.ArrayList<>();
      reads.forEach(r -> all.addAll(r.result()));
      all.sort(java.util.Comparator.comparingDouble(Kind::timestampOf));
      List<PulseMessage> kept = all.size() > MAX_BACKFILL ? all.subList(all.size() - MAX_BACKFILL, all.size()) : all;
      JsonArray frames = new JsonArray(new java.util.ArrayList<>(kept.size()));
      for (PulseMessage m : kept) {
        String stream = Kind.of(m).wireName();
        JsonObject data = m.toJson();
        frames.add(new JsonArray().add(stream).add(Kind.instanceOf(m)).add(Kind.timestampOf(m))
          .add(new JsonObject().put("type", stream).put("data", data).put("backfill", true).encode())
          .add(data.encode()));
      }
      return new JsonObject().put("frames", frames).put("truncated", all.size() > MAX_BACKFILL);
    });
  }

  private static Kind kind(JsonObject q) {
    Kind kind = Kind.of(q.getString("kind", "system"));
    if (kind == null) {
      throw new BadRequest("parameter 'kind' must be 'system' or 'app'");
    }
    return kind;
  }

  private static String instance(JsonObject q) {
    String instance = q.getString("instance");
    if (instance == null || instance.isEmpty()) {
      throw new BadRequest("parameter 'instance' is missing");
    }
    return instance;
  }
}
