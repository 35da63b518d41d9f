package com.chatroom.pulse.stream;

import com.chatroom.pulse.bus.BusMessages;
import com.chatroom.pulse.bus.InvalidMessageException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * What a stream client may send, parsed strictly. Every problem becomes a {@link StreamError} with a stable code,
 * the offending field and a message the client can act on.
 */
final class ClientFrames {

  static final int MAX_INSTANCES = 256;
  static final int MAX_NAME = 253;

  /** A client frame that cannot be honoured; the connection stays up. */
  static final class StreamError extends RuntimeException {
    final String code;
    final String field;

    StreamError(String code, String field, String message) {
      super(message, null, false, false);
      this.code = code;
      this.field = field;
    }

    JsonObject toJson() {
      JsonObject json = new JsonObject().put("type", "error").put("code", code).put("message", getMessage());
      return field == null ? json : json.put("field", field);
    }
  }

  /** A subscribe frame: null sets mean "all". */
  record Subscribe(Set<String> streams, Set<String> instances) {
  }

  /** A ping frame, answered with a pong carrying the same id and the server time (for lag and clock checks). */
  record Ping(Object id) {
  }

  /** What a client may ask for in the connect URL: an initial filter and a backfill start (null: none). */
  record Connect(Subscribe filter, Double since) {
  }

  private ClientFrames() {
  }

  /**
   * Reads {@code ?streams=a,b&instances=x,y&since=<epoch s>} or {@code &backfill_minutes=N} from the connect URL.
   *
   * @param maxBackfillSeconds how far back history reaches
   */
  static Connect connect(io.vertx.core.MultiMap params, double now, double maxBackfillSeconds) {
    JsonObject filter = new JsonObject();
    for (String name : new String[] {"streams", "instances"}) {
      String value = params.get(name);
      if (value != null) {
        JsonArray list = new JsonArray();
        for (String part : value.split(",", -1)) {
          list.add(part.trim());
        }
        filter.put(name, list);
      }
    }
    Subscribe subscribe = subscribe(filter);
    Double since = null;
    String sinceText = params.get("since");
    String minutesText = params.get("backfill_minutes");
    if (sinceText != null && minutesText != null) {
      throw new StreamError("bad_request", "since", "give either 'since' or 'backfill_minutes', not both");
    }
    if (sinceText != null) {
      since = seconds("since", sinceText, now - maxBackfillSeconds, now);
    } else if (minutesText != null) {
      since = now - 60 * seconds("backfill_minutes", minutesText, 0, maxBackfillSeconds / 60);
    }
    return new Connect(subscribe, since);
  }

  private static double seconds(String field, String text, double min, double max) {
    double value;
    try {
      value = Double.parseDouble(text.trim());
    } catch (NumberFormatException e) {
      throw new StreamError("wrong_type", field, "parameter '" + field + "' must be a number");
    }
    if (!Double.isFinite(value)) {
      throw new StreamError("out_of_range", field, "parameter '" + field + "' must be a finite number");
    }
    // older than history keeps is not an error: the client gets all there is
    return Math.min(max, Math.max(min, value));
  }

  static Object parse(String text) {
    JsonObject json;
    try {
      json = BusMessages.parseObject(text);
    } catch (InvalidMessageException e) {
      throw new StreamError(e.reason() == InvalidMessageException.Reason.MALFORMED ? "malformed_json" : "wrong_type",
        null, e.getMessage());
    }
    Object type = json.getValue("type");
    if (type == null) {
      throw new StreamError("missing_field", "type", "field 'type' is missing: expected \"subscribe\" or \"ping\"");
    }
    if (!(type instanceof String t)) {
      throw new StreamError("wrong_type", "type", "field 'type' must be a string");
    }
    return switch (t) {
      case "subscribe" -> subscribe(json);
      case "ping" -> ping(json);
      default -> throw new StreamError("unknown_type", "type",
        "unknown frame type '" + shorten(t) + "': expected \"subscribe\" or \"ping\"");
    };
  }

  private static Subscribe subscribe(JsonObject json) {
    Set<String> streams = names(json, "streams", Streams.ALL.size());
    if (streams != null) {
      for (String stream : streams) {
        if (!Streams.ALL.contains(stream)) {
          throw new StreamError("unknown_stream", "streams",
            "unknown stream '" + shorten(stream) + "': expected any of " + Streams.ALL);
        }
      }
    }
    return new Subscribe(streams, names(json, "instances", MAX_INSTANCES));
  }

  private static Ping ping(JsonObject json) {
    Object id = json.getValue("id");
    if (id != null && !(id instanceof String s && s.length() <= 64) && !(id instanceof Number)) {
      throw new StreamError("wrong_type", "id", "field 'id' must be a number or a string of at most 64 characters");
    }
    return new Ping(id);
  }

  /** An optional, non-empty array of distinct names; null when absent. */
  private static Set<String> names(JsonObject json, String field, int max) {
    Object raw = json.getValue(field);
    if (raw == null) {
      return null;
    }
    if (!(raw instanceof JsonArray array)) {
      throw new StreamError("wrong_type", field, "field '" + field + "' must be an array of strings (omit it for all)");
    }
    if (array.isEmpty() || array.size() > max) {
      throw new StreamError("out_of_range", field, "field '" + field + "' must have 1 to " + max + " entries (omit it for all), got " + array.size());
    }
    Set<String> names = new LinkedHashSet<>();
    for (int i = 0; i < array.size(); i++) {
      Object item = array.getValue(i);
      if (!(item instanceof String s) || s.isEmpty() || s.length() > MAX_NAME) {
        throw new StreamError("wrong_type", field + "[" + i + "]",
          "field '" + field + "[" + i + "]' must be a string of 1 to " + MAX_NAME + " characters");
      }
      names.add(s);
    }
    return Set.copyOf(names);
  }

  private static String shorten(String value) {
    return value.length() > 64 ? value.substring(0, 64) + "…" : value;
  }
}
