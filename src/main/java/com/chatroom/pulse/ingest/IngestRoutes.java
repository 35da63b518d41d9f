package com.chatroom.pulse.ingest;

import com.chatroom.pulse.bus.InvalidMessageException;
import com.chatroom.pulse.config.HttpConfig;
import com.chatroom.pulse.http.Failures;
import com.chatroom.pulse.http.TokenAuth;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * {@code POST /api/metrics/app} (bearer token of the {@code ingest} group): one ApplicationMetrics JSON object — the
 * seed's {@code asdict()} output as is — or an array of them. Each valid item is published on {@code metrics.app}.
 * <ul>
 *   <li>one object: {@code 202 {"accepted":1,"rejected":[]}}, or {@code 400} naming the field;</li>
 *   <li>an array: {@code 202} when every item is valid; {@code 207} with the rejected items listed when some are and
 *       some are not (the valid ones are published all the same); {@code 400} when none is valid.</li>
 * </ul>
 * A rejected item is {@code {"index":i,"field":"...","error":"missing_field|wrong_type|out_of_range|...","message":"..."}}.
 * Bodies over {@link #MAX_BODY_BYTES} get 413, arrays over {@link #MAX_BATCH} items 400, non-JSON media types 415.
 */
public final class IngestRoutes {

  public static final long MAX_BODY_BYTES = 1024 * 1024;
  public static final int MAX_BATCH = 1000;

  private final Ingest ingest;

  private IngestRoutes(Vertx vertx) {
    this.ingest = new Ingest(vertx, "http");
  }

  public static void mount(Router router, Vertx vertx, HttpConfig http) {
    IngestRoutes routes = new IngestRoutes(vertx);
    // vertx-web requires the body handler first on a route; the limit bounds what an unauthenticated client can make us read
    router.post("/api/metrics/app")
      .handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES))
      .handler(new TokenAuth(vertx, "ingest", http.ingestToken(), "PULSE_INGEST_TOKEN"))
      .handler(routes::checkMediaType)
      .handler(routes::ingest)
      .failureHandler(ctx -> {
        if (ctx.statusCode() == 413) {
          routes.ingest.reject("too_large");
        }
        ctx.next();
      });
  }

  private void checkMediaType(RoutingContext ctx) {
    String type = ctx.request().getHeader("Content-Type");
    if (type != null && !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
      ingest.reject("unsupported_media_type");
      Failures.send(ctx, 415, "unsupported_media_type", "send the metrics as application/json, not " + shorten(type));
      return;
    }
    ctx.next();
  }

  private void ingest(RoutingContext ctx) {
    Object body;
    try {
      String text = ctx.body().asString();
      if (text == null || text.isBlank()) {
        throw new InvalidMessageException("$", InvalidMessageException.Reason.MALFORMED, "the body is empty: send an ApplicationMetrics object or an array of them");
      }
      body = Json.decodeValue(text);
    } catch (DecodeException e) {
      ingest.reject("malformed");
      Failures.send(ctx, 400, "malformed", "malformed JSON: " + shorten(String.valueOf(e.getMessage())));
      return;
    } catch (InvalidMessageException e) {
      ingest.reject(e.reason().tag());
      Failures.send(ctx, 400, e.reason().tag(), e.getMessage());
      return;
    }
    if (body instanceof JsonArray batch) {
      ingestBatch(ctx, batch);
      return;
    }
    try {
      ingest.publish(body);
      reply(ctx, 202, 1, new JsonArray());
    } catch (InvalidMessageException e) {
      ctx.response().setStatusCode(400).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", e.reason().tag()).put("message", e.getMessage()).put("field", e.field()).encode());
    }
  }

  private void ingestBatch(RoutingContext ctx, JsonArray batch) {
    if (batch.isEmpty() || batch.size() > MAX_BATCH) {
      ingest.reject("out_of_range");
      Failures.send(ctx, 400, "out_of_range", "a batch must have 1 to " + MAX_BATCH + " items, got " + batch.size());
      return;
    }
    JsonArray rejected = new JsonArray();
    int accepted = 0;
    for (int i = 0; i < batch.size(); i++) {
      try {
        ingest.publish(batch.getValue(i));
        accepted++;
      } catch (InvalidMessageException e) {
        rejected.add(new JsonObject().put("index", i).put("field", e.field()).put("error", e.reason().tag()).put("message", e.getMessage()));
      }
    }
    reply(ctx, rejected.isEmpty() ? 202 : accepted == 0 ? 400 : 207, accepted, rejected);
  }

  private static void reply(RoutingContext ctx, int status, int accepted, JsonArray rejected) {
    JsonObject body = new JsonObject().put("accepted", accepted).put("rejected", rejected);
    if (status == 400) {
      body = new JsonObject().put("error", "no_valid_item").put("message", "no item of the batch was valid").mergeIn(body);
    }
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }

  private static String shorten(String s) {
    int cut = s.indexOf('\n');
    String line = cut < 0 ? s : s.substring(0, cut);
    return line.length() > 200 ? line.substring(0, 200) + "…" : line;
  }

}
