package com.chatroom.pulse.chat;

import com.chatroom.pulse.bus.ChatMessage;
import com.chatroom.pulse.chat.ChatCommands.ChatFrame;

import java.util.List;

/**
 * Writes a join's history, then the live frames held meanwhile, only while the client's outbound buffer has room,
 * and goes on when it drains. A history can be larger than {@code chat.write_queue_bytes} (200 messages of 2,000
 * characters are): written at once, it closed a client that came back with {@code since} after a slow disconnect
 * as too slow again, before it could read a byte, so it could never recover (StalledChatIT). While paused, the
 * room's live frames stay held (at most {@link ChatConnection#MAX_HELD}).
 */
final class JoinCatchUp implements Runnable {

  private final ChatConnection conn;
  private final String room;
  private final ChatConnection.Membership membership;
  private final List<ChatMessage> history;
  private int nextMessage;
  private int nextHeld;

  JoinCatchUp(ChatConnection conn, String room, ChatConnection.Membership membership, List<ChatMessage> history) {
    this.conn = conn;
    this.room = room;
    this.membership = membership;
    this.history = history;
  }

  @Override
  public void run() {
    // the channel's state, not ws.isClosed(), which takes the WebSocket's lock (as EdgeRooms.write)
    while (!conn.closing && conn.channel.isActive() && conn.rooms.get(room) == membership) {
      if (ChatWire.full(conn.channel)) {
        waitForDrain(conn, this);
        return;
      }
      if (nextMessage < history.size()) {
        ChatMessage m = history.get(nextMessage++);
        if (m.seq() > membership.lastSeq) {
          membership.lastSeq = m.seq();
          ChatWire.write(conn.channel, ChatWire.textFrame(m.toFrame().toBuffer()));
        }
      } else if (nextHeld < membership.held.size()) {
        ChatFrame f = membership.held.get(nextHeld++);
        // presence held during the join is already in the joined frame's members and count
        if (f.seq() > membership.lastSeq) {
          membership.lastSeq = f.seq();
          ChatWire.write(conn.channel, f.wire());
        }
      } else {
        membership.held = null;
        return;
      }
    }
  }

  private static void waitForDrain(ChatConnection conn, Runnable resume) {
    if (!conn.drainHooked) {
      conn.drainHooked = true;
      ChatWire.onWritable(conn.channel, () -> {
        for (int n = conn.waitingForDrain.size(); n > 0 && !ChatWire.full(conn.channel); n--) {
          conn.waitingForDrain.poll().run();
        }
      });
    }
    conn.waitingForDrain.add(resume);
  }
}
