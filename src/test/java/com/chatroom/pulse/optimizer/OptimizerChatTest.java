package com.chatroom.pulse.optimizer;

import com.chatroom.pulse.WsClient;
import com.chatroom.pulse.bus.SystemMetrics;
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

import java.util.List;
import java.util.concurrent.TimeUnit;

import static com.chatroom.pulse.optimizer.OptimizerTestKit.action;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.actions;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.count;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.deploy;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.last;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.node;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.optimizer;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.rule;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.sample;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.step;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("The optimizer with the real chat gateway in the loop")
class OptimizerChatTest {

  private WebSocketClient client;

  /** A sample of this node with {@code connections} established TCP connections. */
  private static SystemMetrics connections(double seconds, int connections) {
    SystemMetrics s = sample(seconds, 20, 40);
    return new SystemMetrics(s.timestamp(), s.cpuPercent(), s.memoryPercent(), s.memoryUsedMb(), s.memoryAvailableMb(),
      s.diskUsagePercent(), s.diskFreeGb(), s.networkBytesSent(), s.networkBytesRecv(), connections, s.loadAverage(),
      s.instance(), s.seq(), s.memoryTotalMb(), s.cpuCount(), s.networkSentPerSec(), s.networkRecvPerSec(), s.disks());
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("the connections rule's reap_idle closes the idle chat connection (4001) and keeps the active one")
  void reapIdle(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    List<JsonObject> actions = actions(vertx);
    JsonObject conns = rule("connections_high", "active_connections", 500, 400, action("reap_idle").put("idle_seconds", 1));
    WsClient[] sockets = new WsClient[2];
    int[] port = new int[1];
    deploy(vertx, node(optimizer(conns)).put("chat", new JsonObject().put("allow_anonymous", true)))
      .compose(config -> {
        port[0] = config.http().port();
        return WsClient.connect(client, port[0], null, "/chat?nickname=idle").compose(ws -> ws.awaitType("hello").map(ws));
      })
      .compose(idle -> {
        sockets[0] = idle;
        return WsClient.connect(client, port[0], null, "/chat?nickname=busy").compose(ws -> ws.awaitType("hello").map(ws));
      })
      .compose(busy -> {
        sockets[1] = busy;
        long pinger = vertx.setPeriodic(200, id -> busy.ws.writeTextMessage("{\"type\":\"ping\"}"));
        return step(vertx, connections(0, 600), () -> count(actions, "applied") == 1)
          .compose(v -> sockets[0].closedWith())
          .onComplete(x -> vertx.cancelTimer(pinger));
      })
      .compose(code -> {
        try {
          assertThat(code).isEqualTo((short) 4001);
          assertThat(sockets[1].ws.isClosed()).as("the active connection stays").isFalse();
          assertThat(last(actions, "applied").getInteger("idle_seconds")).isEqualTo(1);
        } catch (Throwable t) {
          return Future.failedFuture(t);
        }
        return step(vertx, connections(1, 100), () -> count(actions, "reverted") == 1);
      })
      .onComplete(ctx.succeedingThenComplete());
  }
}
