package com.chatroom.pulse.optimizer;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static com.chatroom.pulse.optimizer.OptimizerTestKit.ADMIN_TOKEN;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.action;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.actions;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.count;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.cpu;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.deploy;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.evaluated;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.last;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.node;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.optimizer;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.rule;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.step;
import static com.chatroom.pulse.optimizer.OptimizerTestKit.until;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("The optimizer API over real HTTP")
class OptimizerApiTest {

  private WebClient client;
  private int port;

  private Future<Void> check(Runnable assertions) {
    try {
      assertions.run();
      return Future.succeededFuture();
    } catch (Throwable t) {
      return Future.failedFuture(t);
    }
  }

  private Future<HttpResponse<Buffer>> get(String path) {
    return client.get(port, "127.0.0.1", path).send();
  }

  private Future<HttpResponse<Buffer>> post(String path, String token, String body) {
    HttpRequest<Buffer> request = client.post(port, "127.0.0.1", path);
    if (token != null) {
      request.putHeader("Authorization", "Bearer " + token);
    }
    return body == null ? request.send() : request.putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer(body));
  }

  private Future<Void> status(Future<HttpResponse<Buffer>> response, int expected, String bodyContains) {
    return response.compose(r -> check(() -> {
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(expected);
      assertThat(r.getHeader("Content-Type")).isEqualTo("application/json");
      assertThat(r.bodyAsString()).contains(bodyContains);
    }));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("lists decisions newest first and each rule's state; bad parameters answer 400 naming them")
  void reads(Vertx vertx, VertxTestContext ctx) {
    client = WebClient.create(vertx);
    List<JsonObject> actions = actions(vertx);
    JsonObject shed = rule("shed", "cpu_percent", 90, 70, action("shed_load").put("cap", 3)).put("cooldown", "300s");
    deploy(vertx, node(optimizer(shed))).onSuccess(c -> port = c.http().port())
      .compose(c -> get("/api/optimizer/actions"))
      .compose(r -> check(() -> {
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.bodyAsJsonObject().getJsonArray("actions")).isEmpty();
      }))
      .compose(v -> step(vertx, cpu(0, 95), () -> count(actions, "applied") == 1))
      .compose(v -> step(vertx, cpu(1, 50), () -> count(actions, "reverted") == 1))
      .compose(v -> get("/api/optimizer/actions"))
      .compose(r -> check(() -> {
        JsonObject body = r.bodyAsJsonObject();
        assertThat(body.getString("node")).isEqualTo(OptimizerTestKit.NODE);
        List<String> states = body.getJsonArray("actions").stream().map(o -> ((JsonObject) o).getString("state")).toList();
        assertThat(states).containsExactly("reverted", "verified", "applied");
        JsonObject applied = body.getJsonArray("actions").getJsonObject(2);
        assertThat(applied.fieldNames()).contains("timestamp", "instance", "rule", "action", "state", "reason", "metrics");
        assertThat(applied.getJsonObject("metrics").getDouble("cpu_percent")).isEqualTo(95.0);
      }))
      .compose(v -> get("/api/optimizer/actions?state=applied&limit=5"))
      .compose(r -> check(() -> assertThat(r.bodyAsJsonObject().getJsonArray("actions")).hasSize(1)))
      .compose(v -> get("/api/optimizer/rules"))
      .compose(r -> check(() -> {
        JsonObject rule = r.bodyAsJsonObject().getJsonArray("rules").getJsonObject(0);
        assertThat(rule.getString("name")).isEqualTo("shed");
        assertThat(rule.getString("status")).isEqualTo("cooldown");
        assertThat(rule.getJsonObject("action").getInteger("cap")).isEqualTo(3);
        assertThat(r.bodyAsJsonObject().getJsonObject("budget").getInteger("used")).isEqualTo(1);
      }))
      .compose(v -> status(get("/api/optimizer/actions?limit=0"), 400, "parameter 'limit' must be between 1 and 1000"))
      .compose(v -> status(get("/api/optimizer/actions?limit=many"), 400, "\"error\":\"bad_request\""))
      .compose(v -> status(get("/api/optimizer/actions?state=exploded"), 400, "parameter 'state' must be one of"))
      .compose(v -> status(get("/api/optimizer/actions?action=reboot"), 400, "parameter 'action' must be one of"))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("an admin reverts an active action and suspends / resumes a rule; without the token nothing changes")
  void overrides(Vertx vertx, VertxTestContext ctx) {
    client = WebClient.create(vertx);
    List<JsonObject> actions = actions(vertx);
    JsonObject shed = rule("shed", "cpu_percent", 90, 70, action("shed_load").put("cap", 0)).put("cooldown", "300s");
    deploy(vertx, node(optimizer(shed))).onSuccess(c -> port = c.http().port())
      .compose(c -> step(vertx, cpu(0, 95), () -> count(actions, "applied") == 1))
      .compose(v -> status(post("/api/optimizer/rules/shed/revert", null, null), 401, "Authorization: Bearer"))
      .compose(v -> status(post("/api/optimizer/rules/shed/revert", "wrong-token", null), 401, "not valid"))
      .compose(v -> check(() -> assertThat(count(actions, "reverted")).isZero()))
      .compose(v -> status(post("/api/optimizer/rules/shed/revert", ADMIN_TOKEN, "{\"by\":\"alice\"}"), 200, "\"status\":\"cooldown\""))
      .compose(v -> until(vertx, () -> count(actions, "reverted") == 1))
      .compose(v -> check(() -> {
        JsonObject reverted = last(actions, "reverted");
        assertThat(reverted.getString("rule")).isEqualTo("manual");
        assertThat(reverted.getString("target_rule")).isEqualTo("shed");
        assertThat(reverted.getString("reason")).startsWith("reverted by alice");
      }))
      .compose(v -> readyIs(vertx, 200))
      // still hot, but the operator's revert starts the cooldown: no re-apply, and no skip noise
      .compose(v -> evaluated(vertx, cpu(1, 96), "shed"))
      .compose(v -> check(() -> {
        assertThat(count(actions, "applied")).isEqualTo(1);
        assertThat(count(actions, "skipped")).isZero();
      }))
      .compose(v -> status(post("/api/optimizer/rules/shed/revert", ADMIN_TOKEN, null), 409, "holds no action"))
      .compose(v -> status(post("/api/optimizer/rules/nope/suspend", ADMIN_TOKEN, null), 404, "no optimizer rule named 'nope'"))
      .compose(v -> status(post("/api/optimizer/rules/shed/suspend", ADMIN_TOKEN, "{"), 400, "malformed JSON"))
      .compose(v -> status(post("/api/optimizer/rules/shed/suspend", null, null), 401, "unauthorized"))
      .compose(v -> status(post("/api/optimizer/rules/shed/suspend", ADMIN_TOKEN, "{\"by\":\"bob\"}"), 200, "\"status\":\"suspended\""))
      .compose(v -> until(vertx, () -> count(actions, "suspended") == 1))
      .compose(v -> check(() -> assertThat(last(actions, "suspended").getString("reason")).startsWith("suspended by bob")))
      .compose(v -> status(post("/api/optimizer/rules/shed/suspend", ADMIN_TOKEN, null), 409, "already suspended"))
      // past the cooldown and still hot: a suspended rule does nothing
      .compose(v -> evaluated(vertx, cpu(400, 97), "shed"))
      .compose(v -> check(() -> assertThat(count(actions, "applied")).isEqualTo(1)))
      .compose(v -> get("/api/optimizer/actions?rule=shed&state=suspended"))
      .compose(r -> check(() -> assertThat(r.bodyAsJsonObject().getJsonArray("actions")).hasSize(1)))
      .compose(v -> status(post("/api/optimizer/rules/shed/resume", ADMIN_TOKEN, null), 200, "\"suspended\":false"))
      .compose(v -> until(vertx, () -> count(actions, "resumed") == 1))
      .compose(v -> status(post("/api/optimizer/rules/shed/resume", ADMIN_TOKEN, null), 409, "is not suspended"))
      .compose(v -> step(vertx, cpu(401, 97), () -> count(actions, "applied") == 2))
      .compose(v -> readyIs(vertx, 503))
      .onComplete(ctx.succeedingThenComplete());
  }

  private Future<Void> readyIs(Vertx vertx, int expected) {
    return get("/health/ready").compose(r -> {
      if (r.statusCode() == expected) {
        return Future.succeededFuture();
      }
      io.vertx.core.Promise<Void> later = io.vertx.core.Promise.promise();
      vertx.setTimer(10, id -> later.complete());
      return later.future().compose(v -> readyIs(vertx, expected));
    });
  }
}
