package com.chatroom.pulse.stream;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.StreamFrame;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.config.StreamConfig;
import com.chatroom.pulse.http.NodeStatus;
import com.chatroom.pulse.http.OriginPolicy;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import com.chatroom.pulse.stream.ClientFrames.Ping;
import com.chatroom.pulse.stream.ClientFrames.StreamError;
import com.chatroom.pulse.stream.ClientFrames.Subscribe;
import com.chatroom.pulse.http.WsWire;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@code /metrics/stream} endpoint of one edge verticle instance: it owns the WebSockets accepted on its event
 * loop and writes every {@link StreamFrame} to those that want it, on that same event loop, from the one shared
 * buffer. Created and used only on the owning verticle's context.
 */
public final class StreamFanout {

  private static final Logger LOG = LoggerFactory.getLogger(StreamFanout.class);
  private static final String COUNT_MAP = "pulse.stream";
  /** Samples older than this are not replayed to a new subscriber (their instance has probably gone). */
  private static final long SNAPSHOT_MAX_AGE_NANOS = 60_000_000_000L;
  private static final int MAX_LATEST = 4096;
  /** A client that keeps hitting the inbound limit this many times within the window is disconnected. */
  private static final int ABUSE_VIOLATIONS = 50;
  private static final long ABUSE_WINDOW_NANOS = 10_000_000_000L;
  /** The close code of a subscriber reaped as idle: the chat gateway's, so one client library handles both. */
  static final short IDLE_CLOSE_CODE = 4001;

  private final Vertx vertx;
  private final StreamConfig config;
  private final String localInstance;
  private final int maxFrameBytes;
  private final long backfillSeconds;
  private final DeliveryOptions historyDelivery;
  private final OriginPolicy origins;
  private final AtomicInteger nodeSubscribers;
  private final List<Subscriber> subscribers = new ArrayList<>();
  /** Newest sample per (stream, instance), for the snapshot a new subscriber gets and for the current-metrics API. */
  private final LinkedHashMap<String, Latest> latest = new LinkedHashMap<>();
  private final Counter framesSent;
  private final Counter framesSkipped;
  private final Map<String, Counter> refused = new HashMap<>();
  private final Map<String, Counter> inboundRejected = new HashMap<>();
  private final Map<String, Counter> disconnects = new HashMap<>();
  private final MeterRegistry registry;
  private final StreamNode node;
  private MessageConsumer<StreamFrame> consumer;
  /** The newest frame this instance fanned out and its wire encoding, made once for all of its subscribers. */
  private StreamFrame encodedFrame;
  private ByteBuf encodedWire;
  private long reaper = -1;

  private record Latest(StreamFrame frame, long receivedNanos) {
  }

  /** Node-wide subscriber count, shared by every edge instance of one Vert.x (the cap is per node). */
  private record NodeCount(AtomicInteger value) implements Shareable {
  }

  public StreamFanout(Vertx vertx, PulseConfig pulse) {
    this.vertx = vertx;
    this.config = pulse.stream();
    this.localInstance = pulse.instanceId();
    this.maxFrameBytes = pulse.http().maxFrameBytes();
    this.backfillSeconds = pulse.history().rawRetentionSeconds();
    this.historyDelivery = new DeliveryOptions().setLocalOnly(true).setSendTimeout(pulse.history().queryTimeoutMs());
    this.origins = new OriginPolicy(config.allowedOrigins());
    this.nodeSubscribers = ((NodeCount) vertx.sharedData().getLocalMap(COUNT_MAP)
      .computeIfAbsent("subscribers", k -> new NodeCount(new AtomicInteger()))).value();
    this.registry = Meters.registry(vertx);
    this.node = StreamNode.of(vertx);
    // the stream verticle is deployed without the configuration: it learns this node's id (for optimizer actions) here
    node.instanceId.compareAndSet(null, localInstance);
    if (registry.find(MeterNames.STREAM_SUBSCRIBERS).gauge() == null) {
      // one gauge per node over the shared count, not one registration attempt per edge instance
      Gauge.builder(MeterNames.STREAM_SUBSCRIBERS, nodeSubscribers, AtomicInteger::get)
        .description("WebSocket subscribers of /metrics/stream on this node").register(registry);
    }
    framesSent = Counter.builder(MeterNames.STREAM_FRAMES_SENT)
      .description("Frames written to stream subscribers").register(registry);
    framesSkipped = Counter.builder(MeterNames.STREAM_FRAMES_SKIPPED)
      .description("Frames a slow subscriber never got: samples coalesced to a newer one, events dropped from a full queue")
      .register(registry);
  }

