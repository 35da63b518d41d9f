package com.chatroom.pulse.bus;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/**
 * One codec for the whole {@link PulseMessage} family. Local delivery hands the same immutable record to every
 * consumer (no copy); the cluster wire carries {@code [kind length][kind][json length][json]} and the receiving
 * node validates the JSON exactly as it would validate any outside input. Nothing is Java-serialized: {@link #register}
 * also shuts the event bus's Serializable and ClusterSerializable codecs.
 */
public final class PulseMessageCodec implements MessageCodec<PulseMessage, PulseMessage> {

  public static final String NAME = "pulse";
  /** The longest kind name: ours are a few characters. */
  private static final int MAX_KIND_BYTES = 64;

  /**
   * Registers the codec and a selector that picks it for every {@link PulseMessage}. Call once per Vert.x
   * instance; a second call is a no-op.
   */
  public static void register(Vertx vertx) {
    // Only our codecs, JSON, strings, buffers and the basic types cross the wire: no Java serialization of any
    // class (Vert.x's default admits byte[] and java.lang.Number subclasses), no ClusterSerializable. Sending such a
    // body on a clustered bus fails at once ("No message codec"), and one arriving from a peer is not decoded.
    vertx.eventBus().serializableChecker(className -> false).clusterSerializableChecker(className -> false);
    try {
      vertx.eventBus().registerCodec(new PulseMessageCodec());
    } catch (IllegalStateException alreadyRegistered) {
      return;
    }
    vertx.eventBus().codecSelector(body -> body instanceof PulseMessage ? NAME : null);
    LocalCodec.register(vertx);
  }

  @Override
  public void encodeToWire(Buffer buffer, PulseMessage message) {
    byte[] kind = message.kind().getBytes(StandardCharsets.UTF_8);
    Buffer json = message.toJson().toBuffer();
    buffer.appendInt(kind.length).appendBytes(kind).appendInt(json.length()).appendBuffer(json);
  }

  /**
   * Reads what {@link #encodeToWire} wrote. The bytes come from the network: a length that points outside the
   * buffer, a kind that is not one of ours or JSON that does not parse is refused with {@link InvalidMessageException}
   * (the consumer counts it as {@code pulse.bus.rejected}), never an index error.
   */
  @Override
  public PulseMessage decodeFromWire(int pos, Buffer buffer) {
    int kindLength = length(buffer, pos, "kind", MAX_KIND_BYTES);
    String kind = buffer.getString(pos + 4, pos + 4 + kindLength, StandardCharsets.UTF_8.name());
    int jsonStart = pos + 4 + kindLength;
    int jsonLength = length(buffer, jsonStart, "json", Integer.MAX_VALUE);
    JsonObject json;
    try {
      json = new JsonObject(buffer.getBuffer(jsonStart + 4, jsonStart + 4 + jsonLength));
    } catch (DecodeException | ClassCastException e) {
      throw new InvalidMessageException("$", InvalidMessageException.Reason.MALFORMED,
        "a '" + kind + "' message from a cluster peer is not a JSON object");
    }
    return switch (kind) {
      case SystemMetrics.KIND -> SystemMetrics.fromJson(json);
      case ApplicationMetrics.KIND -> ApplicationMetrics.fromJson(json);
      case StreamFrame.KIND -> StreamFrame.fromJson(json);
      case AlertEvent.KIND -> AlertEvent.fromJson(json);
      case ChatMessage.KIND -> ChatMessage.fromJson(json);
      case ChatPresence.KIND -> ChatPresence.fromJson(json);
      default -> throw new InvalidMessageException("$", InvalidMessageException.Reason.UNSUPPORTED_BODY,
        "unknown message kind '" + kind + "' from a cluster peer");
    };
  }

  /** The length prefix at {@code at}, checked against what is left of the buffer after it. */
  private static int length(Buffer buffer, int at, String part, int max) {
    if (at < 0 || at > buffer.length() - 4) {
      throw new InvalidMessageException("$", InvalidMessageException.Reason.MALFORMED,
        "a cluster message ends before its " + part + " length (" + buffer.length() + " bytes)");
    }
    int length = buffer.getInt(at);
    if (length < 0 || length > max || length > buffer.length() - at - 4) {
      throw new InvalidMessageException("$", InvalidMessageException.Reason.MALFORMED,
        "a cluster message's " + part + " length " + length + " does not fit its " + buffer.length() + " bytes");
    }
    return length;
  }

  @Override
  public PulseMessage transform(PulseMessage message) {
    return message;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
