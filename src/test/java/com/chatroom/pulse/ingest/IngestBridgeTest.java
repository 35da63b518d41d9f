package com.chatroom.pulse.ingest;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.ApplicationMetrics;
import com.chatroom.pulse.bus.PulseMessageCodec;
import com.chatroom.pulse.config.BridgeConfig;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("The TCP bridge, driven by a raw socket speaking its framing")
class IngestBridgeTest {

  private NetClient net;
  private final Promise<Void> twoPublished = Promise.promise();
  private final Promise<Void> firstPublished = Promise.promise();

  /** A raw client: writes length-prefixed JSON, collects every reply frame. */
  static final class RawBridgeClient {
    final NetSocket socket;
    final List<JsonObject> replies = new CopyOnWriteArrayList<>();
    final Promise<Void> closed = Promise.promise();
    private Buffer pending = Buffer.buffer();
    private final List<Promise<Void>> waiters = new ArrayList<>();
    private final List<Integer> counts = new ArrayList<>();

    RawBridgeClient(NetSocket socket) {
      this.socket = socket;
      socket.handler(this::onData);
      socket.closeHandler(v -> closed.tryComplete());
    }

    private synchronized void onData(Buffer data) {
      pending.appendBuffer(data);
      while (pending.length() >= 4 && pending.length() >= 4 + pending.getInt(0)) {
        int length = pending.getInt(0);
        replies.add(new JsonObject(pending.getBuffer(4, 4 + length)));
        pending = pending.getBuffer(4 + length, pending.length());
      }
      for (int i = waiters.size() - 1; i >= 0; i--) {
        if (replies.size() >= counts.get(i)) {
          waiters.remove(i).complete();
          counts.remove(i);
        }
      }
    }

    void frame(String json) {
      byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
      socket.write(Buffer.buffer().appendInt(bytes.length).appendBytes(bytes));
    }

    synchronized Future<Void> awaitReplies(int n) {
      if (replies.size() >= n) {
        return Future.succeededFuture();
      }
      Promise<Void> p = Promise.promise();
      waiters.add(p);
      counts.add(n);
      return p.future();
    }
  }

  private Future<RawBridgeClient> start(Vertx vertx, List<ApplicationMetrics> published, int port) {
    net = vertx.createNetClient();
    PulseMessageCodec.register(vertx);
    vertx.eventBus().<Object>localConsumer(Addresses.METRICS_APP, m -> {
      if (m.body() instanceof ApplicationMetrics a) {
        published.add(a);
        firstPublished.tryComplete();
        if (published.size() >= 2) {
          twoPublished.tryComplete();
        }
      }
    });
    return vertx.deployVerticle(new MetricsBridgeVerticle(new BridgeConfig(true, "127.0.0.1", port, 4096, 60, 10)))
      .compose(id -> net.connect(port, "127.0.0.1")).map(RawBridgeClient::new);
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("send and publish to metrics.app are validated and published; other addresses, types and bad bodies get err frames naming the field")
  void framesAndErrors(Vertx vertx, VertxTestContext ctx) {
    List<ApplicationMetrics> published = new CopyOnWriteArrayList<>();
    JsonObject valid = IngestHttpTest.seed(7);
    start(vertx, published, Edge.freePort())
      .compose(c -> {
        c.frame(new JsonObject().put("type", "publish").put("address", "metrics.app").put("body", valid).encode());
        c.frame(new JsonObject().put("type", "send").put("address", "metrics.app").put("body", valid.copy().put("active_users", 8)).encode());
        c.frame(new JsonObject().put("type", "publish").put("address", "metrics.app").put("body", valid.copy().put("error_rate", "high")).encode());
        c.frame(new JsonObject().put("type", "publish").put("address", "metrics.app").put("body", valid.encode()).encode());
        c.frame(new JsonObject().put("type", "publish").put("address", "alerts.events").put("body", valid).encode());
        c.frame(new JsonObject().put("type", "register").put("address", "metrics.app").encode());
        c.frame("{not json");
        c.frame("[1,2]");
        c.frame(new JsonObject().put("type", "ping").encode());
        return c.awaitReplies(7).compose(x -> twoPublished.future()).map(c);
      })
      .onComplete(ctx.succeeding(c -> ctx.verify(() -> {
        List<String> types = c.replies.stream().map(r -> r.getString("type")).toList();
        assertThat(types).containsExactly("err", "err", "err", "err", "err", "err", "pong");
        assertThat(c.replies.get(0).getString("message")).contains("body.error_rate");
        assertThat(c.replies.get(1).getString("message")).contains("body").contains("a string");
        assertThat(c.replies.get(2).getString("message")).startsWith("access_denied").contains("alerts.events");
        assertThat(c.replies.get(3).getString("message")).contains("'register'");
        assertThat(c.replies.get(4).getString("message")).contains("malformed");
        assertThat(c.replies.get(5).getString("message")).contains("malformed");
        assertThat(published).extracting(ApplicationMetrics::activeUsers).containsExactly(7L, 8L);
        var registry = Meters.registry(vertx);
        assertThat(registry.get(MeterNames.INGEST_ACCEPTED).tags("source", "bridge").counter().count()).isEqualTo(2);
        assertThat(registry.get(MeterNames.INGEST_REJECTED).tags("source", "bridge", "reason", "access_denied").counter().count()).isEqualTo(1);
        assertThat(registry.get(MeterNames.INGEST_REJECTED).tags("source", "bridge", "reason", "malformed").counter().count()).isEqualTo(2);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a frame declared over max_frame_bytes is refused at once and the socket closed, without buffering it; frames split across packets are read whole")
  void oversizeAndSplitFrames(Vertx vertx, VertxTestContext ctx) {
    List<ApplicationMetrics> published = new CopyOnWriteArrayList<>();
    int port = Edge.freePort();
    start(vertx, published, port)
      .compose(c -> {
        byte[] bytes = new JsonObject().put("type", "publish").put("address", "metrics.app").put("body", IngestHttpTest.seed(5)).encode()
          .getBytes(StandardCharsets.UTF_8);
        Buffer frame = Buffer.buffer().appendInt(bytes.length).appendBytes(bytes);
        // byte by byte, as a slow network would deliver it
        for (int i = 0; i < frame.length(); i++) {
          c.socket.write(frame.getBuffer(i, i + 1));
        }
        c.frame(new JsonObject().put("type", "ping").encode());
        return c.awaitReplies(1).compose(x -> firstPublished.future()).map(c);
      })
      .compose(c -> {
        ctx.verify(() -> assertThat(published).extracting(ApplicationMetrics::activeUsers).containsExactly(5L));
        // declares 1 GiB and sends only the header: the bridge must refuse it without waiting for the bytes
        c.socket.write(Buffer.buffer().appendInt(1 << 30));
        return c.awaitReplies(2).compose(x -> c.closed.future()).map(c);
      })
      .onComplete(ctx.succeeding(c -> ctx.verify(() -> {
        assertThat(c.replies.get(0).getString("type")).isEqualTo("pong");
        assertThat(c.replies.get(1).getString("type")).isEqualTo("err");
        assertThat(c.replies.get(1).getString("message")).contains("1073741824").contains("4096");
        ctx.completeNow();
      })));
  }
}
