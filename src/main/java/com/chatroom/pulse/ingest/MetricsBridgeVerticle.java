package com.chatroom.pulse.ingest;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.InvalidMessageException;
import com.chatroom.pulse.config.BridgeConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.ext.bridge.BridgeOptions;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.eventbus.bridge.tcp.impl.protocol.FrameHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The TCP event-bus bridge for non-JVM services, speaking the vertx-tcp-eventbus-bridge wire protocol: frames of a
 * 4-byte big-endian length and a JSON object {@code {"type":"send"|"publish"|"ping","address":...,"body":...}}.
 * Inbound only, and only to {@code metrics.app} (the bridge's {@link PermittedOptions}); there is no outbound, so no
 * {@code register}. Each body is validated like HTTP ingest and published as a record; {@code send} and
 * {@code publish} both publish, since every consumer of {@code metrics.app} must see each sample. Errors are the
 * bridge's {@code {"type":"err","message":...}} frames, with the offending field named.
 * <p>
 * Why not {@code TcpEventBusBridge} itself: it buffers a frame of whatever length the client declares (up to 2 GiB)
 * before parsing, and logs every malformed frame at ERROR without telling the client. On a port that takes input from
 * other services this verticle reads the same frames with a bound ({@code bridge.max_frame_bytes}), answers every bad
 * frame, caps connections and closes idle sockets. One instance per node.
 */
public final class MetricsBridgeVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(MetricsBridgeVerticle.class);

  private final BridgeConfig config;
  private final BridgeOptions permissions = new BridgeOptions().addInboundPermitted(new PermittedOptions().setAddress(Addresses.METRICS_APP));
  private final AtomicInteger connections = new AtomicInteger();
  private Ingest ingest;
  private NetServer server;

  public MetricsBridgeVerticle(BridgeConfig config) {
    this.config = config;
  }

  @Override
  public Future<?> start() {
    ingest = new Ingest(vertx, "bridge");
    NetServerOptions options = new NetServerOptions().setIdleTimeout(config.idleTimeoutSeconds());
    return vertx.createNetServer(options).connectHandler(this::onConnect).listen(config.port(), config.host())
      .onSuccess(s -> {
        server = s;
        LOG.info("Metrics bridge listening on {}:{} (inbound to {} only)", config.host(), s.actualPort(), Addresses.METRICS_APP);
      });
  }

  /** The port actually bound (useful with port 0). */
  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }

  private void onConnect(NetSocket socket) {
    if (connections.incrementAndGet() > config.maxConnections()) {
      connections.decrementAndGet();
      ingest.reject("max_connections");
      FrameHelper.sendErrFrame("too many bridge connections (max " + config.maxConnections() + ")", socket);
      socket.end();
      return;
    }
    socket.closeHandler(v -> connections.decrementAndGet());
    BoundedFrameReader reader = new BoundedFrameReader(config.maxFrameBytes(), frame -> onFrame(socket, frame), declared -> {
      ingest.reject("too_large");
      FrameHelper.sendErrFrame("frame of " + declared + " bytes is over the limit of " + config.maxFrameBytes() + " bytes", socket);
      socket.end();
    });
    socket.handler(reader);
  }

  private void onFrame(NetSocket socket, Buffer frame) {
    JsonObject msg;
    try {
      msg = new JsonObject(frame);
    } catch (DecodeException | ClassCastException e) {
      ingest.reject("malformed");
      FrameHelper.sendErrFrame("malformed frame: expected a JSON object", socket);
      return;
    }
    Object type = msg.getValue("type");
    if ("ping".equals(type)) {
      FrameHelper.sendFrame("pong", socket);
      return;
    }
    if (!"send".equals(type) && !"publish".equals(type)) {
      ingest.reject("unknown_type");
      FrameHelper.sendErrFrame("field 'type' must be \"send\", \"publish\" or \"ping\" (this bridge is inbound only), got " + describe(type), socket);
      return;
    }
    Object address = msg.getValue("address");
    if (!(address instanceof String a) || !permitted(a)) {
      ingest.reject("access_denied");
      FrameHelper.sendErrFrame("access_denied: field 'address' must be " + Addresses.METRICS_APP + ", got " + describe(address), socket);
      return;
    }
    try {
      ingest.publish(msg.getValue("body"));
    } catch (InvalidMessageException e) {
      String field = "$".equals(e.field()) ? "body" : "body." + e.field();
      FrameHelper.sendErrFrame(e.reason().tag() + " (" + field + "): " + e.getMessage(), socket);
    }
  }

  private boolean permitted(String address) {
    return permissions.getInboundPermitteds().stream().anyMatch(p -> address.equals(p.getAddress()));
  }

  private static String describe(Object value) {
    return value instanceof String s ? "'" + (s.length() > 64 ? s.substring(0, 64) + "…" : s) + "'" : Ingest.describe(value);
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
