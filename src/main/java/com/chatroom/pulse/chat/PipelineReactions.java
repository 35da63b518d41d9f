package com.chatroom.pulse.chat;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.BusMessages;
import com.chatroom.pulse.bus.BusRejects;
import com.chatroom.pulse.bus.InvalidMessageException;
import com.chatroom.pulse.bus.PulseMessage;
import com.chatroom.pulse.bus.InvalidMessageException.Reason;
import com.chatroom.pulse.bus.OwnerAction;
import com.chatroom.pulse.config.ChatConfig;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.BiConsumer;
import java.util.function.IntConsumer;

/**
 * How the gateway follows the pipeline. From {@code optimizer.actions} ({@link OwnerAction}: only {@code applied} and
 * {@code reverted}, only without an {@code "instance"} or with this node's) it takes:
 * <ul>
 *   <li>{@code shed_load} {@code {"cap":N}} (N ≥ 0), and the low-level {@code connection_cap} {@code {"cap":N}}
 *       (1 to {@code chat.max_connections}): new connections beyond N on this node are refused (1013);
 *       {@code "reverted"} restores {@code chat.max_connections}. Open connections stay;</li>
 *   <li>{@code reap_idle} {@code {"idle_seconds":N}}: connections that sent nothing for N seconds are closed (4001);
 *       {@code "reverted"} stops reaping;</li>
 *   <li>{@code throttle_streams} {@code {"per_second":R}}, and the low-level {@code tighten_rate} (R at most the
 *       configured rate): each connection's message rate becomes min(R, {@code chat.messages_per_second}), its burst
 *       at most 2·R; {@code "reverted"} restores both;</li>
 *   <li>{@code trim_caches} (optional {@code "chat_backlog_floor":N}, default {@code chat.join_history}): in-memory room
 *       backlogs are cut to their newest N messages and held there until {@code "reverted"}; a Redis-backed history
 *       is Redis's to bound, and is left alone.</li>
 * </ul>
 * The latest applied parameters replace earlier ones (the optimizer publishes the effective ones); a low-level action
 * and its pipeline twin set the same limit. Other actions and states are not the gateway's business and are ignored;
 * a malformed action (not an object, an envelope field of the wrong type, an unknown state, a missing or out-of-range
 * parameter) is refused and counted like any bad bus message, and changes nothing. From {@code alerts.events}, a
 * {@code "state":"firing"} event with {@code "severity":"critical"} becomes a notice in the ops room.
 */
final class PipelineReactions {

  private static final Logger LOG = LoggerFactory.getLogger(PipelineReactions.class);
  static final long MAX_IDLE_SECONDS = 86_400;
  static final double MAX_RATE = 1_000_000;
  /** Any floor is accepted (the optimizer's config allows up to 100 million); above chat.history_size it trims nothing. */
  static final long MAX_FLOOR = Integer.MAX_VALUE;

  private final Vertx vertx;
  private final ChatConfig config;
  private final ChatNode node;
  private final BiConsumer<String, String> notice;
  private final IntConsumer backlogFloor;
  private final BusRejects rejects;
  private final String instance;

  /**
   * @param notice       posts a notice (client id, text) in the ops room
   * @param backlogFloor holds in-memory room backlogs at a floor (-1: as configured)
   */
  PipelineReactions(Vertx vertx, ChatConfig config, ChatNode node, String instance, BiConsumer<String, String> notice,
                    IntConsumer backlogFloor, BusRejects rejects) {
    this.vertx = vertx;
    this.config = config;
    this.node = node;
    this.instance = instance;
    this.notice = notice;
    this.backlogFloor = backlogFloor;
    this.rejects = rejects;
  }

  Future<Void> start() {
    return Future.all(
      vertx.eventBus().consumer(Addresses.OPTIMIZER_ACTIONS, this::onAction).completion(),
      vertx.eventBus().consumer(Addresses.ALERTS_EVENTS, this::onAlert).completion()).mapEmpty();
  }

  private void onAction(Message<Object> message) {
    OwnerAction order;
    try {
      order = OwnerAction.read(message.body(), instance);
      if (order == null || !follow(order)) {
        return;
      }
    } catch (InvalidMessageException e) {
      rejects.reject(message, e);
      return;
    }
    Counter.builder(MeterNames.CHAT_OPTIMIZER_ACTIONS).description("Optimizer actions the chat gateway followed")
      .tags("action", order.action(), "state", order.state()).register(Meters.registry(vertx)).increment();
    LOG.info("Chat gateway follows optimizer action {} {}: {}", order.action(), order.state(), order.body().encode());
  }

  /**
   * Carries out one order; every parameter is read before anything changes, so a malformed one changes nothing.
   *
   * @return false for an action that is not the gateway's
   */
  private boolean follow(OwnerAction order) {
    boolean applied = order.applied();
    switch (order.action()) {
      case "shed_load" -> node.connectionCap.set(applied ? (int) order.integer("cap", 0, Integer.MAX_VALUE) : -1);
      case "connection_cap" -> node.connectionCap.set(applied ? (int) order.integer("cap", 1, config.maxConnections()) : -1);
      case "reap_idle" -> node.idleSeconds.set(applied ? order.integer("idle_seconds", 1, MAX_IDLE_SECONDS) : 0);
      case "throttle_streams" -> node.rateOverride(applied ? order.positiveNumber("per_second", MAX_RATE) : 0);
      case "tighten_rate" -> node.rateOverride(applied ? order.positiveNumber("per_second", config.messagesPerSecond()) : 0);
      // a floor above chat.history_size trims nothing: the rooms never hold more than that anyway
      case "trim_caches" -> backlogFloor.accept(applied ? (int) Math.min(config.historySize(),
        order.optionalInteger("chat_backlog_floor", 0, MAX_FLOOR, config.joinHistory())) : -1);
      default -> {
        return false;
      }
    }
    return true;
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
    // the alert manager's AlertEvent keeps its rendered texts under annotations; a plain JSON event may have them on top
    JsonObject annotations = alert.getValue("annotations") instanceof JsonObject a ? a : new JsonObject();
    String detail = text(alert, "message", text(alert, "summary", text(annotations, "summary", text(annotations, "description", ""))));
    String where = text(alert, "instance", "");
    String id = text(alert, "id", name + "@" + where + "@" + alert.getValue("started_at", alert.getValue("timestamp", "")));
    String body = "[critical] " + name + (where.isEmpty() ? "" : " on " + where) + (detail.isEmpty() ? "" : ": " + detail);
    notice.accept(shorten("alert:" + id, 64), shorten(body, config.maxMessageChars()));
  }

  private static JsonObject object(Object body) {
    if (body instanceof JsonObject o) {
      return o;
    }
    if (body instanceof PulseMessage m) {
      // what the alert manager publishes: an AlertEvent record, by reference on this node or decoded from a peer
      return m.toJson();
    }
    if (body instanceof String s) {
      return BusMessages.parseObject(s);
    }
    throw new InvalidMessageException("$", Reason.UNSUPPORTED_BODY, "expected a JSON object, got "
      + (body == null ? "nothing" : body.getClass().getSimpleName()));
  }

  private static String text(JsonObject json, String field, String fallback) {
    Object raw = json.getValue(field);
    return raw == null ? fallback : raw.toString();
  }

  private static String shorten(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }
}
