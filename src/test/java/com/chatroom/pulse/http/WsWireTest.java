package com.chatroom.pulse.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.channel.embedded.EmbeddedChannel;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The pre-encoded server frames: what a WebSocket decoder reads back from them, on the heap and off it. */
@DisplayName("Pre-encoded WebSocket frames")
class WsWireTest {

  @ParameterizedTest(name = "payload of {0} bytes")
  @ValueSource(ints = {0, 1, 125, 126, 127, 65535, 65536, 200_000})
  @DisplayName("decode to the same text frame, heap or direct, every time they are written")
  void sameFrame(int length) {
    String text = "é".repeat(length / 2) + "x".repeat(length % 2);
    Buffer utf8 = Buffer.buffer(text, "UTF-8");
    assertThat(utf8.length()).isEqualTo(length);

    ByteBuf heap = WsWire.textFrame(utf8);
    ByteBuf direct = WsWire.sharedTextFrame(utf8);
    assertThat(direct.isDirect()).as("a fan-out frame goes to the socket without a copy").isTrue();
    assertThat(ByteBuf.class.cast(direct).readableBytes()).isEqualTo(heap.readableBytes());
    assertThat(direct.duplicate()).isEqualTo(heap.duplicate());

    // a shared frame is written many times: each duplicate decodes to the whole text and leaves the frame intact
    for (int round = 0; round < 3; round++) {
      assertThat(decode(direct.duplicate())).isEqualTo(text);
    }
    assertThat(decode(heap.duplicate())).isEqualTo(text);
  }

  private static String decode(ByteBuf bytes) {
    EmbeddedChannel channel = new EmbeddedChannel(new WebSocket13FrameDecoder(false, false, 1 << 20));
    channel.writeInbound(bytes);
    TextWebSocketFrame frame = channel.readInbound();
    assertThat(frame).as("one complete frame").isNotNull();
    assertThat(frame.isFinalFragment()).isTrue();
    String text = frame.content().toString(StandardCharsets.UTF_8);
    frame.release();
    assertThat((Object) channel.readInbound()).as("nothing after it").isNull();
    channel.finishAndReleaseAll();
    return text;
  }
}
