package com.chatroom.pulse.http;

import io.vertx.core.http.HttpServerRequest;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Who may open a WebSocket from a browser. Browsers always send {@code Origin} on a WebSocket handshake, so a
 * handshake whose Origin is neither this server's own nor on the allow-list is a cross-site page trying to read
 * the stream with the user's network position: refuse it. Clients without an Origin are not browsers and are
 * subject to the endpoint's own authentication instead.
 */
public final class OriginPolicy {

  private final Set<String> allowed;

  public OriginPolicy(List<String> allowedOrigins) {
    this.allowed = allowedOrigins.stream().map(OriginPolicy::normalize).collect(Collectors.toUnmodifiableSet());
  }

  /** @return null if allowed, else the reason to give */
  public String check(HttpServerRequest request) {
    String origin = request.getHeader("Origin");
    if (origin == null) {
      return null;
    }
    String normalized = normalize(origin);
    if (allowed.contains("*") || allowed.contains(normalized)) {
      return null;
    }
    String host = request.authority() == null ? null : request.authority().toString().toLowerCase(Locale.ROOT);
    if (host != null && sameHost(normalized, host)) {
      return null;
    }
    return "origin '" + truncate(origin) + "' is not allowed (same origin only, or stream.allowed_origins)";
  }

  private static boolean sameHost(String origin, String authority) {
    try {
      URI uri = URI.create(origin);
      if (uri.getHost() == null) {
        return false;
      }
      String originHost = uri.getPort() == -1 ? uri.getHost() + defaultPort(uri.getScheme()) : uri.getHost() + ":" + uri.getPort();
      String requestHost = authority.contains(":") && !authority.endsWith("]") ? authority : authority + defaultPort(uri.getScheme());
      return originHost.equalsIgnoreCase(requestHost);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static String defaultPort(String scheme) {
    return "https".equalsIgnoreCase(scheme) ? ":443" : ":80";
  }

  private static String normalize(String origin) {
    String o = origin.trim().toLowerCase(Locale.ROOT);
    return o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
  }

  private static String truncate(String value) {
    return value.length() > 100 ? value.substring(0, 100) + "…" : value;
  }
}
