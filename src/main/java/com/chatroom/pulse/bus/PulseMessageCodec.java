package com.chatroom.pulse.bus;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/**
 * One codec for the whole {@link PulseMessage} family. Local delivery hands the same immutable record to every
 * consumer (no copy); the cluster wire carries {@code [kind length][kind][json length][json]} and the receiving
 * node validates the JSON exactly as it would validate any outside input. Nothing is Java-serialized.
 */
public final class PulseMessageCodec implements MessageCodec<PulseMessage, PulseMessage> {

  public static final String NAME = "pulse";

  /**
   * Registers the codec and a selector that picks it for every {@link PulseMessage}. Call once per Vert.x
   * instance; a second call is a no-op.
   */
  public static void register(Vertx vertx) {
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

  @Override
  public PulseMessage decodeFromWire(int pos, Buffer buffer) {
    int kindLength = buffer.getInt(pos);
    String kind = buffer.getString(pos + 4, pos + 4 + kindLength, StandardCharsets.UTF_8.name());
    int jsonStart = pos + 4 + kindLength;
    int jsonLength = buffer.getInt(jsonStart);
    JsonObject json = new JsonObject(buffer.getBuffer(jsonStart + 4, jsonStart + 4 + jsonLength));
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
