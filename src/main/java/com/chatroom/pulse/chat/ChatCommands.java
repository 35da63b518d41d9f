package com.chatroom.pulse.chat;

import com.chatroom.pulse.bus.ChatPresence.Member;
import io.netty.buffer.ByteBuf;

import java.util.List;

/**
 * What the edge instances ask of this node's room registry on {@link com.chatroom.pulse.bus.Addresses#CHAT_COMMANDS},
 * and what they get back, all passed by reference. A refusal comes back as a {@link ChatError} body.
 */
final class ChatCommands {

  private ChatCommands() {
  }

  /** One connection joins a room; {@code since} null means "the newest join_history messages". */
  record Join(String room, Member member, boolean admin, Long since) {
  }

  /** One connection leaves a room (or closed while in it). */
  record Leave(String room, Member member) {
  }

  /** A message from a connection, with the edge's receive time for the fan-out latency. */
  record Post(String room, Member member, String clientId, String text, long receivedNanos) {
  }

  /**
   * The answer to a join: what the client missed, whether history no longer reaches back to {@code since}, whether the
   * room is behind {@code since} (rewound: a store restored from an older backup, or a memory store restarted; the
   * history is then the room's newest messages, and numbers up to {@code since} will be handed out again), and the
   * room's members (the list up to presence_list_max members, else null and only the count).
   */
  record Joined(ChatStore.History history, boolean gap, boolean rewound, int count, List<Member> members) {
  }

  /**
   * A room event serialized once per node, for every edge instance to write to its members of {@code room}.
   *
   * @param seq           the message sequence number, or 0 for presence frames (never held back or filtered)
   * @param wire          the complete WebSocket frame ({@link ChatWire#textFrame}), shared by every writer
   * @param receivedNanos edge receive time on this node, 0 when the message came from another node
   */
  record ChatFrame(String room, long seq, ByteBuf wire, long receivedNanos) {
  }
}
