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
 * here are also published on {@link #SYNC} so that every node of a cluster applies them.
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
  private final AlertStore store;
  private final AlertsConfig.Limits limits;
  private final String origin;
  private final Runnable recheck;
  private final ArrayDeque<AlertEvent> history = new ArrayDeque<>();

  AlertApi(Vertx vertx, RuleEngine engine, Silences silences, Notifier notifier, AlertStore store,
           AlertsConfig.Limits limits, String node, Runnable recheck) {
    this.vertx = vertx;
    this.engine = engine;
    this.silences = silences;
    this.notifier = notifier;
    this.store = store;
    this.limits = limits;
    this.origin = node + "/" + UUID.randomUUID();
    this.recheck = recheck;
  }

  Future<?> register() {
    return Future.all(
      vertx.eventBus().localConsumer(ADDRESS, this::handle).completion(),
      vertx.eventBus().<JsonObject>consumer(SYNC, m -> onSync(m.body())).completion());
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
    try {
      message.reply(answer(request));
    } catch (ApiException e) {
      message.fail(e.failure.code, e.getMessage());
    }
  }

  private JsonObject answer(JsonObject request) {
    ApiRequest r = new ApiRequest(request);
    String op = r.string("op", 32, true);
    return switch (op) {
      case "active" -> active(r);
      case "history" -> history(r);
      case "silences" -> new JsonObject().put("silences", new JsonArray(silences.all().stream()
        .filter(s -> s.endsAtMs() > System.currentTimeMillis()).map(Silences.Silence::toJson).toList()));
      case "silence" -> silence(r);
      case "unsilence" -> unsilence(r.string("id", 64, true), true);
      case "ack" -> acknowledge(r);
      case "channels" -> notifier.status().put("idle", notifier.idle());
      default -> throw new ApiException(Failure.BAD_REQUEST, "unknown op '" + op + "'");
    };
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

  private JsonObject silence(ApiRequest r) {
    Silences.Silence silence = r.silence(System.currentTimeMillis());
    if (!silences.add(silence)) {
      throw new ApiException(Failure.CONFLICT, "there are already " + limits.maxSilences()
        + " silences (alerts.limits.max_silences); delete one first");
    }
    store.saveSilence(silence.id(), silence.toStored());
    vertx.eventBus().publish(SYNC, new JsonObject().put("origin", origin).put("op", "silence").put("silence", silence.toStored()));
    recheck.run();
    return silence.toJson();
  }

  private JsonObject unsilence(String id, boolean local) {
    Silences.Silence removed = silences.remove(id);
    if (removed == null) {
      throw new ApiException(Failure.NOT_FOUND, "no silence with id '" + id + "'");
    }
    store.deleteSilence(id);
    if (local) {
      vertx.eventBus().publish(SYNC, new JsonObject().put("origin", origin).put("op", "unsilence").put("id", id));
    }
    recheck.run();
    return removed.toJson().put("deleted", true);
  }

  private JsonObject acknowledge(ApiRequest r) {
    String rule = r.string("rule", 128, true);
    String instance = r.string("instance", 253, true);
    String by = r.string("by", 128, false);
    AlertEvent event;
    try {
      event = engine.acknowledge(rule, instance, by == null ? "admin" : by, System.currentTimeMillis());
    } catch (NoSuchElementException e) {
      throw new ApiException(Failure.NOT_FOUND, e.getMessage());
    } catch (IllegalStateException e) {
      throw new ApiException(Failure.CONFLICT, e.getMessage());
    }
    vertx.eventBus().publish(SYNC, new JsonObject().put("origin", origin).put("op", "ack").put("rule", rule)
      .put("instance", instance).put("by", event.acknowledgedBy()));
    return event.toJson();
  }

  /** A peer's silence or acknowledgement: apply it here too (best effort; a peer may not know the alert yet). */
  private void onSync(JsonObject body) {
    if (body == null || origin.equals(body.getString("origin"))) {
      return;
    }
    try {
      switch (body.getString("op", "")) {
        case "silence" -> {
          if (silences.add(Silences.Silence.fromStored(body.getJsonObject("silence")))) {
            recheck.run();
          }
        }
        case "unsilence" -> {
          if (silences.remove(body.getString("id", "")) != null) {
            recheck.run();
          }
        }
        case "ack" -> engine.acknowledge(body.getString("rule"), body.getString("instance"), body.getString("by"),
          System.currentTimeMillis());
        default -> {
        }
      }
    } catch (RuntimeException ignored) {
      // a peer's change this node cannot apply (an alert it does not have): its own state is still right
    }
  }
}
