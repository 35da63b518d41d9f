package com.chatroom.pulse.optimizer;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;

/** Every decision of this node, newest last, at most {@code optimizer.audit_size}. Used on the verticle's context. */
final class Audit {

  private final int size;
  private final ArrayDeque<JsonObject> ring = new ArrayDeque<>();

  Audit(int size) {
    this.size = size;
  }

  void add(JsonObject event) {
    if (ring.size() >= size) {
      ring.pollFirst();
    }
    ring.addLast(event);
  }

  /** What a previous run left in Redis, oldest first, behind anything already recorded. */
  void restore(List<JsonObject> oldestFirst) {
    ArrayDeque<JsonObject> newer = new ArrayDeque<>(ring);
    ring.clear();
    oldestFirst.forEach(this::add);
    newer.forEach(this::add);
  }

  /**
   * Newest first, at most {@code limit}; null filters match everything. {@code rule} also matches an operator's
   * decision about that rule ({@code "rule": "manual", "target_rule": rule}).
   */
  JsonArray newestFirst(int limit, String rule, String action, String state) {
    JsonArray out = new JsonArray();
    for (Iterator<JsonObject> it = ring.descendingIterator(); it.hasNext() && out.size() < limit; ) {
      JsonObject e = it.next();
      if ((rule == null || rule.equals(e.getString("rule")) || rule.equals(e.getString("target_rule")))
        && (action == null || action.equals(e.getString("action")))
        && (state == null || state.equals(e.getString("state")))) {
        out.add(e);
      }
    }
    return out;
  }

  int kept() {
    return ring.size();
  }

  int size() {
    return size;
  }
}
