package com.chatroom.pulse.alerts;

import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Silences in force: an alert whose labels match one gets no notifications (its changes are still published, marked
 * {@code silenced}). Bounded; expired silences are dropped on the next sweep. Touched only on the alert verticle's
 * context.
 */
final class Silences {

  /**
   * @param rule   rule name or glob ({@code cpu_*}); null matches every rule
   * @param labels labels that must all be present with these exact values (e.g. {@code instance})
   */
  record Silence(String id, String rule, Map<String, String> labels, long startsAtMs, long endsAtMs, String comment,
                 String createdBy) {

    Silence {
      labels = Collections.unmodifiableMap(new LinkedHashMap<>(labels));
    }

    JsonObject toJson() {
      return new JsonObject().put("id", id).put("rule", rule).put("labels", new JsonObject(new LinkedHashMap<>(labels)))
        .put("starts_at", Instant.ofEpochMilli(startsAtMs).toString()).put("ends_at", Instant.ofEpochMilli(endsAtMs).toString())
        .put("comment", comment).put("created_by", createdBy);
    }

    /** The form kept in Redis and sent to peers: times as epoch ms. */
    JsonObject toStored() {
      return toJson().put("starts_at_ms", startsAtMs).put("ends_at_ms", endsAtMs);
    }

    static Silence fromStored(JsonObject json) {
      Map<String, String> labels = new LinkedHashMap<>();
      json.getJsonObject("labels", new JsonObject()).forEach(e -> labels.put(e.getKey(), String.valueOf(e.getValue())));
      return new Silence(json.getString("id"), json.getString("rule"), labels, json.getLong("starts_at_ms"),
        json.getLong("ends_at_ms"), json.getString("comment", ""), json.getString("created_by", ""));
    }
  }

  private final int max;
  private final Map<String, Silence> byId = new LinkedHashMap<>();
  private final Map<String, Pattern> rulePatterns = new LinkedHashMap<>();

  Silences(int max) {
    this.max = max;
  }

  /** @return false when the limit is reached (an existing id is replaced, never refused) */
  boolean add(Silence silence) {
    if (!byId.containsKey(silence.id()) && byId.size() >= max) {
      return false;
    }
    byId.put(silence.id(), silence);
    if (silence.rule() != null) {
      rulePatterns.put(silence.id(), Pattern.compile(Rule.globToRegex(silence.rule())));
    }
    return true;
  }

  Silence remove(String id) {
    rulePatterns.remove(id);
    return byId.remove(id);
  }

  List<Silence> all() {
    return List.copyOf(byId.values());
  }

  /** The id of a silence in force that matches these labels, or null: the smallest, so every node names the same. */
  String silencedBy(Map<String, String> labels, long nowMs) {
    String id = null;
    for (Silence s : byId.values()) {
      if (s.startsAtMs() <= nowMs && nowMs < s.endsAtMs() && matches(s, labels) && (id == null || s.id().compareTo(id) < 0)) {
        id = s.id();
      }
    }
    return id;
  }

  Silence get(String id) {
    return byId.get(id);
  }

  private boolean matches(Silence s, Map<String, String> labels) {
    Pattern rule = rulePatterns.get(s.id());
    if (rule != null && !rule.matcher(labels.getOrDefault("alertname", "")).matches()) {
      return false;
    }
    for (Map.Entry<String, String> e : s.labels().entrySet()) {
      if (!e.getValue().equals(labels.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  /** Drops silences that have ended; returns them so the store can forget them too. */
  List<Silence> expire(long nowMs) {
    List<Silence> expired = new ArrayList<>();
    for (Iterator<Silence> it = byId.values().iterator(); it.hasNext(); ) {
      Silence s = it.next();
      if (s.endsAtMs() <= nowMs) {
        it.remove();
        rulePatterns.remove(s.id());
        expired.add(s);
      }
    }
    return expired;
  }
}
