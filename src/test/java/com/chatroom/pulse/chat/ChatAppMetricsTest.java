package com.chatroom.pulse.chat;

import com.chatroom.pulse.WsClient;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.ApplicationMetrics;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;

import static com.chatroom.pulse.chat.Chat.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

@ExtendWith(VertxExtension.class)
@DisplayName("The gateway's application metrics")
class ChatAppMetricsTest {

  private WebSocketClient client;

  @Test
  @DisplayName("per interval: response time is the mean fan-out time in ms, error rate refused/received; per minute counts the last 60 s")
  void arithmetic() {
    ChatNode node = new ChatNode();
    long t0 = 1_764_000_000_000L;
    ChatAppMetrics metrics = new ChatAppMetrics(node, new SimpleMeterRegistry(), "n1", t0 - 5000);
    node.users.put("a", new java.util.concurrent.atomic.AtomicInteger(2));
    node.users.put("b", new java.util.concurrent.atomic.AtomicInteger(1));
    for (int i = 0; i < 8; i++) {
      metrics.accepted();
    }
    node.framesReceived.add(10);
    node.framesRejected.add(2);
    node.fanoutNanos.add(3_000_000 + 5_000_000);
    node.fanoutCount.add(2);
    ApplicationMetrics first = metrics.sample(t0);
    assertThat(first.activeUsers()).isEqualTo(2);
    assertThat(first.totalMessages()).isEqualTo(8);
    assertThat(first.messagesPerMinute()).isEqualTo(8);
    assertThat(first.responseTimeAvg()).isEqualTo(4.0);
    assertThat(first.errorRate()).isEqualTo(0.2);
    assertThat(first.service()).isEqualTo("chat-gateway");

    metrics.accepted();
    node.framesReceived.add(4);
    ApplicationMetrics second = metrics.sample(t0 + 30_000);
    assertThat(second.totalMessages()).isEqualTo(9);
    assertThat(second.messagesPerMinute()).isEqualTo(9);
    assertThat(second.responseTimeAvg()).as("no fan-out in this interval").isZero();
    assertThat(second.errorRate()).isZero();

    metrics.accepted();
    ApplicationMetrics third = metrics.sample(t0 + 61_000);
    assertThat(third.messagesPerMinute()).as("the 8 of the first sample are over a minute old").isEqualTo(2);
    assertThat(third.totalMessages()).isEqualTo(10);
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("are published on metrics.app with the node's real counts and exposed in /metrics")
  void publishedAndScraped(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    WsClient[] c = new WsClient[3];
    Promise<ApplicationMetrics> published = Promise.promise();
    vertx.eventBus().<Object>consumer(Addresses.METRICS_APP, m -> {
      if (m.body() instanceof ApplicationMetrics a && a.service().equals("chat-gateway") && a.totalMessages() == 10) {
        published.tryComplete(a);
      }
    });
    Chat.deploy(vertx, new JsonObject().put("metrics_interval_ms", 200))
      .compose(port -> Chat.connect(vertx, client, port, "alice").compose(a -> {
        c[0] = a;
        return Chat.connect(vertx, client, port, "alice");
      }).compose(a2 -> {
        c[1] = a2;
        return Chat.connect(vertx, client, port, "bob");
      }))
      .compose(b -> {
        c[2] = b;
        return Future.all(join(c[0], "room", null), join(c[1], "room", null), join(b, "room", null));
      })
      .compose(x -> {
        for (int i = 1; i <= 10; i++) {
          Chat.send(c[0], "room", "m" + i, "hello " + i);
        }
        return Future.all(c[0].await(Chat.message("room", 10)), c[1].await(Chat.message("room", 10)), c[2].await(Chat.message("room", 10)));
      })
      .compose(x -> published.future())
      .onComplete(ctx.succeeding(m -> ctx.verify(() -> {
        assertThat(m.activeUsers()).as("alice twice and bob: two users").isEqualTo(2);
        assertThat(m.messagesPerMinute()).isEqualTo(10);
        assertThat(m.errorRate()).isBetween(0d, 1d);
        assertThat(m.instance()).isEqualTo("edge-test");
        assertThat(m.timestamp()).isCloseTo(System.currentTimeMillis() / 1000d, offset(5d));
        var registry = Meters.registry(vertx);
        assertThat(registry.get(MeterNames.CHAT_ACTIVE_USERS).gauge().value()).isEqualTo(2);
        assertThat(registry.get(MeterNames.CHAT_CONNECTIONS).gauge().value()).isEqualTo(3);
        assertThat(registry.get(MeterNames.CHAT_MESSAGES).counter().count()).isEqualTo(10);
        assertThat(registry.get(MeterNames.CHAT_DELIVERIES).functionCounter().count()).as("10 messages to 3 sockets")
          .isEqualTo(30);
        assertThat(Meters.registry(vertx).scrape()).contains("pulse_chat_active_users 2.0", "pulse_chat_messages_per_minute",
          "pulse_chat_response_time_average_seconds", "pulse_chat_error_ratio", "pulse_chat_messages_total 10.0");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("count refused frames in the error rate and fan-out time in the response time")
  void errorsAndLatencyCounted(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    Promise<ApplicationMetrics> published = Promise.promise();
    vertx.eventBus().<Object>consumer(Addresses.METRICS_APP, m -> {
      if (m.body() instanceof ApplicationMetrics a && a.service().equals("chat-gateway") && a.errorRate() > 0 && a.responseTimeAvg() > 0) {
        published.tryComplete(a);
      }
    });
    // one long interval: every frame below falls in the first one
    Chat.deploy(vertx, new JsonObject().put("metrics_interval_ms", 3000))
      .compose(port -> Chat.connect(vertx, client, port, "alice"))
      .compose(a -> join(a, "room", null).map(a))
      .compose(a -> {
        a.ws.writeTextMessage("{\"type\":\"nonsense\"}");
        Chat.send(a, "room", "m1", "hi");
        return a.await(Chat.message("room", 1));
      })
      .compose(x -> published.future())
      .onComplete(ctx.succeeding(m -> ctx.verify(() -> {
        // three frames (join, nonsense, send), one refused
        assertThat(m.errorRate()).isCloseTo(1 / 3d, offset(0.001));
        assertThat(m.responseTimeAvg()).isPositive().isLessThan(1000);
        ctx.completeNow();
      })));
  }
}
