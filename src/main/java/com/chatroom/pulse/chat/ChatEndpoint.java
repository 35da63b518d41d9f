package com.chatroom.pulse.chat;

import com.chatroom.pulse.chat.ChatIdentity.Identity;
import com.chatroom.pulse.chat.ChatIdentity.Refusal;
import com.chatroom.pulse.config.ChatConfig;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.http.NodeStatus;
import com.chatroom.pulse.http.WsWire;
import com.chatroom.pulse.http.OriginPolicy;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code WS /chat} on one edge verticle instance: the handshake checks (identity configured, Origin, token or
 * nickname), the node and per-IP caps, and the life of each socket it accepted (rate limit, abuse, oversize frames,
 * idle reaping). What a connected client asks for is {@link EdgeRooms}' job. Used only on the owning verticle's
 * context; node-wide counts live in {@link ChatNode}.
 */
public final class ChatEndpoint {

  private static final Logger LOG = LoggerFactory.getLogger(ChatEndpoint.class);
  /** A client refused this many times by the rate limit within the window is disconnected (1008). */
  static final int ABUSE_VIOLATIONS = 20;
  static final long ABUSE_WINDOW_NANOS = 10_000_000_000L;

  private final Vertx vertx;
  private final ChatConfig config;
  private final int maxFrameBytes;
  private final OriginPolicy origins;
  private final ChatIdentity identities;
  private final ChatNode node;
  private final EdgeRooms rooms;
  private final Set<ChatConnection> connections = new LinkedHashSet<>();
  private final MeterRegistry registry;
  private final Map<String, Counter> counters = new HashMap<>();
  private long reaper;

  public ChatEndpoint(Vertx vertx, PulseConfig pulse) {
    this.vertx = vertx;
    this.config = pulse.chat();
    this.maxFrameBytes = pulse.http().maxFrameBytes();
    this.origins = new OriginPolicy(config.allowedOrigins());
    this.identities = new ChatIdentity(vertx, config);
    this.node = ChatNode.of(vertx);
    this.registry = Meters.registry(vertx);
    this.rooms = new EdgeRooms(vertx, config, pulse.instanceId(), node, this::closeSlow, reason -> count(MeterNames.CHAT_INBOUND_REJECTED, reason));
  }

  public Future<Void> start() {
    reaper = vertx.setPeriodic(1000, id -> reapIdle());
    return rooms.start();
  }

  /** Route handler for {@code GET /chat}. */
  public void handle(RoutingContext ctx) {
    if (!ctx.request().canUpgradeToWebSocket()) {
      refuse(ctx, 400, "websocket_required", "/chat is a WebSocket endpoint: connect with Upgrade: websocket", "bad_request");
      return;
    }
    if (!config.identityConfigured()) {
      refuse(ctx, 403, "chat_disabled", "chat is off on this node: set CHAT_JWT_SECRET (or chat.jwt_public_key), "
        + "or CHAT_ALLOW_ANONYMOUS=true", "disabled");
      return;
    }
    String refusal = origins.check(ctx.request());
    if (refusal != null) {
      refuse(ctx, 403, "origin_not_allowed", refusal.replace("stream.allowed_origins", "chat.allowed_origins"), "origin");
      return;
    }
    ctx.request().pause();
    identities.authenticate(ctx.request()).onComplete(ar -> {
      if (ar.failed()) {
        Refusal r = ar.cause() instanceof Refusal x ? x : new Refusal(401, "invalid_token", String.valueOf(ar.cause().getMessage()));
        refuse(ctx, r.status, r.code, r.getMessage(), r.code);
        return;
      }
      io.netty.channel.Channel channel = ChatWire.channel(ctx.request());
      ctx.request().toWebSocket()
        .onSuccess(ws -> onOpen(ws, channel, ar.result()))
        .onFailure(e -> LOG.debug("Chat handshake failed: {}", e.toString()));
    });
  }

  private void refuse(RoutingContext ctx, int status, String code, String message, String reason) {
    count(MeterNames.CHAT_REFUSED, reason);
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
      .end(new JsonObject().put("error", code).put("message", message).encode());
  }

  private void onOpen(ServerWebSocket ws, io.netty.channel.Channel channel, Identity identity) {
    WsWire.useEventLoopQueue(channel); // 4.4 KB less per connection (see there)
    String ip = ws.remoteAddress() == null ? "unknown" : ws.remoteAddress().hostAddress();
    int override = node.connectionCap.get();
    int cap = override >= 0 ? Math.min(override, config.maxConnections()) : config.maxConnections();
    if (node.connections.incrementAndGet() > cap) {
      node.connections.decrementAndGet();
      count(MeterNames.CHAT_REFUSED, "max_connections");
      ws.close((short) 1013, "too many connections on this node (max " + cap + "), try again later");
      return;
    }
    if (ChatNode.increment(node.perIp, ip) > config.maxConnectionsPerIp()) {
      ChatNode.decrement(node.perIp, ip);
      node.connections.decrementAndGet();
      count(MeterNames.CHAT_REFUSED, "max_connections_per_ip");
      ws.close((short) 1008, "too many connections from your address (max " + config.maxConnectionsPerIp() + ")");
      return;
    }
    ChatNode.increment(node.users, identity.member().id());
    ws.setWriteQueueMaxSize(config.writeQueueBytes());
    ChatConnection conn = new ChatConnection(ws, channel, identity, ip, config.burst());
    connections.add(conn);
    ws.closeHandler(v -> onClose(conn));
    ws.exceptionHandler(e -> onError(conn, e));
    // HttpServer.shutdown (the edge stopping): going away. The room registry is still up, so the leave it hears on
    // close reaches the other nodes as presence before this one leaves the cluster
    ws.shutdownHandler(v -> disconnect(conn, "shutdown", (short) 1001, NodeStatus.SHUTDOWN_REASON));
    ws.textMessageHandler(text -> onText(conn, text));
    ws.binaryMessageHandler(data -> onFrameRefused(conn, new ChatError("unsupported_frame", null, "binary frames are not supported: send JSON text frames"), null));
    rooms.write(conn, new JsonObject().put("type", "hello").put("protocol", 1).put("instance", rooms.instance())
      .put("user", identity.member().toJson().put("admin", identity.admin()))
      .put("limits", new JsonObject().put("max_message_chars", config.maxMessageChars())
        .put("messages_per_second", ratePerSecond()).put("burst", config.burst())
        .put("max_rooms", config.maxRoomsPerConnection()).put("max_frame_bytes", maxFrameBytes)).toBuffer());
  }

