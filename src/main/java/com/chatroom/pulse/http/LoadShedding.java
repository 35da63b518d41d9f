package com.chatroom.pulse.http;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.BusMessages;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

/**
 * The readiness side of the optimizer's {@code shed_load}: an {@code applied} action for this node (or for no
 * particular node) makes {@code /health/ready} answer 503 with the action's reason, so a Kubernetes Service stops
 * sending new connections here; {@code reverted} makes it ready again. The state lives in {@link NodeStatus}, shared
 * by every edge instance; each instance follows the node-local actions (the optimizer acting for a node runs on that
 * node), and setting the same state twice is harmless.
 */
final class LoadShedding {

  private LoadShedding() {
  }

  static Future<Void> follow(Vertx vertx, String instance) {
    NodeStatus status = NodeStatus.of(vertx);
    return vertx.eventBus().localConsumer(Addresses.OPTIMIZER_ACTIONS, (Message<Object> m) -> onAction(status, instance, m.body()))
      .completion();
  }

  static void onAction(NodeStatus status, String instance, Object body) {
    JsonObject action;
    try {
      action = body instanceof JsonObject json ? json : body instanceof String text ? BusMessages.parseObject(text) : null;
    } catch (RuntimeException e) {
      return; // not this follower's to judge: the stream and the chat gateway count malformed actions
    }
    if (action == null || !"shed_load".equals(action.getValue("action"))
      || (action.getValue("instance") instanceof String target && !target.equals(instance))) {
      return;
    }
    Object state = action.getValue("state");
    if ("applied".equals(state)) {
      long cap = action.getValue("cap") instanceof Number n ? Math.max(0, n.longValue()) : 0;
      String reason = action.getValue("reason") instanceof String s ? s : "the optimizer sheds load";
      String rule = action.getValue("rule") instanceof String s ? s : "";
      NodeStatus.Shedding current = status.shedding();
      long since = current != null ? current.since()
        : action.getValue("timestamp") instanceof Number n ? n.longValue() : System.currentTimeMillis();
      status.shedding(new NodeStatus.Shedding(reason, rule, cap, since));
    } else if ("reverted".equals(state)) {
      status.shedding(null);
    }
  }
}
