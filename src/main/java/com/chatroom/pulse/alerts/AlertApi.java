package com.chatroom.pulse.alerts;

import com.chatroom.pulse.bus.AlertEvent;
import com.chatroom.pulse.config.AlertsConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.UUID;

/**
 * The alert manager's side of the HTTP API: requests on the node-local address {@link #ADDRESS} (from any edge
 * instance, see {@link AlertRoutes}), answered on the alert verticle's context. Silences and acknowledgements made
 * here reach every node: with Redis, through {@link RedisSync} (stored in Redis before the answer, then announced on a
 * Redis channel), so nodes that share only Redis agree; without it, published on the cluster-wide {@link #SYNC}.
 */
final class AlertApi {

  /** Node-local request/reply: a JSON object with {@code op} and its arguments. */
  static final String ADDRESS = "pulse.alerts.api";
  /** Cluster-wide: silences and acknowledgements made on one node, applied by all. */
  static final String SYNC = "pulse.alerts.sync";

  /** Failure codes of a reply; the HTTP status they map to. */
  enum Failure {
    BAD_REQUEST(400), NOT_FOUND(404), CONFLICT(409);

    final int code;

    Failure(int code) {
      this.code = code;
    }
  }

  static final class ApiException extends RuntimeException {
    final Failure failure;

    ApiException(Failure failure, String message) {
      super(message, null, false, false);
      this.failure = failure;
    }
  }

  private final Vertx vertx;
  private final RuleEngine engine;
  private final Silences silences;
  private final Notifier notifier;
  private final AlertsConfig.Limits limits;
  private final String origin;
  private final Runnable recheck;
  private final ArrayDeque<AlertEvent> history = new ArrayDeque<>();
  private RedisSync redis;

  AlertApi(Vertx vertx, RuleEngine engine, Silences silences, Notifier notifier,
           AlertsConfig.Limits limits, String node, Runnable recheck) {
    this.vertx = vertx;
    this.engine = engine;
    this.silences = silences;
    this.notifier = notifier;
    this.limits = limits;
    this.origin = node + "/" + UUID.randomUUID();
    this.recheck = recheck;
  }

  /** With Redis: silences and acknowledgements are stored there and announced through it instead of the bus. */
  void shareThrough(RedisSync sync) {
    this.redis = sync;
  }

  Future<?> register() {
    return Future.all(
      vertx.eventBus().localConsumer(ADDRESS, this::handle).completion(),
      vertx.eventBus().<JsonObject>consumer(SYNC, m -> apply(m.body())).completion());
  }

  /** Keeps a change for {@code GET /api/alerts/history}, bounded. */
  void remember(AlertEvent event) {
    if (history.size() >= limits.historySize()) {
      history.pollFirst();
    }
    history.addLast(event);
  }

  private void handle(Message<Object> message) {
    if (!(message.body() instanceof JsonObject request)) {
      message.fail(Failure.BAD_REQUEST.code, "expected a JSON object with 'op'");
      return;
    }
    Future<JsonObject> answer;
    try {
      answer = answer(request);
    } catch (ApiException e) {
      message.fail(e.failure.code, e.getMessage());
      return;
    }
    answer.onComplete(ar -> {
      if (ar.succeeded()) {
        message.reply(ar.result());
      } else {
        message.fail(500, "the change was made on this node but could not be shared through Redis: " + ar.cause().getMessage());
      }
    });
  }

  private Future<JsonObject> answer(JsonObject request) {
    ApiRequest r = new ApiRequest(request);
    String op = r.string("op", 32, true);
    return switch (op) {
      case "active" -> Future.succeededFuture(active(r));
      case "history" -> Future.succeededFuture(history(r));
      case "silences" -> Future.succeededFuture(new JsonObject().put("silences", new JsonArray(silences.all().stream()
        .filter(s -> s.endsAtMs() > System.currentTimeMillis()).map(Silences.Silence::toJson).toList())));
      case "silence" -> silence(r);
      case "unsilence" -> unsilence(r.string("id", 64, true));
      case "ack" -> acknowledge(r);
      case "channels" -> Future.succeededFuture(notifier.status().put("idle", notifier.idle()));
      default -> throw new ApiException(Failure.BAD_REQUEST, "unknown op '" + op + "'");
    };
  }

  /** Tells the other nodes: through Redis (stored first) when configured, else on the cluster's event bus. */
  private Future<Void> share(JsonObject message, java.util.function.Function<RedisSync, Future<Void>> throughRedis) {
    if (redis != null) {
      return throughRedis.apply(redis);
    }
    vertx.eventBus().publish(SYNC, message);
    return Future.succeededFuture();
  }

  private JsonObject active(ApiRequest r) {
    String rule = r.string("rule", 128, false);
    String instance = r.string("instance", 253, false);
    List<JsonObject> alerts = engine.active().stream()
      .filter(e -> (rule == null || e.rule().equals(rule)) && (instance == null || e.instance().equals(instance)))
      .sorted(Comparator.comparing(AlertEvent::rule).thenComparing(AlertEvent::instance))
      .map(AlertEvent::toJson).toList();
    return new JsonObject().put("node", engine.node()).put("count", alerts.size()).put("alerts", new JsonArray(alerts));
  }

