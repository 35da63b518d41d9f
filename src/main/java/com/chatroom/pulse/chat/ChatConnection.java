package com.chatroom.pulse.chat;

import com.chatroom.pulse.chat.ChatCommands.ChatFrame;
import com.chatroom.pulse.chat.ChatIdentity.Identity;
import io.netty.channel.Channel;
import io.vertx.core.http.ServerWebSocket;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One chat WebSocket and its state, touched only on the event loop of the edge instance that accepted it.
 * Per room: the frames held while the join's history is still on its way (null once live), and the newest sequence
 * number written, so a message that reaches the edge both in the join's history and live is written once.
 */
final class ChatConnection {

  /** Live frames held for one joining room; past this the client is treated as one that cannot keep up. */
  static final int MAX_HELD = 10_000;

  final ServerWebSocket ws;
  /** The socket's Netty channel, where chat frames are written (see {@link ChatWire}). */
  final Channel channel;
  final Identity identity;
  final String ip;
  final Map<String, Membership> rooms = new HashMap<>();
  /** Joins whose history waits for the outbound buffer to drain, in the order they paused (see EdgeRooms). */
  final ArrayDeque<Runnable> waitingForDrain = new ArrayDeque<>();
  /** Whether the drain listener is on the channel (added once, on the first catch-up that has to wait). */
  boolean drainHooked;
  long lastInboundNanos = System.nanoTime();
  /** Set once a close has been decided: nothing more is read or written. */
  boolean closing;
  int violations;
  long violationWindowStart = System.nanoTime();
  private double tokens;
  private long lastRefill = System.nanoTime();

  ChatConnection(ServerWebSocket ws, Channel channel, Identity identity, String ip, int burst) {
    this.ws = ws;
    this.channel = channel;
    this.identity = identity;
    this.ip = ip;
    this.tokens = burst;
  }

  /** Token bucket with the rate in force now (the optimizer may tighten it while the connection is open). */
  boolean tryTake(double perSecond, int burst) {
    long now = System.nanoTime();
    tokens = Math.min(burst, tokens + (now - lastRefill) * perSecond / 1e9);
    lastRefill = now;
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }

  /** This connection in one room. */
  static final class Membership {
    final ChatConnection conn;
    /** Live frames held while joining; null once live. */
    List<ChatFrame> held = new ArrayList<>();
    /** The newest message sequence number written to the client in this room. */
    long lastSeq;

    Membership(ChatConnection conn) {
      this.conn = conn;
    }

    /** @return false when the held frames would exceed {@link #MAX_HELD} */
    boolean hold(ChatFrame frame) {
      if (held.size() >= MAX_HELD) {
        return false;
      }
      held.add(frame);
      return true;
    }
  }
}
