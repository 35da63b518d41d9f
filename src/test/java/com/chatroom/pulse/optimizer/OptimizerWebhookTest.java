package com.chatroom.pulse.optimizer;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static com.chatroom.pulse.optimizer.OptimizerTestKit.actions;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.count;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.cpu;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.deploy;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.evaluated;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.last;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.node;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.optimizer;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.rule;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.rules;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.step;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.until;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("Webhook actions against a real local HTTP server")
class OptimizerWebhookTest {

  /** What the receiver got: the body and two headers of each request. */
  record Received(JsonObject body, String token, String idempotencyKey) {
  }

  private HttpServer receiver;

  private Future<Void> check(Runnable assertions) {
    try {
      assertions.run();
      return Future.succeededFuture();
    } catch (Throwable t) {
      return Future.failedFuture(t);
    }
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("POSTs the action event on apply and on revert; a receiver that keeps failing is retried, then recorded as failed")
  void webhook(Vertx vertx, VertxTestContext ctx) {
    List<JsonObject> actions = actions(vertx);
    List<Received> received = new CopyOnWriteArrayList<>();
    AtomicInteger answer = new AtomicInteger(200);
    vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
        received.add(new Received(body.toJsonObject(), req.getHeader("X-Token"), req.getHeader("Idempotency-Key")));
        req.response().setStatusCode(answer.get()).end();
      }))
      .listen(0, "127.0.0.1")
      .compose(server -> {
        receiver = server;
        JsonObject hook = rule("scale_out", "cpu_percent", 90, 70, new JsonObject().put("type", "webhook")
          .put("url", "http://127.0.0.1:" + server.actualPort() + "/scale").put("headers", new JsonObject().put("X-Token", "t0k")));
        hook.getJsonObject("verify").put("enabled", false);
        JsonObject opt = optimizer(hook).put("webhook", new JsonObject().put("timeout", "2s").put("max_attempts", 3).put("backoff", "10ms"));
        return deploy(vertx, node(opt));
      })
      .compose(c -> step(vertx, cpu(0, 95), () -> count(actions, "applied") == 1))
      .compose(v -> check(() -> {
        assertThat(received).hasSize(1);
        Received apply = received.get(0);
        JsonObject applied = last(actions, "applied");
        assertThat(apply.body()).isEqualTo(applied);
        assertThat(apply.body().getString("state")).isEqualTo("applied");
        assertThat(apply.body().getString("action")).isEqualTo("webhook");
        assertThat(apply.token()).isEqualTo("t0k");
        assertThat(apply.idempotencyKey()).isEqualTo(applied.getString("id"));
      }))
      .compose(v -> step(vertx, cpu(1, 50), () -> count(actions, "reverted") == 1))
      .compose(v -> check(() -> {
        assertThat(received).hasSize(2);
        assertThat(received.get(1).body().getString("state")).isEqualTo("reverted");
      }))
      .compose(v -> {
        answer.set(500);
        return step(vertx, cpu(2, 95), () -> count(actions, "failed") == 1);
      })
      .compose(v -> check(() -> {
        JsonObject failed = last(actions, "failed");
        assertThat(failed.getString("reason")).isEqualTo("webhook apply to 127.0.0.1:" + receiver.actualPort()
          + " failed: HTTP 500 after 3 attempts");
        assertThat(received).hasSize(5);
        assertThat(received.subList(2, 5)).extracting(Received::idempotencyKey).containsOnly(failed.getString("failed_id"));
        assertThat(count(actions, "applied")).as("an undelivered apply is not recorded as applied").isEqualTo(1);
      }))
      .compose(v -> rules(vertx))
      .compose(listing -> check(() -> assertThat(OptimizerTestKit.rule(listing, "scale_out").getString("status"))
        .as("the rule holds nothing after a failed apply").isEqualTo("idle")))
      // cooling down again sends nothing: nothing was applied
      .compose(v -> evaluated(vertx, cpu(3, 50), "scale_out"))
      .compose(v -> until(vertx, () -> true))
      .compose(v -> check(() -> {
        assertThat(received).hasSize(5);
        assertThat(count(actions, "reverted")).isEqualTo(1);
      }))
      .onComplete(ctx.succeedingThenComplete());
  }
}
