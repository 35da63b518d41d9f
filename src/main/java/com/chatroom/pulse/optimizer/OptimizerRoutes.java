package com.chatroom.pulse.optimizer;

import com.chatroom.pulse.http.BusQueries;
import com.chatroom.pulse.bus.BusMessages;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.http.TokenAuth;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.HttpException;

/**
 * The optimizer API on the edge: each route is a node-local request to this node's optimizer
 * ({@link OptimizerApi#ADDRESS}) with a short timeout. Reads are guarded like the rest of {@code GET /api/*} (the
 * dashboard token, when one is set); overrides need the admin token.
 *
 * <pre>
 * GET  /api/optimizer/actions[?limit=&amp;rule=&amp;action=&amp;state=]   decisions, newest first
 * GET  /api/optimizer/rules                                   each rule's state, the budget
 * POST /api/optimizer/rules/:name/revert   (admin)           revert the action the rule holds: {by?}
 * POST /api/optimizer/rules/:name/suspend  (admin)           the rule decides nothing until resumed: {by?}
 * POST /api/optimizer/rules/:name/resume   (admin)
 * </pre>
 */
public final class OptimizerRoutes {

  static final long TIMEOUT_MS = 2000;
  private static final int MAX_BODY_BYTES = 4 * 1024;

  private OptimizerRoutes() {
  }

  public static void mount(Router router, Vertx vertx, PulseConfig config) {
    TokenAuth admin = new TokenAuth(vertx, "admin", config.http().adminToken(), "PULSE_ADMIN_TOKEN");
    BodyHandler body = BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES);
    router.get("/api/optimizer/actions").handler(ctx -> ask(ctx, vertx, BusQueries.query(ctx, "actions", "limit", "rule", "action", "state")));
    router.get("/api/optimizer/rules").handler(ctx -> ask(ctx, vertx, new JsonObject().put("op", "rules")));
    for (String op : new String[] {"revert", "suspend", "resume"}) {
      router.post("/api/optimizer/rules/:name/" + op).handler(body).handler(admin)
        .handler(ctx -> ask(ctx, vertx, optionalBody(ctx).put("op", op).put("rule", ctx.pathParam("name"))));
    }
  }

  /** An empty body is fine (nothing to say); otherwise a JSON object, or a 400 naming what is wrong. */
  private static JsonObject optionalBody(RoutingContext ctx) {
    String text = ctx.body() == null ? null : ctx.body().asString();
    JsonObject request = text == null || text.isBlank() ? new JsonObject() : BusMessages.parseObject(text);
    request.remove("op");
    request.remove("rule");
    return request;
  }

  private static void ask(RoutingContext ctx, Vertx vertx, JsonObject request) {
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(TIMEOUT_MS).setLocalOnly(true);
    vertx.eventBus().<JsonObject>request(OptimizerApi.ADDRESS, request, options).onComplete(ar -> {
      if (ar.succeeded()) {
        ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json").end(ar.result().body().encode());
      } else if (ar.cause() instanceof ReplyException reply) {
        ctx.fail(switch (reply.failureType()) {
          case TIMEOUT -> new HttpException(503, "the optimizer did not answer within " + TIMEOUT_MS + " ms");
          case NO_HANDLERS -> new HttpException(503, "the optimizer is not running on this node (optimizer.enabled is false)");
          default -> new HttpException(reply.failureCode() >= 400 && reply.failureCode() < 600 ? reply.failureCode() : 500,
            reply.getMessage());
        });
      } else {
        ctx.fail(ar.cause());
      }
    });
  }
}
