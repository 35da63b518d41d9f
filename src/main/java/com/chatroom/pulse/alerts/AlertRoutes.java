package com.chatroom.pulse.alerts;

import com.chatroom.pulse.http.BusQueries;
import com.chatroom.pulse.bus.BusMessages;
import com.chatroom.pulse.bus.InvalidMessageException;
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
 * The alert API on the edge. The edge runs one instance per event loop and the alert manager one per node, so each
 * route is a node-local request to the alert manager ({@link AlertApi#ADDRESS}) with a short timeout; failures become
 * the usual {@code {"error", "message"}} answers through the router's failure handler.
 *
 * <pre>
 * GET    /api/alerts[?rule=&amp;instance=]                   active alerts (pending, firing, flapping)
 * GET    /api/alerts/history[?limit=&amp;rule=&amp;instance=]     recent changes, newest first
 * GET    /api/alerts/silences                               silences in force
 * POST   /api/alerts/silences      (admin)                  create: {rule?, labels?, ends_at | duration, comment?, created_by?}
 * DELETE /api/alerts/silences/:id  (admin)                  end a silence now
 * POST   /api/alerts/ack           (admin)                  acknowledge: {rule, instance, by?}
 * GET    /api/alerts/channels      (admin)                  channel queues, circuits and dead letters
 * </pre>
 */
public final class AlertRoutes {

  /** How long a route waits for the alert manager. */
  static final long TIMEOUT_MS = 2000;
  private static final int MAX_BODY_BYTES = 16 * 1024;

  private AlertRoutes() {
  }

  public static void mount(Router router, Vertx vertx, PulseConfig config) {
    TokenAuth admin = new TokenAuth(vertx, "admin", config.http().adminToken(), "PULSE_ADMIN_TOKEN");
    BodyHandler body = BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES);
    router.get("/api/alerts").handler(ctx -> ask(ctx, vertx, BusQueries.query(ctx, "active", "rule", "instance"), 200));
    router.get("/api/alerts/history").handler(ctx -> ask(ctx, vertx, BusQueries.query(ctx, "history", "limit", "rule", "instance"), 200));
    router.get("/api/alerts/silences").handler(ctx -> ask(ctx, vertx, new JsonObject().put("op", "silences"), 200));
    router.post("/api/alerts/silences").handler(body).handler(admin)
      .handler(ctx -> ask(ctx, vertx, jsonBody(ctx).put("op", "silence"), 201));
    router.delete("/api/alerts/silences/:id").handler(admin)
      .handler(ctx -> ask(ctx, vertx, new JsonObject().put("op", "unsilence").put("id", ctx.pathParam("id")), 200));
    router.post("/api/alerts/ack").handler(body).handler(admin)
      .handler(ctx -> ask(ctx, vertx, jsonBody(ctx).put("op", "ack"), 200));
    router.get("/api/alerts/channels").handler(admin)
      .handler(ctx -> ask(ctx, vertx, new JsonObject().put("op", "channels"), 200));
  }

  /** The body as a JSON object, or a 400 naming what is wrong (thrown: the router's failure handler answers). */
  private static JsonObject jsonBody(RoutingContext ctx) {
    String text = ctx.body() == null ? null : ctx.body().asString();
    if (text == null || text.isBlank()) {
      throw new InvalidMessageException("$", InvalidMessageException.Reason.MALFORMED, "the request body must be a JSON object");
    }
    JsonObject request = BusMessages.parseObject(text);
    request.remove("op");
    return request;
  }

  private static void ask(RoutingContext ctx, Vertx vertx, JsonObject request, int status) {
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(TIMEOUT_MS).setLocalOnly(true);
    vertx.eventBus().<JsonObject>request(AlertApi.ADDRESS, request, options).onComplete(ar -> {
      if (ar.succeeded()) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(ar.result().body().encode());
      } else if (ar.cause() instanceof ReplyException reply) {
        ctx.fail(switch (reply.failureType()) {
          case TIMEOUT -> new HttpException(503, "the alert manager did not answer within " + TIMEOUT_MS + " ms");
          case NO_HANDLERS -> new HttpException(503, "the alert manager is not running on this node (alerts.enabled is false)");
          default -> new HttpException(reply.failureCode() >= 400 && reply.failureCode() < 600 ? reply.failureCode() : 500,
            reply.getMessage());
        });
      } else {
        ctx.fail(ar.cause());
      }
    });
  }
}
