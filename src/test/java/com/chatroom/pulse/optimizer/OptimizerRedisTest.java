package com.chatroom.pulse.optimizer;

import com.chatroom.pulse.RedisServer;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static com.chatroom.pulse.optimizer.OptimizerTestKit.NODE;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.action;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.actions;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.count;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.cpu;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.node;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.optimizer;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.rule;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.step;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.until;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("The optimizer audit in a real Redis")
class OptimizerRedisTest {

  private RedisServer server;
  private Redis redis;
  private WebClient client;

  @AfterEach
  void stopRedis() throws InterruptedException {
    if (server != null) {
      server.close();
    }
  }

  private Future<Void> check(Runnable assertions) {
    try {
      assertions.run();
      return Future.succeededFuture();
    } catch (Throwable t) {
      return Future.failedFuture(t);
    }
  }

  private Future<List<JsonObject>> stored() {
    return redis.send(Request.cmd(Command.LRANGE).arg(RedisAudit.key(NODE)).arg(0).arg(-1)).map(list -> {
      List<JsonObject> out = new ArrayList<>();
      for (Response item : list) {
        out.add(new JsonObject(item.toString()));
      }
      return out;
    });
  }

  private Future<Void> storedCount(Vertx vertx, int expected) {
    AtomicReference<List<JsonObject>> last = new AtomicReference<>(List.of());
    return until(vertx, () -> {
      stored().onSuccess(last::set);
      return last.get().size() == expected;
    });
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("decisions are written to Redis newest first, read back by a restarted optimizer, and a Redis outage stops nothing")
  void audit(Vertx vertx, VertxTestContext ctx) throws Exception {
    server = new RedisServer().start();
    redis = Redis.createClient(vertx, server.url());
    client = WebClient.create(vertx);
    List<JsonObject> actions = actions(vertx);
    JsonObject overrides = node(optimizer(rule("cpu_high", "cpu_percent", 90, 70, action("trim_caches"))))
      .put("redis", new JsonObject().put("url", server.url()));
    AtomicReference<PulseConfig> config = new AtomicReference<>();
    AtomicReference<String> deployment = new AtomicReference<>();
    com.chatroom.pulse.Edge.deploy(vertx, overrides)
      .compose(c -> {
        config.set(c);
        return vertx.deployVerticle(() -> new OptimizerVerticle(c), new DeploymentOptions());
      })
      .compose(id -> {
        deployment.set(id);
        return step(vertx, cpu(0, 95), () -> count(actions, "applied") == 1);
      })
      .compose(v -> step(vertx, cpu(1, 50), () -> count(actions, "reverted") == 1))
      .compose(v -> storedCount(vertx, 3))
      .compose(v -> stored())
      .compose(list -> check(() -> assertThat(list).extracting(e -> e.getString("state"))
        .containsExactly("reverted", "verified", "applied")))
      // a new optimizer on this node reads the audit back
      .compose(v -> vertx.undeploy(deployment.get()))
      .compose(v -> vertx.deployVerticle(() -> new OptimizerVerticle(config.get()), new DeploymentOptions()))
      .compose(id -> client.get(config.get().http().port(), "127.0.0.1", "/api/optimizer/actions").send())
      .compose(r -> check(() -> assertThat(r.bodyAsJsonObject().getJsonArray("actions").stream()
        .map(o -> ((JsonObject) o).getString("state")).toList()).containsExactly("reverted", "verified", "applied")))
      // Redis goes away: the optimizer still decides, publishes and lists, and counts what it could not write
      .compose(v -> {
        try {
          server.kill();
        } catch (InterruptedException e) {
          return Future.failedFuture(e);
        }
        return step(vertx, cpu(2, 95), () -> count(actions, "applied") == 2);
      })
      .compose(v -> until(vertx, () -> {
        var errors = Meters.registry(vertx).find(MeterNames.OPTIMIZER_AUDIT_ERRORS).tags("op", "write").counter();
        return errors != null && errors.count() >= 1;
      }))
      .compose(v -> client.get(config.get().http().port(), "127.0.0.1", "/api/optimizer/actions?limit=1").send())
      .compose(r -> check(() -> assertThat(r.bodyAsJsonObject().getJsonArray("actions").getJsonObject(0).getString("state"))
        .isEqualTo("applied")))
      .onComplete(ctx.succeedingThenComplete());
  }
}
