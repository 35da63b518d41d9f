package com.chatroom.pulse.bus;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.cluster.ClusterSetup;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import com.chatroom.pulse.stream.StreamVerticle;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.ClusterSerializable;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.Serializable;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Two clustered Vert.x instances in this JVM (Hazelcast TCP-IP on 127.0.0.1): what may cross the wire between them.
 * Node B is configured as Pulse configures a node; node A keeps Vert.x's defaults and plays a careless or broken peer.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("The clustered event bus carries only Pulse's codecs and plain types")
class ClusterWireTest {

  private static Vertx a;
  private static Vertx b;

  /** Something Java would happily serialize. */
  record Secret(String value) implements Serializable {
  }

  /** A class that asks for Vert.x's ClusterSerializable path. */
  public static final class Custom implements ClusterSerializable {
    @Override
    public void writeToBuffer(Buffer buffer) {
      buffer.appendInt(42);
    }

    @Override
    public int readFromBuffer(int pos, Buffer buffer) {
      return pos + 4;
    }
  }

  /** Stands in for a peer whose "pulse" codec writes garbage: a kind length that points past the end. */
  static final class BrokenPulseCodec implements MessageCodec<Object, Object> {
    @Override
    public void encodeToWire(Buffer buffer, Object o) {
      buffer.appendInt(1_000_000).appendString("system");
    }

    @Override
    public Object decodeFromWire(int pos, Buffer buffer) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Object transform(Object o) {
      return o;
    }

    @Override
    public String name() {
      return PulseMessageCodec.NAME;
    }

    @Override
    public byte systemCodecID() {
      return -1;
    }
  }

  private static Vertx clustered(Map<String, String> env) throws Exception {
    VertxOptions options = new VertxOptions().setEventBusOptions(new EventBusOptions().setHost("127.0.0.1").setPort(0));
    return Vertx.builder().with(options).withClusterManager(ClusterSetup.clusterManager(env)).buildClustered()
      .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @BeforeAll
  static void cluster() throws Exception {
    System.setProperty("hazelcast.wait.seconds.before.join", "0");
    int portA = Edge.freePort();
    int portB = Edge.freePort();
    String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
    String name = "pulse-wire-" + UUID.randomUUID();
    a = clustered(Map.of("CLUSTER_HOST", "127.0.0.1", "CLUSTER_PORT", Integer.toString(portA), "CLUSTER_MEMBERS", members,
      "CLUSTER_NAME", name));
    b = clustered(Map.of("CLUSTER_HOST", "127.0.0.1", "CLUSTER_PORT", Integer.toString(portB), "CLUSTER_MEMBERS", members,
      "CLUSTER_NAME", name));
    PulseMessageCodec.register(b);
    a.eventBus().registerCodec(new BrokenPulseCodec());
  }

  @AfterAll
  static void close() throws Exception {
    List<Future<Void>> closing = new ArrayList<>();
    for (Vertx v : new Vertx[] {a, b}) {
      if (v != null) {
        closing.add(v.close());
      }
    }
    Future.join(closing).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a Serializable or ClusterSerializable body is refused at the sender and on arrival; JSON, strings and numbers go")
  void onlyKnownCodecs(VertxTestContext ctx) {
    var bus = b.eventBus();
    assertThatThrownBy(() -> bus.send("pulse.test.nowhere", new Secret("x"))).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("No message codec");
    assertThatThrownBy(() -> bus.publish("pulse.test.nowhere", new Secret("x"))).isInstanceOf(IllegalArgumentException.class);
    // java.lang.Number subclasses without a system codec pass Vert.x's default checker: not Pulse's
    assertThatThrownBy(() -> bus.send("pulse.test.nowhere", BigInteger.TEN)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> bus.send("pulse.test.nowhere", new Custom())).isInstanceOf(IllegalArgumentException.class);

    // on b (Pulse), a consumer that reports what it could decode; a (Vert.x defaults) sends to it
    bus.consumer("pulse.test.inbound", m -> {
      try {
        Object body = m.body();
        m.reply("decoded " + body);
      } catch (RuntimeException e) {
        m.reply("refused");
      }
    }).completion()
      .compose(v -> request(a.eventBus(), "pulse.test.inbound", new JsonObject().put("k", 1)))
      .compose(json -> request(a.eventBus(), "pulse.test.inbound", "text").map(text -> List.of(json, text)))
      .compose(two -> request(a.eventBus(), "pulse.test.inbound", 7L).map(n -> List.of(two.get(0), two.get(1), n)))
      .compose(three -> request(a.eventBus(), "pulse.test.inbound", BigInteger.TEN).map(big -> List.of(three.get(0), three.get(1), three.get(2), big)))
      .onComplete(ctx.succeeding(answers -> ctx.verify(() -> {
        assertThat(answers).containsExactly("decoded {\"k\":1}", "decoded text", "decoded 7", "refused");
        ctx.completeNow();
      })));
  }

  /** Request/reply, retried while the consumer's registration is still reaching the other node. */
  private static Future<String> request(io.vertx.core.eventbus.EventBus bus, String address, Object body) {
    return bus.request(address, body, new DeliveryOptions().setSendTimeout(5000)).map(m -> (String) m.body())
      .recover(e -> e instanceof io.vertx.core.eventbus.ReplyException r && r.failureType() == io.vertx.core.eventbus.ReplyFailure.NO_HANDLERS
        ? Future.<Void>future(p -> a.setTimer(100, id -> p.complete())).compose(x -> request(bus, address, body))
        : Future.failedFuture(e));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a corrupted message from a peer is refused and counted by the consumer as malformed, not thrown")
  void corruptedFromPeerIsCounted(VertxTestContext ctx) {
    b.deployVerticle(StreamVerticle.of("node-b"))
      .compose(id -> {
        Promise<Double> counted = Promise.promise();
        // a's "pulse" codec is the broken one: every body it sends claims a kind of a million bytes
        long timer = a.setPeriodic(200, id2 -> {
          a.eventBus().publish(Addresses.METRICS_SYSTEM, "anything", new DeliveryOptions().setCodecName(PulseMessageCodec.NAME));
          double n = rejected("malformed");
          if (n >= 1) {
            counted.tryComplete(n);
          }
        });
        return counted.future().onComplete(x -> a.cancelTimer(timer));
      })
      .onComplete(ctx.succeeding(n -> ctx.verify(() -> {
        assertThat(n).isGreaterThanOrEqualTo(1);
        ctx.completeNow();
      })));
  }

  private static double rejected(String reason) {
    Counter c = Meters.registry(b).find(MeterNames.BUS_REJECTED).tags("address", Addresses.METRICS_SYSTEM, "consumer", "stream",
      "reason", reason).counter();
    return c == null ? 0 : c.count();
  }
}
