package com.chatroom.pulse.bus;

import io.vertx.core.json.JsonObject;

/**
 * The family of immutable records that travel on Pulse's event bus. Locally they are passed by reference
 * (see {@link PulseMessageCodec}); across the cluster and at every other edge they are JSON.
 */
public sealed interface PulseMessage permits Sample, StreamFrame, AlertEvent, ChatMessage,
  ChatPresence {

  /** Stable wire tag: identifies the record type in the cluster encoding. */
  String kind();

  /** The edge representation: a fresh JSON object, field names as in the public contract. */
  JsonObject toJson();
}
