package com.chatroom.pulse.chat;

import com.chatroom.pulse.http.WsWire;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;

/**
 * Chat frames on the wire, through {@link WsWire}: the room registry encodes each message's complete frame once per
 * node and each member's socket gets a duplicate of it written straight to its Netty channel (measured in
 * BENCHMARKS.md). Every chat frame of a connection goes this way, so they stay in order; only the close frame goes
 * through Vert.x, after them. A chat client whose channel is full is disconnected (it recovers from history); only
 * a join's history waits for the channel to drain (see EdgeRooms).
 */
final class ChatWire {

  private ChatWire() {
  }

  /** A complete, final, unmasked text frame holding {@code utf8}; shareable: writers take duplicates, nobody frees it. */
  static ByteBuf textFrame(Buffer utf8) {
    return WsWire.textFrame(utf8);
  }

  /** The TCP channel under an HTTP/1.1 request, which its WebSocket upgrade keeps using. */
  static Channel channel(HttpServerRequest request) {
    return WsWire.channel(request);
  }

  /** Whether the socket's outbound buffer is past its high water mark. */
  static boolean full(Channel channel) {
    return WsWire.full(channel);
  }

  /** Runs {@code drained} on the socket's event loop each time its outbound buffer falls back under the low water mark. */
  static void onWritable(Channel channel, Runnable drained) {
    WsWire.onWritable(channel, drained);
  }

  /** Writes and flushes a frame built by {@link #textFrame}; call on the socket's event loop. */
  static void write(Channel channel, ByteBuf frame) {
    WsWire.write(channel, frame);
  }
}
