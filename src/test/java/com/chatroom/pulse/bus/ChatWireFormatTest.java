package com.chatroom.pulse.bus;

import com.chatroom.pulse.bus.ChatPresence.Member;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@DisplayName("Chat records on the cluster wire")
class ChatWireFormatTest {

  private static PulseMessage roundTrip(PulseMessage message) {
    PulseMessageCodec codec = new PulseMessageCodec();
    Buffer wire = Buffer.buffer();
    codec.encodeToWire(wire, message);
    return codec.decodeFromWire(0, wire);
  }

  @Test
  @DisplayName("a room message crosses the cluster as JSON and comes back equal, except the node-local receive time")
  void messageRoundTrip() {
    ChatMessage sent = new ChatMessage("lobby", 42, "c-7", "u1", "Ann", "hi <b>\u00e9\u2603", 1_764_146_820.512, "pod-a", 123456789);
    ChatMessage back = (ChatMessage) roundTrip(sent);
    assertThat(back).isEqualTo(new ChatMessage("lobby", 42, "c-7", "u1", "Ann", "hi <b>\u00e9\u2603", 1_764_146_820.512, "pod-a", 0));
    assertThat(sent.toFrame().getString("type")).isEqualTo("message");
    assertThat(sent.toFrame().containsKey("origin")).isFalse();
  }

  @Test
  @DisplayName("presence batches, sync requests included, cross the cluster and come back equal")
  void presenceRoundTrip() {
    ChatPresence sent = new ChatPresence("lobby", "pod-b", List.of(new Member("u1", "Ann")), List.of(new Member("u2", "Bo")), true);
    assertThat(roundTrip(sent)).isEqualTo(sent);
  }

  @Test
  @DisplayName("a malformed room message from a peer is refused with the field named")
  void refusesBadPeerMessage() {
    JsonObject json = new ChatMessage("lobby", 1, "c", "u", "n", "t", 1_764_146_820d, "pod-a", 0).toJson().put("seq", 0);
    assertThatThrownBy(() -> ChatMessage.fromJson(json)).isInstanceOf(InvalidMessageException.class).hasMessageContaining("'seq'");
  }
}
