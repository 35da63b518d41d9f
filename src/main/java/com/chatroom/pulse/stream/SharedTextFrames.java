package com.chatroom.pulse.stream;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.http.impl.ws.WebSocketFrameImpl;

/**
 * A text frame over an already-encoded UTF-8 buffer. Vert.x's public API builds text frames only from a
 * {@code String}, which would re-encode the same event once per subscriber; this wraps a read-only slice of the
 * shared buffer instead, so 10,000 subscribers cost 10,000 slices and no copies. It relies on Vert.x's
 * {@code WebSocketFrameImpl}: if an upgrade breaks this, fall back to {@code WebSocketFrame.textFrame(buffer.toString(), true)}.
 */
public final class SharedTextFrames {

  private SharedTextFrames() {
  }

  public static WebSocketFrame of(Buffer utf8) {
    return new WebSocketFrameImpl(WebSocketFrameType.TEXT, ((BufferInternal) utf8).getByteBuf(), true);
  }
}
