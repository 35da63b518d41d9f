package com.chatroom.pulse.chat;

import io.vertx.core.json.JsonObject;

/**
 * A client frame or command that cannot be honoured. {@code code} is stable (clients switch on it), {@code field}
 * names the offending field when there is one; the connection stays up.
 */
final class ChatError extends RuntimeException {

  final String code;
  final String field;

  ChatError(String code, String field, String message) {
    super(message, null, false, false);
    this.code = code;
    this.field = field;
  }

  JsonObject toFrame() {
    JsonObject json = new JsonObject().put("type", "error").put("code", code).put("message", getMessage());
    return field == null ? json : json.put("field", field);
  }
}