  private void onText(ChatConnection conn, String text) {
    if (conn.closing) {
      return;
    }
    long now = System.nanoTime();
    conn.lastInboundNanos = now;
    node.framesReceived.increment();
    if (!conn.tryTake(ratePerSecond(), burst())) {
      if (now - conn.violationWindowStart > ABUSE_WINDOW_NANOS) {
        conn.violationWindowStart = now;
        conn.violations = 0;
      }
      if (++conn.violations >= ABUSE_VIOLATIONS) {
        node.framesRejected.increment();
        disconnect(conn, "abuse", (short) 1008, "too many messages: limit " + ratePerSecond() + "/s");
        return;
      }
      onFrameRefused(conn, new ChatError("rate_limited", null, "too many messages: at most " + ratePerSecond()
        + " per second (burst " + burst() + "); keep going and you will be disconnected"), null);
      return;
    }
    try {
      rooms.onFrame(conn, ChatFrames.parse(text, config.maxMessageChars()), now);
    } catch (ChatError e) {
      onFrameRefused(conn, e, null);
    }
  }

  private void onFrameRefused(ChatConnection conn, ChatError e, String id) {
    node.framesRejected.increment();
    rooms.refuse(conn, e, id);
  }

  private double ratePerSecond() {
    double override = node.rateOverride();
    return override > 0 ? Math.min(override, config.messagesPerSecond()) : config.messagesPerSecond();
  }

  /** While the optimizer tightens the rate, the burst shrinks with it: at most two seconds' worth (at least 1). */
  private int burst() {
    double override = node.rateOverride();
    return override > 0 ? (int) Math.min(config.burst(), Math.max(1, Math.ceil(2 * ratePerSecond()))) : config.burst();
  }

  private void onError(ChatConnection conn, Throwable e) {
    if (e instanceof CorruptedWebSocketFrameException || e instanceof IllegalStateException && String.valueOf(e.getMessage()).contains("max message size")) {
      node.framesReceived.increment();
      node.framesRejected.increment();
      disconnect(conn, "frame_too_large", (short) 1009, "frame too large: at most " + maxFrameBytes + " bytes");
    } else {
      LOG.debug("Chat connection error: {}", e.toString());
    }
  }

  /** A client whose outbound queue is full: never drop its chat messages silently, close it with the reason. */
  private void closeSlow(ChatConnection conn) {
    disconnect(conn, "slow", (short) 4000, "too slow: outbound queue full; reconnect and join with since=<last seq>");
  }

  private void disconnect(ChatConnection conn, String reason, short code, String message) {
    if (conn.closing) {
      return;
    }
    conn.closing = true;
    count(MeterNames.CHAT_DISCONNECTS, reason);
    conn.ws.close(code, message);
  }

  private void reapIdle() {
    long idle = node.idleSeconds.get();
    if (idle <= 0) {
      return;
    }
    long limit = System.nanoTime() - idle * 1_000_000_000L;
    for (ChatConnection conn : List.copyOf(connections)) {
      if (conn.lastInboundNanos < limit) {
        disconnect(conn, "idle", (short) 4001, "idle for " + idle + " s: closed to shed load, reconnect when active");
      }
    }
  }

  private void onClose(ChatConnection conn) {
    if (!connections.remove(conn)) {
      return;
    }
    conn.closing = true;
    node.connections.decrementAndGet();
    ChatNode.decrement(node.perIp, conn.ip);
    ChatNode.decrement(node.users, conn.identity.member().id());
    rooms.leaveAll(conn);
  }

  private void count(String name, String reason) {
    counters.computeIfAbsent(name + '|' + reason, k -> Counter.builder(name)
      .description(name.equals(MeterNames.CHAT_REFUSED) ? "Chat connections refused, per reason"
        : name.equals(MeterNames.CHAT_DISCONNECTS) ? "Chat connections closed by the server, per reason"
        : "Chat client frames refused, per reason")
      .tag("reason", reason).register(registry)).increment();
  }

  /** Closes every connection with 1001 (going away: reconnect, possibly to another node). */
  public Future<Void> close() {
    vertx.cancelTimer(reaper);
    rooms.stopping();
    List<Future<Void>> closing = new ArrayList<>();
    for (ChatConnection conn : List.copyOf(connections)) {
      conn.closing = true;
      closing.add(conn.ws.close((short) 1001, NodeStatus.SHUTDOWN_REASON));
    }
    closing.add(rooms.stop());
    return Future.join(closing).mapEmpty();
  }
}
