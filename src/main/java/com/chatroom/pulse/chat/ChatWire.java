package com.chatroom.pulse.chat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Chat frames on the wire. A server-to-client WebSocket frame is unmasked, so the bytes of one message are the same
 * for every recipient: the room registry encodes each message's complete frame (header and JSON) once per node, and
 * each socket gets a duplicate of it written straight to its Netty channel. Against Vert.x's {@code writeFrame}, that
 * skips per recipient a lock, a promise, a queue hand-off and the frame encoder's allocation and copy: measured in
 * BENCHMARKS.md. Every chat frame of a connection goes this way, so they stay in order; only the close frame goes
 * through Vert.x, after them. The write queue bound is the channel's own: {@code setWriteQueueMaxSize} sets its
 * high water mark, and {@link #full} reads the channel's writability.
 * The channel comes from the upgraded request's connection (vertx-web wraps the WebSocket itself, hiding it), through
 * Vert.x's {@link ConnectionBase}; if an upgrade breaks that, fall back to
 * {@code ws.writeFrame(WebSocketFrame.textFrame(...))} and {@code ws.writeQueueFull()}.
 */
final class ChatWire {

  private ChatWire() {
  }

  /** A complete, final, unmasked text frame holding {@code utf8}; shareable: writers take duplicates, nobody frees it. */
  static ByteBuf textFrame(Buffer utf8) {
    byte[] payload = utf8.getBytes();
    int length = payload.length;
    int header = length < 126 ? 2 : length < 65536 ? 4 : 10;
    byte[] frame = new byte[header + length];
    frame[0] = (byte) 0x81; // FIN + text
    if (length < 126) {
      frame[1] = (byte) length;
    } else if (length < 65536) {
      frame[1] = 126;
      frame[2] = (byte) (length >>> 8);
      frame[3] = (byte) length;
    } else {
      frame[1] = 127;
      for (int i = 0; i < 8; i++) {
        frame[2 + i] = (byte) ((long) length >>> (56 - 8 * i));
      }
    }
    System.arraycopy(payload, 0, frame, header, length);
    return Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(frame));
  }

  /** The TCP channel under an HTTP/1.1 request, which its WebSocket upgrade keeps using. */
  static Channel channel(HttpServerRequest request) {
    return ((ConnectionBase) request.connection()).channel();
  }

  /** Whether the socket's outbound buffer is past its high water mark. */
  static boolean full(Channel channel) {
    return !channel.isWritable();
  }

  /**
   * Writes and flushes a frame built by {@link #textFrame}; call on the socket's event loop. From the pipeline's tail
   * a plain buffer passes the WebSocket encoder untouched (it only encodes frame objects).
   */
  static void write(Channel channel, ByteBuf frame) {
    channel.writeAndFlush(frame.duplicate(), channel.voidPromise());
  }
}
