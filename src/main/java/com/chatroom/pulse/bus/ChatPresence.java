package com.chatroom.pulse.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * A batch of joins and leaves in one room on one node, published on the room's cluster address so every node
 * that has members there can keep its member view and tell its clients.
 *
 * @param room   room name
 * @param origin the registry whose members joined or left: its Vert.x node id when clustered, else its instance id
 * @param joined users that joined (first connection of that user on that node)
 * @param left   users that left (last connection of that user on that node)
 * @param sync   true when {@code origin} has just subscribed to the room: every other node with members there answers
 *               with its full member list (a plain batch), since the newcomer missed their earlier joins
 */
public record ChatPresence(String room, String origin, List<Member> joined, List<Member> left, boolean sync) implements PulseMessage {

  public static final String KIND = "presence";

  /** A member as clients see it. */
  public record Member(String id, String name) {
    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("name", name);
    }
  }

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("room", room).put("origin", origin).put("joined", members(joined)).put("left", members(left))
      .put("sync", sync);
  }

  static JsonArray members(List<Member> members) {
    JsonArray array = new JsonArray();
    members.forEach(m -> array.add(m.toJson()));
    return array;
  }

  static ChatPresence fromJson(JsonObject json) {
    JsonFields f = new JsonFields(json);
    return new ChatPresence(f.optionalString("room", 64, ""), f.optionalString("origin", 253, ""),
      read(f, "joined"), read(f, "left"), Boolean.TRUE.equals(json.getValue("sync")));
  }

  private static List<Member> read(JsonFields f, String field) {
    JsonArray array = f.array(field, 0, 100_000);
    List<Member> out = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      JsonFields m = new JsonFields(JsonFields.objectElement(field, array, i));
      out.add(new Member(m.optionalString("id", 128, ""), m.optionalString("name", 64, "")));
    }
    return out;
  }
}
