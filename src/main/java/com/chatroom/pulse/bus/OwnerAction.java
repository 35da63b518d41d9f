package com.chatroom.pulse.bus;

import com.chatroom.pulse.bus.InvalidMessageException.Reason;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.util.Set;

/**
 * An {@code optimizer.actions} event as the owner of a resource (the stream, the chat gateway, history) reads it, per
 * the optimizer contract: only {@code applied} and {@code reverted} are orders, and only for this node (no
 * {@code "instance"}, or this node's id); every other state is the optimizer's audit trail, for dashboards.
 * Everything is validated as outside input: a body that is not a JSON object, an envelope field of the wrong type, an
 * unknown state, or (for an action the owner carries out) a missing or out-of-range parameter is an
 * {@link InvalidMessageException} naming the field, for the owner's {@link BusRejects}.
 *
 * @param action  the action's name ({@code shed_load}, {@code reap_idle}, {@code throttle_streams}, ...)
 * @param applied true for {@code applied}, false for {@code reverted}
 * @param body    the whole event, for the parameters (read them with {@link #integer} and {@link #number})
 */
public record OwnerAction(String action, boolean applied, JsonObject body) {

  /** Every state of the contract; anything else is refused as out of range. */
  public static final Set<String> STATES = Set.of("applied", "reverted", "skipped", "dry_run", "verified", "failed",
    "suspended", "resumed");

  /**
   * Reads an event for the owner on node {@code instance}.
   *
   * @return the order to carry out, or null when the event is informational or meant for another node
   * @throws InvalidMessageException naming the offending field
   */
  public static OwnerAction read(Object message, String instance) {
    JsonObject json = object(message);
    JsonFields f = new JsonFields(json);
    String action = required(json, "action", 64);
    String state = required(json, "state", 32);
    if (!STATES.contains(state)) {
      throw new InvalidMessageException("state", Reason.OUT_OF_RANGE,
        "field 'state' must be one of " + new java.util.TreeSet<>(STATES) + ", got '" + state + "'");
    }
    String target = f.optionalString("instance", 253, null);
    if (!state.equals("applied") && !state.equals("reverted")) {
      return null;
    }
    if (target != null && !target.equals(instance)) {
      return null;
    }
    return new OwnerAction(action, state.equals("applied"), json);
  }

  /** A required integer parameter in [min, max] (integral numbers such as {@code 5.0} are accepted). */
  public long integer(String field, long min, long max) {
    return new JsonFields(body).integer(field, min, max);
  }

  /** An optional integer parameter in [min, max], or {@code fallback} when absent. */
  public long optionalInteger(String field, long min, long max, long fallback) {
    return new JsonFields(body).optionalInteger(field, min, max, fallback);
  }

  /** A required number in (0, max]: rates must be positive. */
  public double positiveNumber(String field, double max) {
    double value = new JsonFields(body).number(field, 0, max);
    if (!(value > 0)) {
      throw new InvalidMessageException(field, Reason.OUT_OF_RANGE, "field '" + field + "' must be above 0, got " + value);
    }
    return value;
  }

  /** {@code applied} or {@code reverted}, for logs and meter tags. */
  public String state() {
    return applied ? "applied" : "reverted";
  }

  private static String required(JsonObject json, String field, int maxLength) {
    Object raw = json.getValue(field);
    if (raw == null) {
      throw new InvalidMessageException(field, Reason.MISSING_FIELD, "field '" + field + "' is missing");
    }
    if (!(raw instanceof String s)) {
      throw new InvalidMessageException(field, Reason.WRONG_TYPE, "field '" + field + "' must be a string, got " + raw);
    }
    if (s.isEmpty() || s.length() > maxLength) {
      throw new InvalidMessageException(field, Reason.OUT_OF_RANGE,
        "field '" + field + "' must be 1 to " + maxLength + " characters, got " + s.length());
    }
    return s;
  }

  private static JsonObject object(Object body) {
    if (body instanceof JsonObject o) {
      return o;
    }
    if (body instanceof String text) {
      return BusMessages.parseObject(text);
    }
    if (body instanceof Buffer buffer) {
      return BusMessages.parseObject(buffer.toString());
    }
    throw new InvalidMessageException("$", Reason.UNSUPPORTED_BODY, "expected an optimizer action as a JSON object, got "
      + (body == null ? "an empty body" : "a " + body.getClass().getSimpleName()));
  }
}
