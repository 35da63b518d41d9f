package com.chatroom.pulse.http;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.config.PulseConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The optional dashboard token over real HTTP: what is guarded, what stays open, and the login cookie. */
@ExtendWith(VertxExtension.class)
@DisplayName("The dashboard token")
class DashboardAuthTest {

  private static final String TOKEN = "dashboard-token-0123456789";
  private static final String ADMIN = "admin-token-0123456789ab";
  private static final String JWT_SECRET = "chat-jwt-secret-for-the-dashboard-test-0123456789";
  private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

  private int deploy(Vertx vertx, String dashboardToken) throws Exception {
    PulseConfig config = Edge.deploy(vertx, new JsonObject().put("http", new JsonObject()
        .put("dashboard_token", dashboardToken).put("admin_token", ADMIN))
        .put("chat", new JsonObject().put("allow_anonymous", true).put("jwt_secret", JWT_SECRET)))
      .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    return config.http().port();
  }

  private HttpResponse<String> send(int port, String method, String path, String header, String value, String form) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
      .method(method, form == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(form));
    if (header != null) {
      request.header(header, value);
    }
    if (form != null) {
      request.header("Content-Type", "application/x-www-form-urlencoded");
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(int port, String path, String header, String value) throws Exception {
    return send(port, "GET", path, header, value, null);
  }

  @Test
  @DisplayName("unset, the page, the stream and the read API stay open as before")
  void unsetLeavesEverythingOpen(Vertx vertx) throws Exception {
    int port = deploy(vertx, "");
    assertThat(get(port, "/", null, null).statusCode()).isEqualTo(200);
    assertThat(get(port, "/api/metrics/instances", null, null).statusCode()).isEqualTo(200);
    assertThat(send(port, "POST", "/login", null, null, "token=x").statusCode()).as("no login route").isIn(404, 405);
  }

  @Test
  @DisplayName("set, the page redirects to the login form, the API and the stream answer 401, probes and /metrics stay open")
  void setGuardsReads(Vertx vertx) throws Exception {
    int port = deploy(vertx, TOKEN);
    HttpResponse<String> page = get(port, "/", null, null);
    assertThat(page.statusCode()).isEqualTo(302);
    assertThat(page.headers().firstValue("Location")).hasValue("/login.html");
    assertThat(get(port, "/login.html", null, null).statusCode()).isEqualTo(200);
    assertThat(get(port, "/login.js", null, null).statusCode()).isEqualTo(200);
    assertThat(get(port, "/js/main.js", null, null).statusCode()).isEqualTo(401);
    HttpResponse<String> api = get(port, "/api/metrics/instances", null, null);
    assertThat(api.statusCode()).isEqualTo(401);
    assertThat(new JsonObject(api.body()).getString("error")).isEqualTo("unauthorized");
    assertThat(get(port, "/api/metrics/instances", "Authorization", "Bearer wrong-token-000000000").statusCode()).isEqualTo(401);
    assertThat(get(port, "/api/metrics/instances", "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(200);
    assertThat(get(port, "/api/metrics/instances", "Authorization", "Bearer " + ADMIN).statusCode()).as("admin implies dashboard").isEqualTo(200);
    assertThat(get(port, "/health/live", null, null).statusCode()).isEqualTo(200);
    assertThat(get(port, "/metrics", null, null).statusCode()).isEqualTo(200);

    URI stream = URI.create("ws://127.0.0.1:" + port + "/metrics/stream");
    assertThatThrownBy(() -> http.newWebSocketBuilder().buildAsync(stream, new WebSocket.Listener() { }).join())
      .isInstanceOf(CompletionException.class).cause().isInstanceOfSatisfying(WebSocketHandshakeException.class,
        e -> assertThat(e.getResponse().statusCode()).isEqualTo(401));
    WebSocket ws = http.newWebSocketBuilder().header("Authorization", "Bearer " + TOKEN)
      .buildAsync(stream, new WebSocket.Listener() { }).get(10, TimeUnit.SECONDS);
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("set, /chat keeps its own identity check: chat users connect with their JWT (a Bearer that is not the dashboard token) or a nickname, without the dashboard token")
  void chatIsNotBehindTheDashboardToken(Vertx vertx) throws Exception {
    int port = deploy(vertx, TOKEN);
    String jwt = io.vertx.ext.auth.jwt.JWTAuth.create(vertx, new io.vertx.ext.auth.jwt.JWTAuthOptions().addPubSecKey(
        new io.vertx.ext.auth.PubSecKeyOptions().setAlgorithm("HS256").setBuffer(JWT_SECRET)))
      .generateToken(new JsonObject().put("sub", "carol").put("name", "Carol"), new io.vertx.ext.auth.JWTOptions().setExpiresInSeconds(600));
    for (String[] client : new String[][] {{"/chat", "Bearer " + jwt, "Carol"}, {"/chat?nickname=dave", null, "dave"}}) {
      java.util.concurrent.CompletableFuture<String> hello = new java.util.concurrent.CompletableFuture<>();
      WebSocket.Builder builder = http.newWebSocketBuilder();
      if (client[1] != null) {
        builder.header("Authorization", client[1]);
      }
      WebSocket ws = builder.buildAsync(URI.create("ws://127.0.0.1:" + port + client[0]), new WebSocket.Listener() {
        @Override
        public java.util.concurrent.CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
          hello.complete(data.toString());
          return null;
        }
      }).get(10, TimeUnit.SECONDS);
      JsonObject frame = new JsonObject(hello.get(10, TimeUnit.SECONDS));
      assertThat(frame.getString("type")).isEqualTo("hello");
      assertThat(frame.getJsonObject("user").getString("name")).isEqualTo(client[2]);
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
    }
    // a wrong JWT is still refused, by the chat's own check
    assertThatThrownBy(() -> http.newWebSocketBuilder().header("Authorization", "Bearer not-a-jwt")
      .buildAsync(URI.create("ws://127.0.0.1:" + port + "/chat"), new WebSocket.Listener() { }).join())
      .isInstanceOf(CompletionException.class).cause().isInstanceOfSatisfying(WebSocketHandshakeException.class,
        e -> assertThat(e.getResponse().statusCode()).isEqualTo(401));
  }

  @Test
  @DisplayName("the login form sets an HTTP-only, same-site cookie (an HMAC, not the token) that opens the page and the stream")
  void loginCookie(Vertx vertx) throws Exception {
    int port = deploy(vertx, TOKEN);
    HttpResponse<String> wrong = send(port, "POST", "/login", null, null, "token=not-the-token");
    assertThat(wrong.statusCode()).isEqualTo(303);
    assertThat(wrong.headers().firstValue("Location")).hasValue("/login.html?failed=1");
    assertThat(wrong.headers().firstValue("Set-Cookie")).isEmpty();

    HttpResponse<String> login = send(port, "POST", "/login", null, null, "token=" + TOKEN);
    assertThat(login.statusCode()).isEqualTo(303);
    assertThat(login.headers().firstValue("Location")).hasValue("/");
    String setCookie = login.headers().firstValue("Set-Cookie").orElseThrow();
    assertThat(setCookie.toLowerCase(java.util.Locale.ROOT)).contains("pulse_dashboard=", "httponly", "samesite=strict", "path=/");
    assertThat(setCookie).doesNotContain(TOKEN);
    String cookie = setCookie.substring(0, setCookie.indexOf(';'));

    assertThat(get(port, "/", "Cookie", cookie).statusCode()).isEqualTo(200);
    assertThat(get(port, "/api/metrics/instances", "Cookie", cookie).statusCode()).isEqualTo(200);
    assertThat(get(port, "/api/metrics/instances", "Cookie", "pulse_dashboard=" + TOKEN).statusCode()).isEqualTo(401);
    WebSocket ws = http.newWebSocketBuilder().header("Cookie", cookie)
      .buildAsync(URI.create("ws://127.0.0.1:" + port + "/metrics/stream"), new WebSocket.Listener() { })
      .get(10, TimeUnit.SECONDS);
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);

    HttpResponse<String> logout = send(port, "POST", "/logout", "Cookie", cookie, "");
    assertThat(logout.headers().firstValue("Set-Cookie").orElseThrow()).contains("Max-Age=0");
  }
}
