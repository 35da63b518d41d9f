package com.chatroom.pulse.chat;

import com.chatroom.pulse.bus.ChatPresence.Member;
import com.chatroom.pulse.config.ChatConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Who is connecting. A JWT ({@code ?token=} — browsers cannot set headers on a WebSocket — or
 * {@code Authorization: Bearer}) verified with the configured HS256 secret or public key: {@code sub} is the user id,
 * {@code name} (or {@code preferred_username}) the display name, and a {@code roles} array containing
 * {@code chat.admin_role} grants the ops room. Expiry is checked (30 s leeway), and issuer/audience when configured.
 * Without a token, and only when {@code chat.allow_anonymous} is true, {@code ?nickname=} gives an anonymous identity:
 * a random id per connection, or, with {@code &session=<secret the client keeps>}, an id derived from that secret (its
 * SHA-256, never the secret itself, so the id others see in presence does not let them take it over). The same
 * session is the same user across reconnects, which is what makes a resent message id a duplicate after a lost ack —
 * a server crash included — instead of a second delivery.
 */
final class ChatIdentity {

  /** An authenticated connection's identity. */
  record Identity(Member member, boolean admin) {
  }

  /** A handshake refused before the upgrade, with its HTTP status. */
  static final class Refusal extends RuntimeException {
    final int status;
    final String code;

    Refusal(int status, String code, String message) {
      super(message, null, false, false);
      this.status = status;
      this.code = code;
    }
  }

  private static final String NICKNAME = "[\\p{L}\\p{N} ._-]{1,32}";
  private static final String SESSION = "[A-Za-z0-9_-]{16,128}";
  private final ChatConfig config;
  private final JWTAuth jwt;
  private final SecureRandom random = new SecureRandom();

  ChatIdentity(Vertx vertx, ChatConfig config) {
    this.config = config;
    JWTAuthOptions options = new JWTAuthOptions();
    if (!config.jwtSecret().isEmpty()) {
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(config.jwtSecret()));
    }
    if (!config.jwtPublicKey().isEmpty()) {
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm(config.jwtAlgorithm()).setBuffer(config.jwtPublicKey()));
    }
    JWTOptions checks = new JWTOptions().setLeeway(30);
    if (!config.jwtIssuer().isEmpty()) {
      checks.setIssuer(config.jwtIssuer());
    }
    if (!config.jwtAudience().isEmpty()) {
      checks.addAudience(config.jwtAudience());
    }
    options.setJWTOptions(checks);
    this.jwt = config.jwtSecret().isEmpty() && config.jwtPublicKey().isEmpty() ? null : JWTAuth.create(vertx, options);
  }

  Future<Identity> authenticate(HttpServerRequest request) {
    String token = request.getParam("token");
    String header = request.getHeader("Authorization");
    if (token == null && header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      token = header.substring(7).trim();
    }
    if (token != null) {
      if (jwt == null) {
        return Future.failedFuture(new Refusal(401, "invalid_token", "this server does not accept tokens (no chat.jwt_secret or chat.jwt_public_key)"));
      }
      if (token.length() > 8192) {
        return Future.failedFuture(new Refusal(401, "invalid_token", "token longer than 8192 characters"));
      }
      return jwt.authenticate(new TokenCredentials(token))
        .recover(e -> Future.failedFuture(new Refusal(401, "invalid_token", "token refused: " + e.getMessage())))
        .compose(user -> identity(user.principal()));
    }
    if (!config.allowAnonymous()) {
      return Future.failedFuture(new Refusal(401, "token_required",
        "connect with ?token=<JWT> (or Authorization: Bearer); anonymous chat is off (chat.allow_anonymous)"));
    }
    String nickname = request.getParam("nickname");
    if (nickname == null || !nickname.matches(NICKNAME)) {
      return Future.failedFuture(new Refusal(400, "bad_nickname",
        "parameter 'nickname' must be 1 to 32 letters, digits, spaces, '.', '_' or '-'"));
    }
    String session = request.getParam("session");
    if (session != null && !session.matches(SESSION)) {
      return Future.failedFuture(new Refusal(400, "bad_session",
        "parameter 'session' must be 16 to 128 letters, digits, '_' or '-' (a random secret the client keeps)"));
    }
    byte[] suffix = new byte[6];
    if (session == null) {
      random.nextBytes(suffix);
    } else {
      suffix = Arrays.copyOf(sha256(session), suffix.length);
    }
    return Future.succeededFuture(new Identity(new Member("anon:" + HexFormat.of().formatHex(suffix), nickname.trim()), false));
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  private Future<Identity> identity(JsonObject claims) {
    Object sub = claims.getValue("sub");
    if (!(sub instanceof String id) || id.isEmpty() || id.length() > 128) {
      return Future.failedFuture(new Refusal(401, "invalid_token", "claim 'sub' must be a string of 1 to 128 characters"));
    }
    Object rawName = claims.getValue("name", claims.getValue("preferred_username", id));
    String name = rawName instanceof String s && !s.isBlank() ? (s.length() > 64 ? s.substring(0, 64) : s) : id;
    boolean admin = claims.getValue("roles") instanceof JsonArray roles && roles.contains(config.adminRole());
    return Future.succeededFuture(new Identity(new Member(id, name), admin));
  }
}
