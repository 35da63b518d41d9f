package com.chatroom.pulse.stream;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.BusMessages;
import com.chatroom.pulse.bus.BusRejects;
import com.chatroom.pulse.bus.InvalidMessageException;
import com.chatroom.pulse.bus.PulseMessage;
import com.chatroom.pulse.bus.StreamFrame;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The node's single subscriber to the pipeline's public addresses: it serializes every sample and event exactly
 * once into a ready-to-send {@link StreamFrame} and hands it, node-locally and without copies, to every edge
 * instance's {@link StreamFanout}. One instance per node, so a clustered node holds one cluster subscription per
 * address however many event loops fan out.
 */
public final class StreamVerticle extends VerticleBase {

  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private final Map<String, Counter> published = new HashMap<>();
  private BusRejects rejects;

  @Override
  public Future<?> start() {
    MeterRegistry registry = Meters.registry(vertx);
    rejects = new BusRejects(registry, "stream");
    for (String stream : Streams.ALL) {
      published.put(stream, Counter.builder(MeterNames.STREAM_EVENTS_PUBLISHED)
        .description("Events serialized once for the live stream").tag("stream", stream).register(registry));
    }
    List<MessageConsumer<Object>> consumers = List.of(
      relay(Addresses.METRICS_SYSTEM, Streams.SYSTEM, true, BusMessages::systemMetrics),
      relay(Addresses.METRICS_APP, Streams.APP, true, BusMessages::applicationMetrics),
      relay(Addresses.ALERTS_EVENTS, Streams.ALERTS, false, StreamVerticle::event),
      relay(Addresses.OPTIMIZER_ACTIONS, Streams.OPTIMIZER, false, StreamVerticle::event));
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList());
  }

  private MessageConsumer<Object> relay(String address, String stream, boolean coalesce, Function<Object, Object> decode) {
    return vertx.eventBus().consumer(address, message -> onMessage(message, address, stream, coalesce, decode));
  }

  private void onMessage(Message<Object> message, String address, String stream, boolean coalesce,
                         Function<Object, Object> decode) {
    Object decoded;
    try {
      decoded = decode.apply(message.body());
    } catch (InvalidMessageException e) {
      rejects.reject(message, e);
      return;
    }
    JsonObject data = decoded instanceof PulseMessage m ? m.toJson() : (JsonObject) decoded;
    String instance = data.getValue("instance") instanceof String s ? s : "";
    Buffer payload = new JsonObject().put("type", stream).put("data", data).toBuffer();
    PulseMessage source = decoded instanceof PulseMessage m ? m : null;
    vertx.eventBus().publish(Addresses.STREAM_FRAMES, new StreamFrame(stream, instance, coalesce, payload, source), LOCAL);
    published.get(stream).increment();
  }

  /** Alerts and optimizer actions: a record of the family, or a JSON object until they have records of their own. */
  private static Object event(Object body) {
    if (body instanceof PulseMessage || body instanceof JsonObject) {
      return body;
    }
    if (body instanceof String text) {
      return BusMessages.parseObject(text);
    }
    throw new InvalidMessageException("$", InvalidMessageException.Reason.UNSUPPORTED_BODY,
      "expected a JSON object, got " + (body == null ? "an empty body" : "a " + body.getClass().getSimpleName()));
  }
}
