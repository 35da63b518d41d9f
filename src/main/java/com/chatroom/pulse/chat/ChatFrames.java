package com.chatroom.pulse.chat;

import com.chatroom.pulse.bus.BusMessages;
import com.chatroom.pulse.bus.InvalidMessageException;
import com.chatroom.pulse.config.ChatConfig;
import io.vertx.core.json.JsonObject;

/** What a chat client may send, parsed strictly: every problem is a {@link ChatError} naming the field. */
final class ChatFrames {

  record Join(String room, Long since) {
  }

  record Leave(String room) {
  }

  record Send(String room, String id, String text) {
  }

  record Ping(Object id) {
  }

  private static final String TYPES = "\"join\", \"leave\", \"send\" or \"ping\"";

  private ChatFrames() {
  }

  static Object parse(String text, int maxMessageChars) {
    JsonObject json;
    try {
      json = BusMessages.parseObject(text);
    } catch (InvalidMessageException e) {
      throw new ChatError(e.reason() == InvalidMessageException.Reason.MALFORMED ? "malformed_json" : "wrong_type", null, e.getMessage());
    }
    String type = string(json, "type", 16);
    return switch (type) {
      case "join" -> new Join(room(json), since(json));
      case "leave" -> new Leave(room(json));
      case "send" -> new Send(room(json), string(json, "id", 64), message(json, maxMessageChars));
      case "ping" -> new Ping(pingId(json));
      default -> throw new ChatError("unknown_type", "type", "unknown frame type '" + shorten(type) + "': expected " + TYPES);
    };
  }

  private static String room(JsonObject json) {
    String room = string(json, "room", 64);
    if (!room.matches(ChatConfig.ROOM_PATTERN)) {
      throw new ChatError("bad_room", "room", "field 'room' must be 1 to 64 letters, digits, '.', '_' or '-'");
    }
    return room;
  }

  private static Long since(JsonObject json) {
    Object raw = json.getValue("since");
    if (raw == null) {
      return null;
    }
    if (!(raw instanceof Integer || raw instanceof Long) || ((Number) raw).longValue() < 0) {
      throw new ChatError(raw instanceof Number ? "out_of_range" : "wrong_type", "since",
        "field 'since' must be a room sequence number (an integer, 0 or more)");
    }
    return ((Number) raw).longValue();
  }

  private static String message(JsonObject json, int max) {
    Object raw = json.getValue("text");
    if (raw == null) {
      throw new ChatError("missing_field", "text", "field 'text' is missing");
    }
    if (!(raw instanceof String text)) {
      throw new ChatError("wrong_type", "text", "field 'text' must be a string");
    }
    if (text.isBlank()) {
      throw new ChatError("out_of_range", "text", "field 'text' must not be empty");
    }
    if (text.codePointCount(0, text.length()) > max) {
      throw new ChatError("message_too_long", "text", "field 'text' may have at most " + max + " characters");
    }
    return text;
  }

  private static Object pingId(JsonObject json) {
    Object id = json.getValue("id");
    if (id != null && !(id instanceof String s && s.length() <= 64) && !(id instanceof Number)) {
      throw new ChatError("wrong_type", "id", "field 'id' must be a number or a string of at most 64 characters");
    }
    return id;
  }

  private static String string(JsonObject json, String field, int max) {
    Object raw = json.getValue(field);
    if (raw == null) {
      throw new ChatError("missing_field", field, "field '" + field + "' is missing");
    }
    if (!(raw instanceof String s)) {
      throw new ChatError("wrong_type", field, "field '" + field + "' must be a string");
    }
    if (s.isEmpty() || s.length() > max) {
      throw new ChatError("out_of_range", field, "field '" + field + "' must be 1 to " + max + " characters");
    }
    return s;
  }

  private static String shorten(String value) {
    return value.length() > 32 ? value.substring(0, 32) + "…" : value;
  }
}
