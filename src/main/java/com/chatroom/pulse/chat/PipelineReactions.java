package com.chatroom.pulse.chat;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.BusMessages;
import com.chatroom.pulse.bus.BusRejects;
import com.chatroom.pulse.bus.InvalidMessageException;
import com.chatroom.pulse.bus.InvalidMessageException.Reason;
import com.chatroom.pulse.config.ChatConfig;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import com.chatroom.pulse.bus.AlertEvent;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.BiConsumer;

/**
 * How the gateway follows the pipeline. From {@code optimizer.actions} (JSON objects) it takes:
 * <ul>
 *   <li>{@code {"action":"connection_cap","state":"applied","cap":N}}: new connections beyond N on this node are
 *       refused (1013); {@code "reverted"} restores {@code chat.max_connections};</li>
 *   <li>{@code {"action":"reap_idle","state":"applied","idle_seconds":N}}: connections that sent nothing for N
 *       seconds are closed (4001); {@code "reverted"} stops reaping;</li>
 *   <li>{@code {"action":"tighten_rate","state":"applied","per_second":R}}: each connection's message rate becomes
 *       at most R per second; {@code "reverted"} restores {@code chat.messages_per_second}.</li>
 * </ul>
 * An optional {@code "instance"} limits an action to that node. Other actions and states ({@code skipped},
 * {@code failed}) are not the gateway's business and are ignored; a malformed action of these kinds is refused and
 * counted like any bad bus message. From {@code alerts.events}, a {@code "state":"firing"} event with
 * {@code "severity":"critical"} becomes a notice in the ops room.
 */
final class PipelineReactions {

  private static final Logger LOG = LoggerFactory.getLogger(PipelineReactions.class);

  private final Vertx vertx;
  private final ChatConfig config;
  private final ChatNode node;
  private final BiConsumer<String, String> notice;
  private final BusRejects rejects;
  private final String instance;

  PipelineReactions(Vertx vertx, ChatConfig config, ChatNode node, String instance, BiConsumer<String, String> notice, BusRejects rejects) {
    this.vertx = vertx;
    this.config = config;
    this.node = node;
    this.instance = instance;
    this.notice = notice;
    this.rejects = rejects;
  }

  Future<Void> start() {
    return Future.all(
      vertx.eventBus().consumer(Addresses.OPTIMIZER_ACTIONS, this::onAction).completion(),
      vertx.eventBus().consumer(Addresses.ALERTS_EVENTS, this::onAlert).completion()).mapEmpty();
  }

  private void onAction(Message<Object> message) {
    JsonObject action;
    try {
      action = object(message.body());
      String name = action.getValue("action") instanceof String s ? s : null;
      String state = action.getValue("state") instanceof String s ? s : null;
      if (name == null || state == null || !(state.equals("applied") || state.equals("reverted"))) {
        return;
      }
      if (action.getValue("instance") instanceof String target && !target.equals(instance)) {
        return;
      }
      boolean applied = state.equals("applied");
      switch (name) {
        case "connection_cap" -> node.connectionCap.set(applied ? (int) positive(action, "cap", config.maxConnections()) : 0);
        case "reap_idle" -> node.idleSeconds.set(applied ? positive(action, "idle_seconds", 86_400) : 0);
        case "tighten_rate" -> node.rateOverride(applied ? positiveNumber(action, "per_second", config.messagesPerSecond()) : 0);
        default -> {
          return;
        }
      }
      Counter.builder(MeterNames.CHAT_OPTIMIZER_ACTIONS).description("Optimizer actions the chat gateway followed")
        .tags("action", name, "state", state).register(Meters.registry(vertx)).increment();
      LOG.info("Chat gateway follows optimizer action {} {}: {}", name, state, action.encode());
    } catch (InvalidMessageException e) {
      rejects.reject(message, e);
    }
  }

  private void onAlert(Message<Object> message) {
    JsonObject alert;
    try {
      alert = object(message.body());
    } catch (InvalidMessageException e) {
      rejects.reject(message, e);
      return;
    }
    if (!"firing".equals(alert.getValue("state")) || !"critical".equals(alert.getValue("severity"))
      || "firing".equals(alert.getValue("previous_state"))) {
      return; // announce the change into firing once, not its later flag changes (silenced, acknowledged)
    }
    String name = text(alert, "name", text(alert, "rule", "alert"));
    JsonObject annotations = alert.getValue("annotations") instanceof JsonObject a ? a : new JsonObject();
    String detail = text(alert, "message", text(alert, "summary", text(annotations, "summary", "")));
    String where = text(alert, "instance", "");
    String id = text(alert, "id", name + "@" + where + "@" + alert.getValue("started_at", alert.getValue("timestamp", "")));
    String body = "[critical] " + name + (where.isEmpty() ? "" : " on " + where) + (detail.isEmpty() ? "" : ": " + detail);
    notice.accept(shorten("alert:" + id, 64), shorten(body, config.maxMessageChars()));
  }

  private static JsonObject object(Object body) {
    if (body instanceof JsonObject o) {
      return o;
    }
    if (body instanceof AlertEvent e) {
      return e.toJson(); // what the node's own alert manager publishes
    }
    if (body instanceof String s) {
      return BusMessages.parseObject(s);
    }
    throw new InvalidMessageException("$", Reason.UNSUPPORTED_BODY, "expected a JSON object, got "
      + (body == null ? "nothing" : body.getClass().getSimpleName()));
  }

  private static long positive(JsonObject action, String field, long max) {
    Object raw = action.getValue(field);
    if (!(raw instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.longValue() < 1 || n.longValue() > max) {
      throw new InvalidMessageException(field, raw == null ? Reason.MISSING_FIELD : Reason.OUT_OF_RANGE,
        "field '" + field + "' must be an integer from 1 to " + max + ", got " + raw);
    }
    return n.longValue();
  }

  private static double positiveNumber(JsonObject action, String field, double max) {
    Object raw = action.getValue(field);
    if (!(raw instanceof Number n) || !(n.doubleValue() > 0) || n.doubleValue() > max) {
      throw new InvalidMessageException(field, raw == null ? Reason.MISSING_FIELD : Reason.OUT_OF_RANGE,
        "field '" + field + "' must be a number above 0 and at most " + max + " (tightening only), got " + raw);
    }
    return n.doubleValue();
  }

  private static String text(JsonObject json, String field, String fallback) {
    Object raw = json.getValue(field);
    return raw == null ? fallback : raw.toString();
  }

  private static String shorten(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }
}
