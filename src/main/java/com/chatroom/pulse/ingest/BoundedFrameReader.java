package com.chatroom.pulse.ingest;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;

import java.util.function.IntConsumer;

/**
 * Splits a TCP stream into bridge frames (4-byte big-endian length, then that many bytes) without ever holding more
 * than one frame of at most {@code maxFrameBytes}: a larger declared length is reported at once and reading stops.
 */
final class BoundedFrameReader implements Handler<Buffer> {

  private final int maxFrameBytes;
  private final Handler<Buffer> onFrame;
  private final IntConsumer onTooLarge;
  private Buffer pending = Buffer.buffer();
  private boolean stopped;

  BoundedFrameReader(int maxFrameBytes, Handler<Buffer> onFrame, IntConsumer onTooLarge) {
    this.maxFrameBytes = maxFrameBytes;
    this.onFrame = onFrame;
    this.onTooLarge = onTooLarge;
  }

  @Override
  public void handle(Buffer chunk) {
    if (stopped) {
      return;
    }
    pending.appendBuffer(chunk);
    int offset = 0;
    while (pending.length() - offset >= 4) {
      int length = pending.getInt(offset);
      if (length < 0 || length > maxFrameBytes) {
        stopped = true;
        pending = Buffer.buffer();
        onTooLarge.accept(length);
        return;
      }
      if (pending.length() - offset - 4 < length) {
        break;
      }
      onFrame.handle(pending.getBuffer(offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
    pending = offset == 0 ? pending : pending.getBuffer(offset, pending.length());
  }
}
