package com.chatroom.pulse.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * An event serialized once, ready to be written as-is to every WebSocket subscriber.
 * Node-local only (published with {@code localOnly}); the payload buffer is shared by all writers and must
 * never be modified after construction.
 *
 * @param stream    the stream name a subscriber filters on: {@code system}, {@code app}, {@code alerts}, {@code optimizer}
 * @param instance  the instance the event is about, for instance filters
 * @param coalesce  true for latest-value data (samples): a slow subscriber may skip to the newest;
 *                  false for events that must each be delivered (alerts, actions)
 * @param payload   the complete UTF-8 text frame
 * @param source    the record the frame was made from, when it was one (for node-local readers such as the current
 *                  metrics API); null for events that arrived as plain JSON. Not part of the wire form
 */
public record StreamFrame(String stream, String instance, boolean coalesce, Buffer payload, PulseMessage source)
  implements PulseMessage {

  public static final String KIND = "frame";

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("stream", stream).put("instance", instance).put("coalesce", coalesce)
      .put("payload", payload.toString());
  }

  static StreamFrame fromJson(JsonObject json) {
    JsonFields f = new JsonFields(json);
    String stream = f.optionalString("stream", 64, "");
    String instance = f.optionalString("instance", 253, "");
    String payload = f.optionalString("payload", Integer.MAX_VALUE, "");
    return new StreamFrame(stream, instance, Boolean.TRUE.equals(json.getValue("coalesce")), Buffer.buffer(payload), null);
  }
}
