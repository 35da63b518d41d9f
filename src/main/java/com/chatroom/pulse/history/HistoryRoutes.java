package com.chatroom.pulse.history;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.http.Failures;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * History over HTTP. Parameters are validated here (400 with the parameter named), then the request goes to this
 * node's history verticle over the bus with a short timeout.
 * <ul>
 *   <li>{@code GET /api/metrics/summary?hours=N[&instance=][&kind=system|app]}</li>
 *   <li>{@code GET /api/metrics/history?metric=&from=&to=&step=[&instance=]} (times in epoch seconds)</li>
 *   <li>{@code GET /api/metrics/app/summary}, {@code GET /api/metrics/app/history}: the same for app metrics</li>
 *   <li>{@code GET /api/metrics/instances[?kind=]}</li>
 * </ul>
 */
public final class HistoryRoutes {

  private final Vertx vertx;
  private final PulseConfig config;
  private final DeliveryOptions delivery;

  private HistoryRoutes(Vertx vertx, PulseConfig config) {
    this.vertx = vertx;
    this.config = config;
    this.delivery = new DeliveryOptions().setSendTimeout(config.history().queryTimeoutMs()).setLocalOnly(true);
  }

  public static void mount(Router router, Vertx vertx, PulseConfig config) {
    HistoryRoutes routes = new HistoryRoutes(vertx, config);
    router.get("/api/metrics/summary").handler(ctx -> routes.summary(ctx, null));
    router.get("/api/metrics/app/summary").handler(ctx -> routes.summary(ctx, Kind.APP));
    router.get("/api/metrics/history").handler(ctx -> routes.range(ctx, null));
    router.get("/api/metrics/app/history").handler(ctx -> routes.range(ctx, Kind.APP));
    router.get("/api/metrics/instances").handler(routes::instances);
  }

  private void summary(RoutingContext ctx, Kind fixed) {
    try {
      MultiMap q = ctx.queryParams();
      Kind kind = fixed != null ? fixed : kind(q.get("kind"));
      double maxHours = config.history().hourRetentionDays() * 24d;
      double hours = number(q, "hours", 1, 1d / 60, maxHours);
      ask(ctx, new JsonObject().put("op", "summary").put("kind", kind.wireName()).put("instance", instance(q))
        .put("hours", hours), true);
    } catch (IllegalArgumentException e) {
      Failures.send(ctx, 400, "bad_request", e.getMessage());
    }
  }

  private void range(RoutingContext ctx, Kind fixed) {
    try {
      MultiMap q = ctx.queryParams();
      String metric = q.get("metric");
      if (metric == null || metric.isEmpty()) {
        throw new IllegalArgumentException("parameter 'metric' is missing (one of " + Kind.SYSTEM.metricNames()
          + " or " + Kind.APP.metricNames() + ")");
      }
      Kind kind = fixed != null ? fixed : Kind.ofMetric(metric);
      if (kind == null || !kind.metricNames().contains(metric)) {
        throw new IllegalArgumentException("parameter 'metric': unknown metric '" + shorten(metric) + "' (one of "
          + (fixed != null ? fixed.metricNames() : Kind.SYSTEM.metricNames() + " or " + Kind.APP.metricNames()) + ")");
      }
      double now = System.currentTimeMillis() / 1000d;
      double to = number(q, "to", now, 0, now + 86400);
      double from = number(q, "from", to - 3600, 0, to);
      if (from >= to) {
        throw new IllegalArgumentException("parameter 'from' must be before 'to'");
      }
      if (to - from > config.history().hourRetentionSeconds()) {
        throw new IllegalArgumentException("the range 'from'..'to' may span at most " + config.history().hourRetentionDays() + " days");
      }
      long defaultStep = Math.max(1, (long) Math.ceil((to - from) / 300));
      long step = (long) number(q, "step", defaultStep, 1, config.history().hourRetentionSeconds());
      if ((to - from) / step > HistoryQueries.MAX_POINTS) {
        throw new IllegalArgumentException("parameter 'step' too small: at most " + HistoryQueries.MAX_POINTS
          + " points per query (step ≥ " + (long) Math.ceil((to - from) / HistoryQueries.MAX_POINTS) + " for this range)");
      }
      ask(ctx, new JsonObject().put("op", "range").put("kind", kind.wireName()).put("instance", instance(q))
        .put("metric", metric).put("from", from).put("to", to).put("step", step), false);
    } catch (IllegalArgumentException e) {
      Failures.send(ctx, 400, "bad_request", e.getMessage());
    }
  }

  private void instances(RoutingContext ctx) {
    try {
      ask(ctx, new JsonObject().put("op", "instances").put("kind", kind(ctx.queryParams().get("kind")).wireName()), false);
    } catch (IllegalArgumentException e) {
      Failures.send(ctx, 400, "bad_request", e.getMessage());
    }
  }

  private void ask(RoutingContext ctx, JsonObject request, boolean emptyIsNotFound) {
    vertx.eventBus().<JsonObject>request(Addresses.HISTORY_QUERY, request, delivery).onComplete(ar -> {
      if (ar.succeeded()) {
        JsonObject body = ar.result().body();
        if (emptyIsNotFound && body.getLong("sample_count", 1L) == 0) {
          Failures.send(ctx, 404, "not_found", "no " + request.getString("kind") + " samples from instance '"
            + request.getString("instance") + "' in the last " + request.getDouble("hours") + " h");
          return;
        }
        ctx.response().putHeader("Content-Type", "application/json").end(body.encode());
      } else if (ar.cause() instanceof ReplyException re && re.failureCode() == 400) {
        Failures.send(ctx, 400, "bad_request", re.getMessage());
      } else {
        Failures.send(ctx, 503, "unavailable", "history did not answer: " + ar.cause().getMessage());
      }
    });
  }

  private String instance(MultiMap q) {
    String instance = q.get("instance");
    if (instance == null) {
      return config.instanceId();
    }
    if (instance.isEmpty() || instance.length() > 253) {
      throw new IllegalArgumentException("parameter 'instance' must be 1 to 253 characters");
    }
    return instance;
  }

  private static Kind kind(String value) {
    if (value == null) {
      return Kind.SYSTEM;
    }
    Kind kind = Kind.of(value);
    if (kind == null) {
      throw new IllegalArgumentException("parameter 'kind' must be 'system' or 'app', got '" + shorten(value) + "'");
    }
    return kind;
  }

  private static double number(MultiMap q, String name, double fallback, double min, double max) {
    String raw = q.get(name);
    if (raw == null) {
      return fallback;
    }
    double value;
    try {
      value = Double.parseDouble(raw.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("parameter '" + name + "' must be a number, got '" + shorten(raw) + "'");
    }
    if (!Double.isFinite(value) || value < min || value > max) {
      throw new IllegalArgumentException("parameter '" + name + "' must be between " + min + " and " + max + ", got " + shorten(raw));
    }
    return value;
  }

  private static String shorten(String value) {
    return value.length() > 64 ? value.substring(0, 64) + "…" : value;
  }
}
