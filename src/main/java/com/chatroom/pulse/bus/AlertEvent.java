package com.chatroom.pulse.bus;

import com.chatroom.pulse.bus.InvalidMessageException.Reason;
import io.vertx.core.json.JsonObject;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * An alert changing state, published on {@link Addresses#ALERTS_EVENTS}. One per change of one rule on one instance.
 *
 * @param id             the change's idempotency key: {@code <rule>/<instance>/<state>/<episode start, epoch ms>}; the
 *                       same change evaluated on two nodes (or before and after a restart) has the same id
 * @param rule           the rule's name (the {@code alertname} label)
 * @param instance       the instance the samples came from
 * @param state          {@code pending}, {@code firing}, {@code resolved}, {@code inactive} (a pending alert whose
 *                       condition went away before its {@code for}) or {@code flapping}
 * @param previousState  the state before this change (equal to {@code state} when only a flag changed)
 * @param reason         why: {@code threshold}, {@code for_elapsed}, {@code cleared}, {@code condition_gone},
 *                       {@code no_data}, {@code flapping_started}, {@code flapping_ended}, {@code silenced},
 *                       {@code unsilenced}, {@code acknowledged}
 * @param severity       {@code critical}, {@code warning} or {@code info}
 * @param metric         the rule's metric expression
 * @param op             the rule's comparison: {@code >}, {@code >=}, {@code <} or {@code <=}
 * @param value          the metric's value at the change (NaN when unknown, null in JSON)
 * @param threshold      the rule's threshold
 * @param clearThreshold where the alert resolves
 * @param labels         alertname, instance, severity and the rule's labels
 * @param annotations    the rule's annotations, rendered
 * @param activeSince    epoch seconds of the first sample of this episode
 * @param changedAt      epoch seconds of the sample (or the clock, for no_data and flags) that made the change
 * @param silenced       a silence matches the alert now: no notifications
 * @param acknowledged   someone acknowledged this firing episode: no repeats
 * @param acknowledgedBy who acknowledged it, or null
 * @param node           the Pulse node that evaluated it
 */
public record AlertEvent(String id, String rule, String instance, String state, String previousState, String reason,
                         String severity, String metric, String op, double value, double threshold, double clearThreshold,
                         Map<String, String> labels, Map<String, String> annotations, double activeSince,
                         double changedAt, boolean silenced, boolean acknowledged, String acknowledgedBy, String node)
  implements PulseMessage {

  public static final String KIND = "alert";
  public static final Set<String> STATES = Set.of("pending", "firing", "resolved", "inactive", "flapping");

  public AlertEvent {
    labels = Collections.unmodifiableMap(new LinkedHashMap<>(labels));
    annotations = Collections.unmodifiableMap(new LinkedHashMap<>(annotations));
  }

  /** The same change with the silence flag set or cleared. */
  public AlertEvent withSilenced(boolean silenced, String reason) {
    return new AlertEvent(id, rule, instance, state, previousState, reason, severity, metric, op, value, threshold,
      clearThreshold, labels, annotations, activeSince, changedAt, silenced, acknowledged, acknowledgedBy, node);
  }

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject()
      .put("id", id).put("rule", rule).put("instance", instance).put("state", state)
      .put("previous_state", previousState).put("reason", reason).put("severity", severity).put("metric", metric).put("op", op)
      .put("value", Double.isFinite(value) ? value : null).put("threshold", threshold)
      .put("clear_threshold", clearThreshold)
      .put("labels", new JsonObject(new LinkedHashMap<>(labels)))
      .put("annotations", new JsonObject(new LinkedHashMap<>(annotations)))
      .put("active_since", JsonFields.seconds(activeSince)).put("changed_at", JsonFields.seconds(changedAt))
      .put("silenced", silenced).put("acknowledged", acknowledged).put("acknowledged_by", acknowledgedBy)
      .put("node", node);
  }

  /**
   * Reads and validates the JSON form (a cluster peer's event).
   *
   * @throws InvalidMessageException naming the first offending field
   */
  public static AlertEvent fromJson(JsonObject json) {
    JsonFields f = new JsonFields(json);
    String state = required(f, "state", 16);
    if (!STATES.contains(state)) {
      throw new InvalidMessageException("state", Reason.OUT_OF_RANGE,
        "field 'state' must be one of pending, firing, resolved, inactive, flapping, got '" + state + "'");
    }
    return new AlertEvent(required(f, "id", 1024), required(f, "rule", 128), required(f, "instance", 253), state,
      required(f, "previous_state", 16), required(f, "reason", 64), required(f, "severity", 16),
      required(f, "metric", 256), required(f, "op", 2), f.optionalNumber("value", -Double.MAX_VALUE, Double.MAX_VALUE, Double.NaN),
      f.number("threshold", -Double.MAX_VALUE, Double.MAX_VALUE),
      f.number("clear_threshold", -Double.MAX_VALUE, Double.MAX_VALUE),
      stringMap(json, "labels"), stringMap(json, "annotations"), f.timestamp("active_since"), f.timestamp("changed_at"),
      bool(json, "silenced"), bool(json, "acknowledged"), f.optionalString("acknowledged_by", 256, null),
      required(f, "node", 253));
  }

  private static String required(JsonFields f, String field, int maxLength) {
    String value = f.optionalString(field, maxLength, null);
    if (value == null) {
      throw new InvalidMessageException(field, Reason.MISSING_FIELD, "field '" + field + "' is missing");
    }
    return value;
  }

  private static boolean bool(JsonObject json, String field) {
    Object raw = json.getValue(field);
    if (raw == null || raw instanceof Boolean) {
      return Boolean.TRUE.equals(raw);
    }
    throw new InvalidMessageException(field, Reason.WRONG_TYPE, "field '" + field + "' must be true or false");
  }

  private static Map<String, String> stringMap(JsonObject json, String field) {
    Object raw = json.getValue(field);
    if (raw == null) {
      return Map.of();
    }
    if (!(raw instanceof JsonObject object) || object.size() > 64) {
      throw new InvalidMessageException(field, Reason.WRONG_TYPE, "field '" + field + "' must be an object of at most 64 strings");
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : object) {
      if (!(e.getValue() instanceof String s) || s.length() > 8192) {
        throw new InvalidMessageException(field + "." + e.getKey(), Reason.WRONG_TYPE,
          "field '" + field + "." + e.getKey() + "' must be a string of at most 8192 characters");
      }
      values.put(e.getKey(), s);
    }
    return values;
  }
}
