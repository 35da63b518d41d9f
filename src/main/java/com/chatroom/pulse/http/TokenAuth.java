package com.chatroom.pulse.http;

import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Guards a group of routes with a static bearer token ({@code Authorization: Bearer <token>}). An unset token
 * closes the group (403): admin and ingest routes are off until an operator sets one. Comparison is constant-time,
 * and neither the expected nor the presented token is ever logged.
 */
public final class TokenAuth implements Handler<RoutingContext> {

  private final String group;
  private final byte[] expected;
  private final String envVar;
  private final Counter missing;
  private final Counter wrong;
  private final Counter disabled;

  /**
   * @param group  name of the route group, for errors and the refusal counter ({@code admin}, {@code ingest})
   * @param token  the configured token; empty closes the group
   * @param envVar the environment variable that sets it, named in the error so an operator knows what to do
   */
  public TokenAuth(Vertx vertx, String group, String token, String envVar) {
    this.group = group;
    this.expected = token.getBytes(StandardCharsets.UTF_8);
    this.envVar = envVar;
    MeterRegistry registry = Meters.registry(vertx);
    this.missing = refusals(registry, group, "missing");
    this.wrong = refusals(registry, group, "wrong");
    this.disabled = refusals(registry, group, "disabled");
  }

  private static Counter refusals(MeterRegistry registry, String group, String reason) {
    return Counter.builder(MeterNames.HTTP_AUTH_REFUSED).description("Requests refused by token checks, per route group and reason")
      .tags("group", group, "reason", reason).register(registry);
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (expected.length == 0) {
      disabled.increment();
      Failures.send(ctx, 403, "forbidden", "the " + group + " API is disabled: set " + envVar + " to enable it");
      return;
    }
    String header = ctx.request().getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      missing.increment();
      ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"pulse-" + group + "\"");
      Failures.send(ctx, 401, "unauthorized", "this route needs 'Authorization: Bearer <" + group + " token>'");
      return;
    }
    byte[] presented = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
    if (!MessageDigest.isEqual(presented, expected)) {
      wrong.increment();
      ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"pulse-" + group + "\", error=\"invalid_token\"");
      Failures.send(ctx, 401, "unauthorized", "the " + group + " token is not valid");
      return;
    }
    ctx.next();
  }
}
