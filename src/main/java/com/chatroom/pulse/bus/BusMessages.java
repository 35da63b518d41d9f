package com.chatroom.pulse.bus;

import com.chatroom.pulse.bus.InvalidMessageException.Reason;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.util.function.Function;

/**
 * Turns whatever arrived on a metrics address into a validated record. JVM producers should publish the records;
 * producers that only have JSON (another verticle, a bridge) may publish a {@link JsonObject}, a JSON string or a
 * buffer holding JSON, and get the same validation as HTTP ingest.
 */
public final class BusMessages {

  private BusMessages() {
  }

  /** @throws InvalidMessageException naming the offending field */
  public static SystemMetrics systemMetrics(Object body) {
    return decode(body, SystemMetrics.class, SystemMetrics::fromJson);
  }

  /** @throws InvalidMessageException naming the offending field */
  public static ApplicationMetrics applicationMetrics(Object body) {
    return decode(body, ApplicationMetrics.class, ApplicationMetrics::fromJson);
  }

  /** Parses JSON text from outside into an object, with a precise error for anything else. */
  public static JsonObject parseObject(String text) {
    Object value;
    try {
      value = io.vertx.core.json.Json.decodeValue(text);
    } catch (DecodeException e) {
      throw new InvalidMessageException("$", Reason.MALFORMED, "malformed JSON: " + firstLine(e.getMessage()));
    }
    if (value instanceof JsonObject o) {
      return o;
    }
    throw new InvalidMessageException("$", Reason.WRONG_TYPE, "expected a JSON object, got " +
      (value == null ? "null" : value instanceof io.vertx.core.json.JsonArray ? "an array" : "a " + value.getClass().getSimpleName().toLowerCase()));
  }

  private static <T> T decode(Object body, Class<T> type, Function<JsonObject, T> reader) {
    if (type.isInstance(body)) {
      return type.cast(body);
    }
    if (body instanceof JsonObject json) {
      return reader.apply(json);
    }
    if (body instanceof String text) {
      return reader.apply(parseObject(text));
    }
    if (body instanceof Buffer buffer) {
      return reader.apply(parseObject(buffer.toString()));
    }
    String got = body == null ? "an empty body" : "a " + body.getClass().getSimpleName();
    throw new InvalidMessageException("$", Reason.UNSUPPORTED_BODY,
      "expected " + type.getSimpleName() + " as a record or JSON object, got " + got);
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unreadable input";
    }
    int cut = message.indexOf('\n');
    String line = cut < 0 ? message : message.substring(0, cut);
    return line.length() > 200 ? line.substring(0, 200) + "…" : line;
  }
}
