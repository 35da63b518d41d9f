package com.chatroom.pulse.bus;

import com.chatroom.pulse.Samples;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@DisplayName("The cluster codec on corrupted bytes from a peer")
class CorruptWireTest {

  private final PulseMessageCodec codec = new PulseMessageCodec();

  /** A well-formed wire form of a sample, after a 5-byte prefix standing for the event bus's own header. */
  private Buffer good() {
    Buffer wire = Buffer.buffer().appendString("head!");
    codec.encodeToWire(wire, Samples.system("node-a", 1));
    return wire;
  }

  private static Buffer raw(int kindLength, String kind, int jsonLength, String json) {
    return Buffer.buffer().appendInt(kindLength).appendString(kind).appendInt(jsonLength).appendString(json);
  }

  static Stream<Arguments> corrupted() {
    String json = "{\"a\":1}";
    return Stream.of(
      Arguments.of("empty", Buffer.buffer()),
      Arguments.of("shorter than the kind length", Buffer.buffer().appendByte((byte) 0).appendByte((byte) 1)),
      Arguments.of("negative kind length", raw(-3, "system", json.length(), json)),
      Arguments.of("kind length past the end", raw(1000, "system", json.length(), json)),
      Arguments.of("kind length near Integer.MAX_VALUE", raw(Integer.MAX_VALUE - 2, "system", json.length(), json)),
      Arguments.of("no json length", Buffer.buffer().appendInt(6).appendString("system")),
      Arguments.of("negative json length", raw(6, "system", -1, json)),
      Arguments.of("json length past the end", raw(6, "system", 4096, json)),
      Arguments.of("json length Integer.MAX_VALUE", raw(6, "system", Integer.MAX_VALUE, json)),
      Arguments.of("json that does not parse", raw(6, "system", 5, "{nope")),
      Arguments.of("a json array", raw(6, "system", 3, "[1]")),
      Arguments.of("json string", raw(6, "system", 4, "\"x\"")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corrupted")
  @DisplayName("refuses it as malformed, naming no index")
  void refusedAsMalformed(String what, Buffer wire) {
    assertThatThrownBy(() -> codec.decodeFromWire(0, wire)).as(what)
      .isInstanceOfSatisfying(InvalidMessageException.class, e -> {
        assertThat(e.reason()).isEqualTo(InvalidMessageException.Reason.MALFORMED);
        assertThat(e.field()).isEqualTo("$");
      });
  }

  @Test
  @DisplayName("every truncation of a valid message is refused as malformed, and the whole message still decodes")
  void everyTruncation() {
    Buffer wire = good();
    assertThat(codec.decodeFromWire(5, wire)).isEqualTo(Samples.system("node-a", 1));
    for (int end = 5; end < wire.length(); end++) {
      Buffer cut = wire.getBuffer(0, end);
      assertThatThrownBy(() -> codec.decodeFromWire(5, cut)).as("cut at " + end)
        .isInstanceOf(InvalidMessageException.class);
    }
  }

  @Test
  @DisplayName("a flipped length byte anywhere in the prefixes gives the invalid-message refusal, never an index error")
  void flippedLengthBytes() {
    Buffer wire = good();
    int kindLength = wire.getInt(5);
    int[] prefixBytes = {5, 6, 7, 8, 9 + kindLength, 10 + kindLength, 11 + kindLength, 12 + kindLength};
    for (int at : prefixBytes) {
      for (int bit = 0; bit < 8; bit++) {
        Buffer flipped = wire.copy();
        flipped.setByte(at, (byte) (flipped.getByte(at) ^ (1 << bit)));
        try {
          codec.decodeFromWire(5, flipped);
        } catch (InvalidMessageException e) {
          continue; // refused, as it should be
        } catch (RuntimeException e) {
          throw new AssertionError("byte " + at + " bit " + bit + ": " + e, e);
        }
      }
    }
  }

  @Test
  @DisplayName("an unknown kind is refused as an unsupported body")
  void unknownKind() {
    String json = "{}";
    Buffer wire = raw(4, "evil", json.length(), json);
    assertThatThrownBy(() -> codec.decodeFromWire(0, wire)).isInstanceOfSatisfying(InvalidMessageException.class,
      e -> assertThat(e.reason()).isEqualTo(InvalidMessageException.Reason.UNSUPPORTED_BODY));
  }
}
