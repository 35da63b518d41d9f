package com.chatroom.pulse.bus;

import io.vertx.core.json.JsonObject;

/**
 * One chat message after the room sequencer accepted it, published on the room's cluster address
 * ({@link Addresses#chatRoom}). Its {@code seq} is the room's sequence number, monotonic across the cluster.
 *
 * @param room          room name
 * @param seq           room sequence number, from 1
 * @param clientId      the sender's message id (de-duplication key with the user)
 * @param userId        sender's stable id ({@code sub} of the JWT, or {@code anon:...})
 * @param userName      sender's display name; text only, never interpreted
 * @param text          the message text; delivered as text, never interpreted
 * @param timestamp     epoch seconds when the sequencer accepted it
 * @param origin        the instance whose edge received it
 * @param receivedNanos {@link System#nanoTime()} at the edge, meaningful only on the origin node (0 elsewhere)
 */
public record ChatMessage(String room, long seq, String clientId, String userId, String userName, String text,
                          double timestamp, String origin, long receivedNanos) implements PulseMessage {

  public static final String KIND = "chat";

  @Override
  public String kind() {
    return KIND;
  }

  /** The wire form; also the client frame, minus {@code type}. */
  @Override
  public JsonObject toJson() {
    return new JsonObject().put("room", room).put("seq", seq).put("id", clientId)
      .put("from", new JsonObject().put("id", userId).put("name", userName))
      .put("text", text).put("ts", JsonFields.seconds(timestamp)).put("origin", origin);
  }

  /** The client frame: {@code {"type":"message", room, seq, id, from:{id,name}, text, ts}}. */
  public JsonObject toFrame() {
    JsonObject json = toJson();
    json.remove("origin");
    return new JsonObject().put("type", "message").mergeIn(json);
  }

  static ChatMessage fromJson(JsonObject json) {
    JsonFields f = new JsonFields(json);
    JsonObject from = json.getValue("from") instanceof JsonObject o ? o : new JsonObject();
    JsonFields u = new JsonFields(from);
    return new ChatMessage(f.optionalString("room", 64, ""), f.integer("seq", 1, JsonFields.MAX_SAFE_INTEGER),
      f.optionalString("id", 64, ""), u.optionalString("id", 128, ""), u.optionalString("name", 64, ""),
      f.optionalString("text", 100_000, ""), f.timestamp("ts"), f.optionalString("origin", 253, ""), 0);
  }
}