  private JsonObject history(ApiRequest r) {
    int limit = (int) r.integer("limit", 1, limits.historySize(), Math.min(100, limits.historySize()));
    String rule = r.string("rule", 128, false);
    String instance = r.string("instance", 253, false);
    JsonArray events = new JsonArray();
    for (Iterator<AlertEvent> it = history.descendingIterator(); it.hasNext() && events.size() < limit; ) {
      AlertEvent e = it.next();
      if ((rule == null || e.rule().equals(rule)) && (instance == null || e.instance().equals(instance))) {
        events.add(e.toJson());
      }
    }
    return new JsonObject().put("events", events).put("limit", limit).put("kept", history.size());
  }

  private Future<JsonObject> silence(ApiRequest r) {
    Silences.Silence silence = r.silence(System.currentTimeMillis());
    if (!silences.add(silence)) {
      throw new ApiException(Failure.CONFLICT, "there are already " + limits.maxSilences()
        + " silences (alerts.limits.max_silences); delete one first");
    }
    JsonObject message = new JsonObject().put("origin", origin).put("op", "silence").put("silence", silence.toStored());
    recheck.run();
    return share(message, sync -> sync.silence(silence, message)).map(v -> silence.toJson());
  }

  private Future<JsonObject> unsilence(String id) {
    Silences.Silence removed = silences.remove(id);
    if (removed == null) {
      throw new ApiException(Failure.NOT_FOUND, "no silence with id '" + id + "'");
    }
    JsonObject message = new JsonObject().put("origin", origin).put("op", "unsilence").put("id", id);
    recheck.run();
    return share(message, sync -> sync.unsilence(id, message)).map(v -> removed.toJson().put("deleted", true));
  }

  private Future<JsonObject> acknowledge(ApiRequest r) {
    String rule = r.string("rule", 128, true);
    String instance = r.string("instance", 253, true);
    String by = r.string("by", 128, false);
    long now = System.currentTimeMillis();
    AlertEvent event;
    try {
      event = engine.acknowledge(rule, instance, by == null ? "admin" : by, now);
    } catch (NoSuchElementException e) {
      throw new ApiException(Failure.NOT_FOUND, e.getMessage());
    } catch (IllegalStateException e) {
      throw new ApiException(Failure.CONFLICT, e.getMessage());
    }
    String stateId = engine.stateId(rule, instance);
    // the time goes along, so every node gives the acknowledgement the same id
    JsonObject message = new JsonObject().put("origin", origin).put("op", "ack").put("rule", rule)
      .put("instance", instance).put("by", event.acknowledgedBy()).put("at_ms", now).put("state_id", stateId);
    return share(message, sync -> sync.acknowledge(Series.key(rule, instance), stateId, message)).map(v -> event.toJson());
  }

  /**
   * A peer's silence or acknowledgement (from the event bus or Redis), or one {@link RedisSync} found stored: apply it
   * here too. Idempotent, since the same change may arrive by more than one path; best effort (a peer may know an
   * alert this node does not have yet).
   */
  void apply(JsonObject body) {
    if (body == null || origin.equals(body.getString("origin"))) {
      return;
    }
    try {
      switch (body.getString("op", "")) {
        case "silence" -> {
          Silences.Silence silence = Silences.Silence.fromStored(body.getJsonObject("silence"));
          if (!silence.equals(silences.get(silence.id())) && silences.add(silence)) {
            recheck.run();
          }
        }
        case "unsilence" -> {
          if (silences.remove(body.getString("id", "")) != null) {
            recheck.run();
          }
        }
        case "silences" -> {
          // every silence Redis holds, after announcements may have been missed. Added, never removed: one deleted
          // meanwhile stays here until it ends (peers notify meanwhile), which beats dropping them all should Redis
          // have come back empty
          boolean changed = false;
          for (Object o : body.getJsonArray("silences")) {
            try {
              Silences.Silence silence = Silences.Silence.fromStored((JsonObject) o);
              if (!silence.equals(silences.get(silence.id())) && silences.add(silence)) {
                changed = true;
              }
            } catch (RuntimeException e) {
              // one unreadable record must not keep the others out
            }
          }
          if (changed) {
            recheck.run();
          }
        }
        case "ack" -> {
          String rule = body.getString("rule");
          String instance = body.getString("instance");
          String stateId = body.getString("state_id");
          boolean sameEpisode = stateId == null || stateId.equals(engine.stateId(rule, instance));
          if (sameEpisode && !engine.acknowledged(rule, instance)) {
            engine.acknowledge(rule, instance, body.getString("by"), body.getLong("at_ms", System.currentTimeMillis()));
          }
        }
        default -> {
        }
      }
    } catch (RuntimeException ignored) {
      // a peer's change this node cannot apply (an alert it does not have): its own state is still right
    }
  }
}
