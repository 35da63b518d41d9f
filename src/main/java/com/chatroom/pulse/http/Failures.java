package com.chatroom.pulse.http;

import com.chatroom.pulse.bus.InvalidMessageException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one failure handler: every error becomes a status code and {@code {"error": code, "message": ...}}. */
public final class Failures {

  private static final Logger LOG = LoggerFactory.getLogger(Failures.class);

  private Failures() {
  }

  static void handle(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    int status = ctx.statusCode();
    String code;
    String message;
    if (failure instanceof InvalidMessageException invalid) {
      status = 400;
      code = invalid.reason().tag();
      message = invalid.getMessage();
    } else if (failure instanceof HttpException http) {
      status = http.getStatusCode();
      code = codeFor(status);
      message = http.getPayload() != null ? http.getPayload() : http.getMessage();
    } else if (failure != null) {
      status = 500;
      code = "internal_error";
      message = "internal error";
      LOG.error("Unhandled failure on {} {}", ctx.request().method(), ctx.normalizedPath(), failure);
    } else {
      status = status < 400 ? 500 : status;
      code = codeFor(status);
      message = defaultMessage(status, ctx);
    }
    if (ctx.response().headWritten()) {
      ctx.response().reset();
      return;
    }
    send(ctx, status, code, message);
  }

  /**
   * A request the HTTP decoder could not read (line or headers too long, malformed): the same JSON error as every
   * other refusal instead of an empty response, then the connection is closed since its framing is unknown.
   */
  static void invalidRequest(io.vertx.core.http.HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    int status;
    String code;
    String message;
    if (cause instanceof io.netty.handler.codec.TooLongFrameException && String.valueOf(cause.getMessage()).contains("line")) {
      status = 414;
      code = "uri_too_long";
      message = "request line longer than the server accepts";
    } else if (cause instanceof io.netty.handler.codec.TooLongFrameException) {
      status = 431;
      code = "headers_too_large";
      message = "request headers larger than the server accepts";
    } else {
      status = 400;
      code = "bad_request";
      message = "malformed HTTP request";
    }
    request.response().setStatusCode(status).putHeader("Content-Type", "application/json")
      .putHeader("Connection", "close")
      .end(new JsonObject().put("error", code).put("message", message).encode())
      .onComplete(x -> request.connection().close());
  }

  public static void send(RoutingContext ctx, int status, String code, String message) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
      .end(new JsonObject().put("error", code).put("message", message).encode());
  }

  private static String codeFor(int status) {
    return switch (status) {
      case 400 -> "bad_request";
      case 401 -> "unauthorized";
      case 403 -> "forbidden";
      case 404 -> "not_found";
      case 405 -> "method_not_allowed";
      case 409 -> "conflict";
      case 413 -> "payload_too_large";
      case 415 -> "unsupported_media_type";
      case 429 -> "rate_limited";
      case 503 -> "unavailable";
      default -> status >= 500 ? "internal_error" : "error";
    };
  }

  private static String defaultMessage(int status, RoutingContext ctx) {
    return switch (status) {
      case 404 -> "no resource at " + ctx.normalizedPath();
      case 405 -> "method " + ctx.request().method() + " not allowed on " + ctx.normalizedPath();
      default -> "request failed with status " + status;
    };
  }
}
