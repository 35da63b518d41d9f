package com.chatroom.pulse.chat;

import com.chatroom.pulse.WsClient;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.AlertEvent;
import com.chatroom.pulse.metrics.MeterNames;
import io.vertx.core.Future;
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

import static com.chatroom.pulse.chat.Chat.counter;
import static com.chatroom.pulse.chat.Chat.join;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("The chat gateway follows optimizer actions and announces critical alerts")
class ChatPipelineTest {

  private WebSocketClient client;

  private static JsonObject action(String name, String state) {
    return new JsonObject().put("action", name).put("state", state);
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("connection_cap applied refuses new connections with 1013, reverted lets them in again; other nodes' actions are ignored")
  void connectionCap(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    int[] port = new int[1];
    Chat.deploy(vertx, new JsonObject())
      .compose(p -> {
        port[0] = p;
        return Chat.connect(vertx, client, p, "first");
      })
      .compose(first -> {
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, action("connection_cap", "applied").put("cap", 1).put("instance", "another-node"));
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, action("connection_cap", "applied").put("cap", 1));
        // actions are applied on the registry's loop: a join's round trip through it orders them before the next connect
        return join(first, "sync-1", null).map(first);
      })
      .compose(first -> WsClient.connect(client, port[0], null, "/chat?token=" + Chat.token(vertx, "second"))
        .compose(WsClient::closedWith).map(code -> {
          ctx.verify(() -> assertThat(code).isEqualTo((short) 1013));
          vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, action("connection_cap", "reverted"));
          return first;
        }))
      .compose(first -> join(first, "sync-2", null))
      .compose(x -> Chat.connect(vertx, client, port[0], "third"))
      .onComplete(ctx.succeeding(third -> ctx.verify(() -> {
        assertThat(counter(vertx, MeterNames.CHAT_OPTIMIZER_ACTIONS, "action", "connection_cap", "state", "applied")).isEqualTo(1);
        assertThat(counter(vertx, MeterNames.CHAT_OPTIMIZER_ACTIONS, "action", "connection_cap", "state", "reverted")).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("reap_idle closes connections idle past the limit with 4001 and keeps active ones")
  void reapIdle(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    WsClient[] c = new WsClient[2];
    int[] port = new int[1];
    Chat.deploy(vertx, new JsonObject())
      .compose(p -> {
        port[0] = p;
        return Chat.connect(vertx, client, p, "idle");
      })
      .compose(idle -> {
        c[0] = idle;
        return Chat.connect(vertx, client, port[0], "busy");
      })
      .compose(busy -> {
        c[1] = busy;
        long pinger = vertx.setPeriodic(200, id -> busy.ws.writeTextMessage("{\"type\":\"ping\"}"));
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, action("reap_idle", "applied").put("idle_seconds", 1));
        return c[0].closedWith().onComplete(x -> vertx.cancelTimer(pinger));
      })
      .onComplete(ctx.succeeding(code -> ctx.verify(() -> {
        assertThat(code).isEqualTo((short) 4001);
        assertThat(c[0].ws.closeReason()).contains("idle");
        assertThat(c[1].ws.isClosed()).isFalse();
        assertThat(counter(vertx, MeterNames.CHAT_DISCONNECTS, "reason", "idle")).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("tighten_rate lowers the rate and burst of open connections; a malformed action is refused and counted")
  void tightenRate(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    Chat.deploy(vertx, new JsonObject())
      .compose(p -> Chat.connect(vertx, client, p, "chatty"))
      .compose(ws -> {
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, action("tighten_rate", "applied"));
        vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, action("tighten_rate", "applied").put("per_second", 0.5));
        // the actions are applied on the registry's loop: a round trip through it orders them before the pings
        return join(ws, "room", null).map(ws);
      })
      .compose(ws -> {
        for (int i = 0; i < 5; i++) {
          ws.ws.writeTextMessage("{\"type\":\"ping\",\"id\":" + i + "}");
        }
        return ws.await(f -> ws.ofType("pong").size() + ws.ofType("error").size() >= 5).map(ws);
      })
      .onComplete(ctx.succeeding(ws -> ctx.verify(() -> {
        // burst min(1000, 2 x 0.5) = 1, and the join already used it: the 5 pings come within the same second
        assertThat(ws.ofType("pong")).hasSizeLessThanOrEqualTo(1);
        assertThat(ws.ofType("error")).hasSizeGreaterThanOrEqualTo(4).allSatisfy(e -> assertThat(e.getString("code")).isEqualTo("rate_limited"));
        assertThat(counter(vertx, MeterNames.BUS_REJECTED, "address", Addresses.OPTIMIZER_ACTIONS, "consumer", "chat", "reason", "missing_field")).isEqualTo(1);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a firing critical alert becomes a notice in the ops room, which only admins may join; warnings are not announced")
  void opsNotices(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    Chat.deploy(vertx, new JsonObject())
      .compose(p -> Chat.connect(vertx, client, p, "operator", "admin"))
      .compose(op -> join(op, "ops", null).map(op))
      .compose(op -> {
        vertx.eventBus().publish(Addresses.ALERTS_EVENTS, new JsonObject().put("state", "firing").put("severity", "warning").put("name", "disk_high"));
        vertx.eventBus().publish(Addresses.ALERTS_EVENTS, new JsonObject().put("state", "resolved").put("severity", "critical").put("name", "cpu_critical"));
        JsonObject alert = new JsonObject().put("id", "a-17").put("state", "firing").put("severity", "critical").put("name", "cpu_critical")
          .put("instance", "pod-a").put("message", "cpu 97% > 90%");
        vertx.eventBus().publish(Addresses.ALERTS_EVENTS, alert);
        vertx.eventBus().publish(Addresses.ALERTS_EVENTS, alert.encode());
        // the record the node's own alert manager publishes, then a flag change of the same episode
        AlertEvent real = AlertEvent.fromJson(new JsonObject().put("id", "mem_critical/pod-b/firing/1764146790000")
          .put("rule", "mem_critical").put("instance", "pod-b").put("state", "firing").put("previous_state", "pending")
          .put("reason", "for_elapsed").put("severity", "critical").put("metric", "memory_percent").put("op", ">")
          .put("value", 97.5).put("threshold", 95).put("clear_threshold", 90)
          .put("annotations", new JsonObject().put("summary", "memory at 97.5% on pod-b"))
          .put("active_since", 1764146790.0).put("changed_at", 1764146820.0).put("node", "pulse-0"));
        vertx.eventBus().publish(Addresses.ALERTS_EVENTS, real);
        vertx.eventBus().publish(Addresses.ALERTS_EVENTS, AlertEvent.fromJson(real.toJson()
          .put("id", real.id() + "/acknowledged").put("previous_state", "firing").put("reason", "acknowledged").put("acknowledged", true)));
        return op.await(Chat.message("ops", 2)).map(op);
      })
      .compose(op -> {
        op.ws.writeTextMessage("{\"type\":\"ping\",\"id\":\"sync\"}");
        return op.awaitType("pong").map(op);
      })
      .onComplete(ctx.succeeding(op -> ctx.verify(() -> {
        assertThat(op.ofType("message")).hasSize(2).first().satisfies(m -> {
          assertThat(m.getString("text")).isEqualTo("[critical] cpu_critical on pod-a: cpu 97% > 90%");
          assertThat(m.getJsonObject("from").getString("id")).isEqualTo("pulse");
        });
        assertThat(op.ofType("message").get(1).getString("text")).isEqualTo("[critical] mem_critical on pod-b: memory at 97.5% on pod-b");
        assertThat(counter(vertx, MeterNames.BUS_REJECTED, "address", Addresses.ALERTS_EVENTS, "consumer", "chat")).isZero();
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("the alert manager's own AlertEvent records reach the ops room, with the summary from their annotations")
  void opsNoticesFromAlertEvents(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    com.chatroom.pulse.bus.PulseMessageCodec.register(vertx);
    com.chatroom.pulse.bus.AlertEvent firing = new com.chatroom.pulse.bus.AlertEvent("cpu_critical/pod-b/firing/1764146821000",
      "cpu_critical", "pod-b", "firing", "pending", "for_elapsed", "critical", "cpu_percent", ">", 97.5, 90, 85,
      java.util.Map.of("alertname", "cpu_critical", "instance", "pod-b", "severity", "critical"),
      java.util.Map.of("summary", "CPU 97.5% on pod-b"), 1764146800, 1764146821, false, false, null, "node-1");
    Chat.deploy(vertx, new JsonObject())
      .compose(p -> Chat.connect(vertx, client, p, "operator", "admin"))
      .compose(op -> join(op, "ops", null).map(op))
      .compose(op -> {
        vertx.eventBus().publish(Addresses.ALERTS_EVENTS, firing);
        // the same change again (e.g. evaluated on a second node): announced once
        vertx.eventBus().publish(Addresses.ALERTS_EVENTS, firing);
        vertx.eventBus().publish(Addresses.ALERTS_EVENTS, firing.withSilenced(false, "threshold"));
        return op.await(Chat.message("ops", 1)).map(op);
      })
      .compose(op -> {
        op.ws.writeTextMessage("{\"type\":\"ping\",\"id\":\"sync\"}");
        return op.awaitType("pong").map(op);
      })
      .onComplete(ctx.succeeding(op -> ctx.verify(() -> {
        assertThat(op.ofType("message")).singleElement().satisfies(m ->
          assertThat(m.getString("text")).isEqualTo("[critical] cpu_critical on pod-b: CPU 97.5% on pod-b"));
        assertThat(counter(vertx, MeterNames.BUS_REJECTED, "address", Addresses.ALERTS_EVENTS, "consumer", "chat", "reason", "unsupported_body"))
          .isZero();
        ctx.completeNow();
      })));
  }
}
