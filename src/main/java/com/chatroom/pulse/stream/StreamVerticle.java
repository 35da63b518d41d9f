package com.chatroom.pulse.stream;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.BusMessages;
import com.chatroom.pulse.bus.BusRejects;
import com.chatroom.pulse.bus.InvalidMessageException;
import com.chatroom.pulse.bus.OwnerAction;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The node's single subscriber to the pipeline's public addresses: it serializes every sample and event exactly
 * once into a ready-to-send {@link StreamFrame} and hands it, node-locally and without copies, to every edge
 * instance's {@link StreamFanout}. One instance per node, so a clustered node holds one cluster subscription per
 * address however many event loops fan out.
 * <p>
 * It also carries out the optimizer's orders for the stream ({@code optimizer.actions}, for this node):
 * {@code throttle_streams} folds samples into one aggregated frame per (stream, instance) per {@code interval_ms}
 * ({@link SampleWindow}), here, once per node, so each edge still writes one shared buffer per frame; and
 * {@code reap_idle} sets the idle limit the edges enforce on their own sockets. Both modes are announced to
 * subscribers with a {@code notice} frame.
 */
public final class StreamVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(StreamVerticle.class);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);
  /** Open throttle windows at most; a sample of yet another instance passes through unaggregated. */
  static final int MAX_WINDOWS = 4096;
  static final long MAX_INTERVAL_MS = 3_600_000;
  static final long MAX_IDLE_SECONDS = 86_400;
  /** The largest stream cap a shed_load action may set (the config allows no more). */
  static final long MAX_SUBSCRIBERS = 10_000_000;

  private record Key(String stream, String instance) {
  }

  private String instanceId;
  private final Map<String, Counter> published = new HashMap<>();
  private final LinkedHashSet<String> latestOrder = new LinkedHashSet<>();
  private final LinkedHashMap<Key, SampleWindow> windows = new LinkedHashMap<>();
  private StreamNode node;
  private BusRejects rejects;
  private Counter aggregated;
  private long throttleMs;
  private long throttleTimer = -1;

  /**
   * The node's instance id (to tell which optimizer actions are meant for this node) is learnt from the edges, which are
   * handed the configuration; {@link #of(String)} gives it up front. A single constructor keeps {@code StreamVerticle::new}
   * unambiguous for {@code deployVerticle}.
   */
  public StreamVerticle() {
  }

  /** A stream verticle that knows this node's instance id from the start. */
  public static StreamVerticle of(String instanceId) {
    StreamVerticle verticle = new StreamVerticle();
    verticle.instanceId = instanceId;
    return verticle;
  }

  @Override
  public Future<?> start() {
    MeterRegistry registry = Meters.registry(vertx);
    node = StreamNode.of(vertx);
    if (instanceId != null) {
      node.instanceId.set(instanceId);
    }
    // the node-wide state outlives a redeployment of this verticle, whose modes and windows start afresh
    node.throttleMs.set(0);
    node.idleSeconds.set(0);
    node.shedCap.set(-1);
    node.latest.clear();
    rejects = new BusRejects(registry, "stream");
    for (String stream : Streams.ALL) {
      published.put(stream, Counter.builder(MeterNames.STREAM_EVENTS_PUBLISHED)
        .description("Events serialized once for the live stream").tag("stream", stream).register(registry));
    }
    aggregated = Counter.builder(MeterNames.STREAM_SAMPLES_AGGREGATED)
      .description("Samples folded into aggregated frames while the optimizer throttles the stream").register(registry);
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
    PulseMessage source = decoded instanceof PulseMessage m ? m : null;
    if (coalesce && source != null) {
      rememberLatest(stream, instance, source);
      SampleWindow window = throttleMs > 0 ? window(stream, instance) : null;
      if (window != null) {
        window.add(data, source);
        aggregated.increment();
        return;
      }
    }
    publish(stream, instance, coalesce, new JsonObject().put("type", stream).put("data", data), source);
    if (stream.equals(Streams.OPTIMIZER)) {
      follow(message, data);
    }
  }

  private void publish(String stream, String instance, boolean coalesce, JsonObject frame, PulseMessage source) {
    Buffer payload = frame.toBuffer();
    vertx.eventBus().publish(Addresses.STREAM_FRAMES, new StreamFrame(stream, instance, coalesce, payload, source), LOCAL);
    Counter counter = published.get(stream);
    if (counter != null) {
      counter.increment();
    }
  }

  /** The newest record per (stream, instance), for readiness and the current-metrics API, bounded like the edges' snapshot. */
  private void rememberLatest(String stream, String instance, PulseMessage record) {
    String key = StreamNode.key(stream, instance);
    node.latest.put(key, record);
    latestOrder.remove(key);
    latestOrder.add(key);
    if (latestOrder.size() > StreamNode.MAX_LATEST) {
      Iterator<String> eldest = latestOrder.iterator();
      node.latest.remove(eldest.next());
      eldest.remove();
    }
  }

  /** The open window of (stream, instance), or null when {@link #MAX_WINDOWS} others are open. */
  private SampleWindow window(String stream, String instance) {
    Key key = new Key(stream, instance);
    SampleWindow window = windows.get(key);
    if (window == null && windows.size() < MAX_WINDOWS) {
      window = new SampleWindow();
      windows.put(key, window);
    }
    return window;
  }

  /** End of a window: one aggregated frame per (stream, instance) that had samples in it, in the order they came. */
  private void flushWindows() {
    if (windows.isEmpty()) {
      return;
    }
    for (Map.Entry<Key, SampleWindow> e : windows.entrySet()) {
      Key key = e.getKey();
      SampleWindow window = e.getValue();
      publish(key.stream(), key.instance(), true, window.toFrame(key.stream(), throttleMs), window.newestRecord());
    }
    windows.clear();
  }

  private void follow(Message<Object> message, JsonObject body) {
    OwnerAction order;
    try {
      order = OwnerAction.read(body, node.instanceId.get());
      if (order == null) {
        return;
      }
      switch (order.action()) {
        case "throttle_streams" -> throttle(order.applied() ? order.integer("interval_ms", 1000, MAX_INTERVAL_MS) : 0);
        case "reap_idle" -> node.idleSeconds.set(order.applied() ? order.integer("idle_seconds", 1, MAX_IDLE_SECONDS) : 0);
        // shedding caps the stream only when the rule says how far; without stream_cap the operators' view stays open
        case "shed_load" -> node.shedCap.set(order.applied() ? order.optionalInteger("stream_cap", 0, MAX_SUBSCRIBERS, -1) : -1);
        default -> {
          return;
        }
      }
    } catch (InvalidMessageException e) {
      rejects.reject(message, e);
      return;
    }
    Counter.builder(MeterNames.STREAM_OPTIMIZER_ACTIONS).description("Optimizer actions the stream followed")
      .tags("action", order.action(), "state", order.state()).register(Meters.registry(vertx)).increment();
    LOG.info("Stream follows optimizer action {} {}: {}", order.action(), order.state(), body.encode());
  }

  /** Switches between every sample (0) and one aggregated frame per window; tells subscribers when the mode changes. */
  private void throttle(long intervalMs) {
    if (intervalMs == throttleMs) {
      return;
    }
    // the samples of the old mode's open windows go out now, aggregated: none is dropped by the switch
    flushWindows();
    if (throttleTimer >= 0) {
      vertx.cancelTimer(throttleTimer);
      throttleTimer = -1;
    }
    throttleMs = intervalMs;
    node.throttleMs.set(intervalMs);
    if (intervalMs > 0) {
      throttleTimer = vertx.setPeriodic(intervalMs, id -> flushWindows());
    }
    publish(Streams.NOTICE, "", false, notice(intervalMs), null);
  }

  /** The notice a subscriber gets when the push mode changes (and, as a field of the hello, on connect). */
  static JsonObject notice(long intervalMs) {
    JsonObject notice = new JsonObject().put("type", "notice").put("server_time", StreamFanout.serverTime());
    return intervalMs > 0
      ? notice.put("code", "throttled").put("interval_ms", intervalMs).put("message", "the server is shedding load: system "
        + "and app samples are aggregated into one frame per instance every " + intervalMs + " ms (data holds the "
        + "window's averages, aggregate its count, min, max and avg)")
      : notice.put("code", "unthrottled").put("interval_ms", 0).put("message", "every sample is sent again as it comes");
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
