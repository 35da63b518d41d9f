package com.chatroom.pulse.alerts;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The state of one rule on one instance. Times named {@code ...Ms} are sample time (epoch ms of the samples'
 * timestamps), so two nodes evaluating the same samples reach the same states and the same change ids; only
 * {@link #lastSeenWallMs} is this node's clock (for staleness). Touched only on the alert verticle's context.
 */
final class Series {

  enum State {
    INACTIVE, PENDING, FIRING, RESOLVED;

    String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  final Rule rule;
  final String instance;
  final String key;
  final Map<String, String> labels;
  final Object derived;

  State state = State.INACTIVE;
  long activeSinceMs = -1;
  long firedAtMs = -1;
  long clearingSinceMs = -1;
  double lastValue = Double.NaN;
  long lastSampleMs = Long.MIN_VALUE;
  long lastSeenWallMs;
  /** Sample times of recent firing/resolved changes, at most the flapping limit. */
  final ArrayDeque<Long> changes = new ArrayDeque<>();
  boolean flapping;
  long flapSinceMs = -1;
  long lastChangeMs = -1;
  /** The state the outside world was last told: pending, firing, resolved, inactive or flapping. */
  String published = "inactive";
  boolean silenced;
  /** The silence that silences it (the same on every node), or null. */
  String silencedBy;
  String ackBy;
  long ackAtMs = -1;

  Series(Rule rule, String instance, long wallMs) {
    this.rule = rule;
    this.instance = instance;
    this.key = key(rule.name, instance);
    Map<String, String> l = new LinkedHashMap<>();
    l.put("alertname", rule.name);
    l.put("instance", instance);
    l.putAll(rule.labels);
    this.labels = Collections.unmodifiableMap(l);
    this.derived = rule.metric.newState();
    this.lastSeenWallMs = wallMs;
  }

  static String key(String rule, String instance) {
    return rule + '|' + instance;
  }

  /** Pending, firing or flapping: shown by GET /api/alerts. */
  boolean active() {
    return published.equals("pending") || published.equals("firing") || published.equals("flapping");
  }

  /** The change id of the state last published: {@code rule/instance/state/episode start}. */
  String stateId() {
    long episode = published.equals("flapping") ? flapSinceMs : activeSinceMs;
    return rule.name + '/' + instance + '/' + published + '/' + episode;
  }

  JsonObject toJson() {
    JsonArray recent = new JsonArray();
    changes.forEach(recent::add);
    return new JsonObject().put("rule", rule.name).put("instance", instance).put("state", state.wire())
      .put("active_since_ms", activeSinceMs).put("fired_at_ms", firedAtMs).put("clearing_since_ms", clearingSinceMs)
      .put("last_value", Double.isFinite(lastValue) ? lastValue : null).put("last_sample_ms", lastSampleMs)
      .put("changes", recent).put("flapping", flapping).put("flap_since_ms", flapSinceMs)
      .put("last_change_ms", lastChangeMs).put("published", published).put("silenced", silenced).put("silenced_by", silencedBy)
      .put("ack_by", ackBy).put("ack_at_ms", ackAtMs);
  }

  /**
   * Restores what {@link #toJson()} wrote (after a restart, or from a peer through Redis).
   *
   * @throws IllegalArgumentException (or ClassCastException) when the record is not one Pulse wrote
   */
  void restore(JsonObject json, int maxChanges) {
    state = State.valueOf(json.getString("state").toUpperCase(java.util.Locale.ROOT));
    activeSinceMs = json.getLong("active_since_ms");
    firedAtMs = json.getLong("fired_at_ms");
    clearingSinceMs = json.getLong("clearing_since_ms");
    Double value = json.getDouble("last_value");
    lastValue = value == null ? Double.NaN : value;
    lastSampleMs = json.getLong("last_sample_ms");
    changes.clear();
    JsonArray recent = json.getJsonArray("changes", new JsonArray());
    for (int i = Math.max(0, recent.size() - maxChanges); i < recent.size(); i++) {
      changes.add(recent.getLong(i));
    }
    flapping = json.getBoolean("flapping", false);
    flapSinceMs = json.getLong("flap_since_ms", -1L);
    lastChangeMs = json.getLong("last_change_ms", -1L);
    published = json.getString("published");
    if (published == null || !com.chatroom.pulse.bus.AlertEvent.STATES.contains(published)) {
      throw new IllegalArgumentException("unknown published state '" + published + "'");
    }
    silenced = json.getBoolean("silenced", false);
    silencedBy = json.getString("silenced_by");
    ackBy = json.getString("ack_by");
    ackAtMs = json.getLong("ack_at_ms", -1L);
  }
}