  /** Starts receiving frames; completes once the consumer is registered. */
  public Future<Void> start() {
    reaper = vertx.setPeriodic(1000, id -> reapIdle());
    consumer = vertx.eventBus().localConsumer(Addresses.STREAM_FRAMES, message -> onFrame(message.body()));
    return consumer.completion();
  }

  /** The newest record of {@code stream} from {@code instance}, or null. */
  public Object latestRecord(String stream, String instance) {
    // the stream verticle's copy sees every sample, also while frames come only once per throttle window
    Object newest = node.latest.get(StreamNode.key(stream, instance));
    if (newest != null) {
      return newest;
    }
    Latest l = latest.get(key(stream, instance));
    return l == null ? null : l.frame().source();
  }

  /** Route handler for {@code GET /metrics/stream}. */
  public void handle(RoutingContext ctx) {
    if (!ctx.request().canUpgradeToWebSocket()) {
      ctx.response().setStatusCode(400).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", "websocket_required")
          .put("message", "/metrics/stream is a WebSocket endpoint: connect with Upgrade: websocket").encode());
      return;
    }
    String refusal = origins.check(ctx.request());
    if (refusal != null) {
      count(refused, "origin", MeterNames.STREAM_REFUSED, "Stream connections refused, per reason");
      ctx.response().setStatusCode(403).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", "origin_not_allowed").put("message", refusal).encode());
      return;
    }
    ClientFrames.Connect connect;
    try {
      connect = ClientFrames.connect(ctx.queryParams(), now(), backfillSeconds);
    } catch (StreamError e) {
      count(refused, "bad_request", MeterNames.STREAM_REFUSED, "Stream connections refused, per reason");
      ctx.response().setStatusCode(400).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", e.code).put("message", e.getMessage()).put("field", e.field).encode());
      return;
    }
    Channel channel = WsWire.channel(ctx.request());
    ctx.request().toWebSocket()
      .onSuccess(ws -> onOpen(ws, channel, connect))
      .onFailure(e -> LOG.debug("WebSocket handshake failed: {}", e.toString()));
  }

  private void onOpen(ServerWebSocket ws, Channel channel, ClientFrames.Connect connect) {
    WsWire.useEventLoopQueue(channel); // 4.4 KB less per subscriber (see there)
    if (nodeSubscribers.incrementAndGet() > config.maxSubscribers()) {
      nodeSubscribers.decrementAndGet();
      count(refused, "max_subscribers", MeterNames.STREAM_REFUSED, "Stream connections refused, per reason");
      ws.close((short) 1013, "too many subscribers on this node (max " + config.maxSubscribers() + "), try again later");
      return;
    }
    long shedCap = node.shedCap.get();
    if (shedCap >= 0 && nodeSubscribers.get() > shedCap) {
      nodeSubscribers.decrementAndGet();
      count(refused, "shedding", MeterNames.STREAM_REFUSED, "Stream connections refused, per reason");
      ws.close((short) 1013, "this node is shedding load (stream capped at " + shedCap + " subscribers), try again later");
      return;
    }
    ws.setWriteQueueMaxSize(config.writeQueueBytes());
    Subscriber sub = new Subscriber(ws, channel, new TokenBucket(config.inboundPerSecond(), config.inboundBurst()));
    sub.index = subscribers.size();
    subscribers.add(sub);
    ws.closeHandler(v -> onClose(sub));
    ws.exceptionHandler(e -> onError(sub, e));
    // HttpServer.shutdown (the edge stopping): going away, reconnect, possibly to another node
    ws.shutdownHandler(v -> {
      sub.closing = true; // nothing more is written after the close frame
      ws.close((short) 1001, NodeStatus.SHUTDOWN_REASON);
    });
    WsWire.onWritable(channel, () -> {
      if (sub.ws.isClosed()) {
        return;
      }
      reportSuppressedErrors(sub);
      if (sub.backfill != null) {
        pumpBackfill(sub);
      } else {
        framesSent.increment(sub.drain(config.maxPendingEvents()));
      }
    });
    ws.textMessageHandler(text -> onText(sub, text));
    ws.pongHandler(data -> sub.lastInboundNanos = System.nanoTime());
    ws.binaryMessageHandler(data -> reject(sub, new StreamError("unsupported_frame", null,
      "binary frames are not supported: send JSON text frames")));
    sub.filter(connect.filter().streams(), connect.filter().instances());
    sub.sendText(new JsonObject().put("type", "hello").put("protocol", 1).put("instance", localInstance)
      .put("streams", new JsonArray(Streams.ALL)).put("server_time", serverTime())
      .put("backfill_since", connect.since()).put("throttle_interval_ms", node.throttleMs.get()).encode());
    if (connect.since() == null) {
      sendSnapshot(sub, s -> false);
    } else {
      startBackfill(sub, connect);
    }
  }

  private void startBackfill(Subscriber sub, ClientFrames.Connect connect) {
    Backfill backfill = new Backfill();
    sub.backfill = backfill;
    // seed the newest live sample of each instance: its history write may still be in flight
    long now = System.nanoTime();
    latest.values().stream().filter(l -> now - l.receivedNanos() <= SNAPSHOT_MAX_AGE_NANOS && sub.wants(l.frame()))
      .forEach(l -> backfill.hold(l.frame()));
    Set<String> streams = connect.filter().streams();
    Set<String> instances = connect.filter().instances();
    JsonObject request = new JsonObject().put("op", "backfill").put("since", connect.since())
      .put("streams", new JsonArray(streams == null ? Streams.ALL : List.copyOf(streams)))
      .put("instances", instances == null ? null : new JsonArray(List.copyOf(instances)));
    vertx.eventBus().<JsonObject>request(Addresses.HISTORY_QUERY, request, historyDelivery).onComplete(ar -> {
      if (sub.ws.isClosed()) {
        return;
      }
      if (ar.succeeded()) {
        backfill.load(ar.result().body());
      } else {
        backfill.loadNothing();
        reject(sub, new StreamError("backfill_unavailable", null, "history could not be read: " + ar.cause().getMessage()));
      }
      pumpBackfill(sub);
    });
  }

  /** Writes history frames while the socket takes them; once all are out, the held live frames, then live. */
  private void pumpBackfill(Subscriber sub) {
    Backfill backfill = sub.backfill;
    if (backfill == null || !backfill.loaded() || sub.ws.isClosed()) {
      return;
    }
    int written = 0;
    while (!backfill.historyWritten()) {
      if (sub.full()) {
        framesSent.increment(written);
        return;
      }
      sub.send(WsWire.textFrame(backfill.nextHistoryFrame()));
      written++;
    }
    framesSent.increment(written);
    sub.sendText(backfill.doneFrame().encode());
    sub.backfill = null;
    sub.seam = backfill;
    int skipped = (int) backfill.droppedLive;
    for (StreamFrame frame : backfill.liveAfterSeam()) {
      skipped += sub.offer(frame, config.maxPendingEvents());
    }
    if (skipped > 0) {
      framesSkipped.increment(skipped);
    }
  }

  private void onError(Subscriber sub, Throwable e) {
    if (e instanceof CorruptedWebSocketFrameException || e instanceof IllegalStateException && String.valueOf(e.getMessage()).contains("max message size")) {
      // a frame or message over http.max_frame_bytes: say so with the standard code rather than just dropping the TCP connection
      count(inboundRejected, "frame_too_large", MeterNames.STREAM_INBOUND_REJECTED, "Client frames the stream refused, per reason");
      sub.closing = true;
      sub.ws.close((short) 1009, "frame too large: at most " + maxFrameBytes + " bytes");
    } else {
      LOG.debug("Stream subscriber error: {}", e.toString());
    }
  }

  private void onClose(Subscriber sub) {
    int last = subscribers.size() - 1;
    if (sub.index <= last && subscribers.get(sub.index) == sub) {
      Subscriber moved = subscribers.get(last);
      subscribers.set(sub.index, moved);
      moved.index = sub.index;
      subscribers.remove(last);
      nodeSubscribers.decrementAndGet();
    }
  }

  private void onFrame(StreamFrame frame) {
    if (frame.coalesce()) {
      remember(frame);
    }
    int sent = 0;
    int skipped = 0;
    int maxPending = config.maxPendingEvents();
    ByteBuf wire = wireOf(frame);
    for (int i = 0, n = subscribers.size(); i < n; i++) {
      Subscriber sub = subscribers.get(i);
      if (sub.backfill != null) {
        if (sub.wants(frame)) {
          sub.backfill.hold(frame);
        }
      } else if (sub.wants(frame) && !seamDuplicate(sub, frame)) {
        int s = sub.offer(frame, wire, maxPending);
        if (s == 0 && !sub.blocked()) {
          sent++;
        }
        skipped += s;
      }
    }
    if (sent > 0) {
      framesSent.increment(sent);
    }
    if (skipped > 0) {
      framesSkipped.increment(skipped);
    }
  }

  /** The frame's wire encoding, made once per frame for every subscriber of this instance. */
  private ByteBuf wireOf(StreamFrame frame) {
    if (frame != encodedFrame) {
      encodedFrame = frame;
      encodedWire = WsWire.sharedTextFrame(frame.payload());
    }
    return encodedWire;
  }

  /** Just after a backfill: a live frame delayed on its way may be one that history already sent. */
  private static boolean seamDuplicate(Subscriber sub, StreamFrame frame) {
    if (sub.seam == null) {
      return false;
    }
    if (!sub.seam.inGrace()) {
      sub.seam = null;
      return false;
    }
    return sub.seam.alreadySent(frame);
  }

  private void onText(Subscriber sub, String text) {
    if (sub.closing) {
      return;
    }
    sub.lastInboundNanos = System.nanoTime();
    if (!sub.inbound.tryTake()) {
      long now = System.nanoTime();
      if (now - sub.violationWindowStart > ABUSE_WINDOW_NANOS) {
        sub.violationWindowStart = now;
        sub.violations = 0;
      }
      if (++sub.violations >= ABUSE_VIOLATIONS) {
        count(inboundRejected, "abuse", MeterNames.STREAM_INBOUND_REJECTED, "Client frames the stream refused, per reason");
        sub.closing = true;
        sub.ws.close((short) 1008, "too many frames: limit " + config.inboundPerSecond() + "/s");
        return;
      }
      reject(sub, new StreamError("rate_limited", null,
        "too many frames: at most " + config.inboundPerSecond() + " per second (burst " + config.inboundBurst() + ")"));
      return;
    }
    if (text.length() > config.maxInboundFrameBytes()
      || text.getBytes(StandardCharsets.UTF_8).length > config.maxInboundFrameBytes()) {
      reject(sub, new StreamError("frame_too_large", null,
        "frame larger than " + config.maxInboundFrameBytes() + " bytes"));
      return;
    }
    Object parsed;
    try {
      parsed = ClientFrames.parse(text);
    } catch (StreamError e) {
      reject(sub, e);
      return;
    }
    // an answer after errors that were held back: say how many first, so the client sees them in order
    reportSuppressedErrors(sub);
    if (parsed instanceof Subscribe s) {
      subscribe(sub, s);
    } else if (parsed instanceof Ping p) {
      sub.sendText(new JsonObject().put("type", "pong").put("id", p.id())
        .put("server_time", serverTime()).encode());
    }
  }

  private void subscribe(Subscriber sub, Subscribe s) {
    // replay only what the old filter hid, so nothing arrives twice
    java.util.Set<String> oldStreams = sub.streamsFilter();
    java.util.Set<String> oldInstances = sub.instancesFilter();
    sub.filter(s.streams(), s.instances());
    sub.sendText(new JsonObject().put("type", "subscribed")
      .put("streams", s.streams() == null ? new JsonArray(Streams.ALL) : new JsonArray(List.copyOf(s.streams())))
      .put("instances", s.instances() == null ? null : new JsonArray(List.copyOf(s.instances()))).encode());
    sendSnapshot(sub, f -> Subscriber.matches(oldStreams, oldInstances, f));
  }

  private void sendSnapshot(Subscriber sub, java.util.function.Predicate<StreamFrame> alreadySeen) {
    long now = System.nanoTime();
    for (Latest l : latest.values()) {
      if (now - l.receivedNanos() <= SNAPSHOT_MAX_AGE_NANOS && sub.wants(l.frame()) && !alreadySeen.test(l.frame())) {
        sub.offer(l.frame(), wireOf(l.frame()), config.maxPendingEvents());
      }
    }
  }

  /**
   * Answers a refused frame. A client that floods faster than it reads its errors does not make the server buffer
   * them: while its socket is full, errors are counted and reported in one frame when it drains.
   */
  private void reject(Subscriber sub, StreamError error) {
    count(inboundRejected, error.code, MeterNames.STREAM_INBOUND_REJECTED, "Client frames the stream refused, per reason");
    if (sub.ws.isClosed()) {
      return;
    }
    if (sub.full()) {
      sub.suppressedErrors++;
    } else {
      sub.sendText(error.toJson().encode());
    }
  }

  private static void reportSuppressedErrors(Subscriber sub) {
    if (sub.suppressedErrors > 0 && !sub.ws.isClosed()) {
      sub.sendText(new JsonObject().put("type", "error").put("code", "errors_suppressed")
        .put("count", sub.suppressedErrors)
        .put("message", sub.suppressedErrors + " error frames were not sent: your connection could not take them").encode());
      sub.suppressedErrors = 0;
    }
  }

  /**
   * While the optimizer reaps idle connections: a subscriber that sent no frame of its own (a ping, a subscribe, a
   * pong) for the limit is closed with 4001, as the chat gateway does. The dashboard pings every 5 s, so an open page
   * is never idle; a forgotten client that only listens is.
   */
  private void reapIdle() {
    long idle = node.idleSeconds.get();
    if (idle <= 0 || subscribers.isEmpty()) {
      return;
    }
    long limit = System.nanoTime() - idle * 1_000_000_000L;
    for (Subscriber sub : List.copyOf(subscribers)) {
      if (!sub.closing && sub.lastInboundNanos - limit < 0) {
        sub.closing = true;
        count(disconnects, "idle", MeterNames.STREAM_DISCONNECTS, "Stream subscribers closed by the server, per reason");
        sub.ws.close(IDLE_CLOSE_CODE, "idle: nothing from you for " + idle + " s; closed to shed load, reconnect when active");
      }
    }
  }

  private void remember(StreamFrame frame) {
    String key = key(frame.stream(), frame.instance());
    latest.remove(key);
    latest.put(key, new Latest(frame, System.nanoTime()));
    if (latest.size() > MAX_LATEST) {
      latest.remove(latest.keySet().iterator().next());
    }
  }

  private void count(Map<String, Counter> counters, String reason, String name, String description) {
    counters.computeIfAbsent(reason, r -> Counter.builder(name).description(description).tag("reason", r)
      .register(registry)).increment();
  }

  private static double now() {
    return System.currentTimeMillis() / 1000d;
  }

  /** Epoch seconds written plainly, like every sample's timestamp ("1795682253.871", never "1.795682253871E9"). */
  static java.math.BigDecimal serverTime() {
    return java.math.BigDecimal.valueOf(System.currentTimeMillis(), 3);
  }

  private static String key(String stream, String instance) {
    return stream + '\u0000' + instance;
  }

  /** Closes every subscriber with a reason a client can act on (going away: reconnect, possibly elsewhere). */
  public Future<Void> close() {
    vertx.cancelTimer(reaper);
    List<Future<Void>> closing = new ArrayList<>();
    for (Subscriber sub : List.copyOf(subscribers)) {
      sub.closing = true;
      closing.add(sub.ws.close((short) 1001, NodeStatus.SHUTDOWN_REASON));
    }
    Future<Void> unregister = consumer == null ? Future.succeededFuture() : consumer.unregister();
    closing.add(unregister);
    return Future.join(closing).mapEmpty();
  }

  /** Package-private view for tests of one instance. */
  int localSubscribers() {
    return subscribers.size();
  }
}
