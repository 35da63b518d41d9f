package com.chatroom.pulse.http;

import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Vertx;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Set;

/**
 * The optional dashboard token ({@code http.dashboard_token}, {@code PULSE_DASHBOARD_TOKEN}). Unset, nothing changes.
 * Set, every {@code GET} below it in the router — the page, its scripts, {@code /metrics/stream} and the read API —
 * needs one of:
 * <ul>
 *   <li>the session cookie that {@code POST /login} sets from the login form: a browser sends it by itself with
 *       every same-origin request, the WebSocket handshake included, so no token ever sits in a URL;</li>
 *   <li>{@code Authorization: Bearer <dashboard token>} (scripts, wscat), or the admin token, which implies it.</li>
 * </ul>
 * Writes keep their own tokens (admin, ingest); probes and {@code /metrics} stay open for Kubernetes and Prometheus.
 * The cookie holds an HMAC of the token, not the token: changing the token logs every browser out.
 */
public final class DashboardAuth {

  static final String COOKIE = "pulse_dashboard";
  static final String LOGIN_PAGE = "/login.html";
  private static final int MAX_FORM_BYTES = 4096;
  private static final long SESSION_SECONDS = 12 * 3600;
  /** The login page, its script and the style sheet must load without the token. */
  private static final Set<String> OPEN_PREFIXES = Set.of("/login.html", "/login.js", "/css/");

  private final byte[] token;
  private final byte[] admin;
  private final byte[] session;
  private final Counter refused;
  private final Counter loginsFailed;

  private DashboardAuth(Vertx vertx, String token, String adminToken) {
    this.token = token.getBytes(StandardCharsets.UTF_8);
    this.admin = adminToken.getBytes(StandardCharsets.UTF_8);
    this.session = sessionValue(token).getBytes(StandardCharsets.UTF_8);
    this.refused = Counter.builder(MeterNames.HTTP_AUTH_REFUSED).description("Requests refused by token checks, per route group and reason")
      .tags("group", "dashboard", "reason", "missing").register(Meters.registry(vertx));
    this.loginsFailed = Counter.builder(MeterNames.HTTP_AUTH_REFUSED).description("Requests refused by token checks, per route group and reason")
      .tags("group", "dashboard", "reason", "wrong").register(Meters.registry(vertx));
  }

  /**
   * Mounts {@code POST /login}, {@code POST /logout} and the guard. Routes registered before this call stay open;
   * with no dashboard token configured nothing is mounted.
   */
  public static void mount(Router router, Vertx vertx, String dashboardToken, String adminToken) {
    if (dashboardToken.isEmpty()) {
      return;
    }
    DashboardAuth auth = new DashboardAuth(vertx, dashboardToken, adminToken);
    router.post("/login").handler(BodyHandler.create(false).setBodyLimit(MAX_FORM_BYTES)).handler(auth::login);
    router.post("/logout").handler(auth::logout);
    router.route().handler(auth::guard);
  }

  private void guard(RoutingContext ctx) {
    HttpMethod method = ctx.request().method();
    String path = ctx.normalizedPath();
    if (method != HttpMethod.GET && method != HttpMethod.HEAD || OPEN_PREFIXES.stream().anyMatch(path::startsWith)
      || authorized(ctx)) {
      ctx.next();
      return;
    }
    refused.increment();
    if (path.equals("/") || path.endsWith(".html")) {
      ctx.redirect(LOGIN_PAGE);
      return;
    }
    ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"pulse-dashboard\"");
    Failures.send(ctx, 401, "unauthorized", "the dashboard needs its token: log in at " + LOGIN_PAGE
      + " or send 'Authorization: Bearer <dashboard token>'");
  }

  private boolean authorized(RoutingContext ctx) {
    Cookie cookie = ctx.request().getCookie(COOKIE);
    if (cookie != null && MessageDigest.isEqual(cookie.getValue().getBytes(StandardCharsets.UTF_8), session)) {
      return true;
    }
    String header = ctx.request().getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    byte[] presented = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(presented, token) || admin.length > 0 && MessageDigest.isEqual(presented, admin);
  }

  private void login(RoutingContext ctx) {
    String presented = ctx.request().getFormAttribute("token");
    if (presented == null || !MessageDigest.isEqual(presented.trim().getBytes(StandardCharsets.UTF_8), token)) {
      loginsFailed.increment();
      ctx.response().setStatusCode(303).putHeader("Location", LOGIN_PAGE + "?failed=1").end();
      return;
    }
    ctx.response().addCookie(cookie(new String(session, StandardCharsets.UTF_8), SESSION_SECONDS, secure(ctx)));
    ctx.response().setStatusCode(303).putHeader("Location", "/").end();
  }

  private void logout(RoutingContext ctx) {
    ctx.response().addCookie(cookie("", 0, secure(ctx)));
    ctx.response().setStatusCode(303).putHeader("Location", LOGIN_PAGE).end();
  }

  private static Cookie cookie(String value, long maxAge, boolean secure) {
    return Cookie.cookie(COOKIE, value).setPath("/").setHttpOnly(true).setSameSite(CookieSameSite.STRICT)
      .setMaxAge(maxAge).setSecure(secure);
  }

  /** Behind a TLS proxy (Nginx, the Ingress) the cookie must be Secure; on plain local HTTP it cannot be. */
  private static boolean secure(RoutingContext ctx) {
    return ctx.request().isSSL() || "https".equalsIgnoreCase(ctx.request().getHeader("X-Forwarded-Proto"));
  }

  static String sessionValue(String token) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(token.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal("pulse-dashboard-session-v1".getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JRE", e);
    }
  }
}
