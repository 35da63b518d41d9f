package com.chatroom.pulse.http;

import com.chatroom.pulse.alerts.AlertRoutes;
import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.chat.ChatEndpoint;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.history.HistoryRoutes;
import com.chatroom.pulse.history.HistoryVerticle;
import com.chatroom.pulse.ingest.IngestRoutes;
import com.chatroom.pulse.metrics.Meters;
import com.chatroom.pulse.optimizer.OptimizerRoutes;
import com.chatroom.pulse.stream.StreamFanout;
import com.chatroom.pulse.stream.Streams;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;

import java.util.concurrent.TimeUnit;

/**
 * The edge: deployed once per event loop, all instances sharing one server on {@code http.port}. Each instance owns
 * the connections it accepts, including their WebSockets, so every write to a socket happens on that socket's own
 * event loop. Routes: {@code /} (the dashboard), {@code /api/*} (alerts: see {@link AlertRoutes}; the optimizer: see
 * {@link OptimizerRoutes}), {@code /metrics},
 * {@code /metrics/stream}, {@code /chat}, {@code /health/*}, {@code /webjars/*} (uPlot for the dashboard), and the
 * optional dashboard login ({@link DashboardAuth}). The chat gateway follows the stream's pattern: a per-instance
 * {@link ChatEndpoint} owns the chat sockets accepted here, while the node-wide room state lives in the single
 * {@code ChatRoomsVerticle}.
 */
public final class HttpVerticle extends VerticleBase {

  private static final String WEBJARS = "META-INF/resources/webjars";
  private static final long WEBJAR_MAX_AGE_SECONDS = 7 * 86400;
  /** The page's own files change with each release of the JAR under unversioned names: revalidate soon. */
  private static final long PAGE_MAX_AGE_SECONDS = 60;
  /**
   * The dashboard renders server data as text only; this policy is the second line: no inline or foreign script,
   * no plugins, no framing, and connections (fetch, the stream's WebSocket) to this origin only.
   */
  private static final String PAGE_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

  /** How long a shutting-down edge waits for its connections to close (WebSockets answer 1001 in milliseconds). */
  static final long DRAIN_TIMEOUT_SECONDS = 10;

  private final PulseConfig config;
  private StreamFanout stream;
  private ChatEndpoint chat;
  private HttpServer server;

  /** The scrape in flight on a worker, shared by the requests that arrive meanwhile; touched on this event loop only. */
  /** One scrape in flight per edge instance (see {@link #scrape}). */
  private final SingleFlight<String> scraping = new SingleFlight<>();
  private UpgradeGate gate;

  public HttpVerticle(PulseConfig config) {
    this.config = config;
  }

  @Override
  public Future<?> start() {
    stream = new StreamFanout(vertx, config);
    chat = new ChatEndpoint(vertx, config);
    Router router = Router.router(vertx);
    router.get("/health/live").handler(ctx -> json(ctx, 200, new JsonObject().put("status", "UP")));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(readiness()));
    router.get("/metrics").handler(this::scrape);
    gate = new UpgradeGate(vertx, Meters.registry(vertx), config.http().upgradeRate(), config.http().upgradeBurst(),
      config.http().upgradeQueue());
    // draining is checked again after the gate: an upgrade may have waited there while the node began to drain.
    // /chat has its own identity check (JWT or anonymous nickname): the chat service's users never hold the
    // operators' dashboard token, and their "Authorization: Bearer" carries a JWT
    router.get("/chat").handler(this::refuseWhileDraining).handler(gate::handle).handler(this::refuseWhileDraining)
      .handler(chat::handle);
    // probes, /metrics and /chat above stay open to it; with a dashboard token, every GET below needs it
    DashboardAuth.mount(router, vertx, config.http().dashboardToken(), config.http().adminToken());
    router.get("/metrics/stream").handler(this::refuseWhileDraining).handler(gate::handle).handler(this::refuseWhileDraining)
      .handler(stream::handle);
    IngestRoutes.mount(router, vertx, config.http());
    router.get("/api/metrics/current").handler(this::currentMetrics);
    HistoryRoutes.mount(router, vertx, config);
    AlertRoutes.mount(router, vertx, config);
    OptimizerRoutes.mount(router, vertx, config);
    router.route("/api/*").handler(ctx -> ctx.fail(404));
    // uPlot's WebJar lays its files out under META-INF/resources/webjars/uplot/<version>/dist/: versioned paths, cached long
    router.get("/webjars/*").handler(StaticHandler.create(WEBJARS).setMaxAgeSeconds(WEBJAR_MAX_AGE_SECONDS));
    router.route().method(io.vertx.core.http.HttpMethod.GET).handler(HttpVerticle::pageHeaders)
      .handler(StaticHandler.create("webroot").setMaxAgeSeconds(PAGE_MAX_AGE_SECONDS));
    router.route().failureHandler(Failures::handle);
    router.errorHandler(404, Failures::handle);
    router.errorHandler(405, Failures::handle);

    // strict thread mode: every request and socket of a connection is served on its own event loop here, so Vert.x
    // can write directly instead of through a per-connection MPSC queue (~4.7 KB per idle WebSocket, see BENCHMARKS.md)
    HttpServerOptions options = new HttpServerOptions()
      // no permessage-deflate: browsers always offer it, and it would compress every shared frame once per subscriber
      // (measured at 10,000 subscribers: 55.6 µs instead of 11.5 µs of CPU per delivery and 1.9 GiB of RSS)
      .setPerMessageWebSocketCompressionSupported(false)
      .setPerFrameWebSocketCompressionSupported(false)
      .setStrictThreadMode(true)
      .setMaxWebSocketFrameSize(config.http().maxFrameBytes())
      .setMaxWebSocketMessageSize(config.http().maxFrameBytes());
    return Future.all(stream.start(), chat.start(), LoadShedding.follow(vertx, config.instanceId()))
      .compose(v -> vertx.createHttpServer(options).requestHandler(router).invalidRequestHandler(Failures::invalidRequest)
        .listen(config.http().port(), config.http().host()))
      .onSuccess(s -> {
        server = s;
        NodeStatus.of(vertx).httpPort(s.actualPort());
      });
  }

  /**
   * Shutdown, in the order a load balancer needs: not ready and no new upgrades (the node's drain set that before
   * undeploying the edge; a plain undeploy, as tests do, leaves it alone so a redeployed edge serves), then
   * {@link HttpServer#shutdown}: the listening socket is closed once the
   * last edge instance gets here, every connection is told to shut down, and each WebSocket's shutdown handler (set
   * by the stream and chat endpoints) closes it with 1001 and a reason that says to reconnect. Connections still open
   * after {@link #DRAIN_TIMEOUT_SECONDS} are closed; then the endpoints release their timers and consumers.
   */
  @Override
  public Future<?> stop() {
    Future<Void> shutdown = server == null ? Future.succeededFuture() : server.shutdown(DRAIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    return shutdown.transform(v -> {
      gate.close();
      return Future.join(stream.close(), chat.close());
    });
  }

  /** While the node drains, a new WebSocket would only be closed again at once: send the client elsewhere now. */
  private void refuseWhileDraining(RoutingContext ctx) {
    if (NodeStatus.of(vertx).draining()) {
      ctx.response().putHeader("Retry-After", "1");
      Failures.send(ctx, 503, "draining", "this node is shutting down: reconnect (another node will answer)");
    } else {
      ctx.next();
    }
  }

  private HealthChecks readiness() {
    HealthChecks checks = HealthChecks.create(vertx);
    checks.register("draining", promise -> promise.complete(NodeStatus.of(vertx).draining()
      ? Status.KO(new JsonObject().put("reason", "draining: this node is shutting down").put("draining", true))
      : Status.OK(new JsonObject().put("draining", false))));
    checks.register("deployment", promise -> promise.complete(NodeStatus.of(vertx).deployed()
      ? Status.OK() : Status.KO(new JsonObject().put("reason", "verticles still deploying"))));
    checks.register("warmup", promise -> promise.complete(warmUpStatus()));
    checks.register("sampler", promise -> promise.complete(samplerStatus()));
    checks.register("load", promise -> promise.complete(loadStatus()));
    if (vertx.isClustered()) {
      checks.register("cluster", promise -> promise.complete(clusterStatus()));
    }
    // history is "degraded", not "down", while Redis is away: writes are buffered and the node keeps serving. Its
    // answer may come after the health-check framework's own timeout (1 s) has already failed the procedure, on a
    // loop busy enough (seen in a reconnect storm): then there is nothing left to complete
    checks.register("history", promise -> HistoryVerticle.health(vertx, 800)
      .onSuccess(h -> promise.tryComplete(Status.OK(h)))
      .onFailure(e -> promise.tryComplete(Status.KO(new JsonObject().put("reason", "history not answering: " + e.getMessage())))));
    return checks;
  }

  /** Not ready while the optimizer sheds load here: a Service sends new connections to the other pods. */
  private Status loadStatus() {
    NodeStatus.Shedding shedding = NodeStatus.of(vertx).shedding();
    if (shedding == null) {
      return Status.OK(new JsonObject().put("shedding", false));
    }
    return Status.KO(new JsonObject().put("reason", "shedding load: " + shedding.reason()).put("shedding", true)
      .put("rule", shedding.rule()).put("cap", shedding.cap()).put("since", shedding.since()));
  }

  /** The cluster as this node sees it: a node that lost its peers is still ready to serve its own clients. */
  private Status clusterStatus() {
    var manager = ((io.vertx.core.internal.VertxInternal) vertx).clusterManager();
    return Status.OK(new JsonObject().put("node_id", manager.getNodeId()).put("nodes", manager.getNodes().size()));
  }

  /** Not ready while the handshake paths warm up (a few seconds at start-up): a storm would meet them cold. */
  private Status warmUpStatus() {
    HandshakeWarmUp.Result w = NodeStatus.of(vertx).warmUp();
    if (w == null) {
      return Status.OK(new JsonObject().put("state", "none"));
    }
    JsonObject data = new JsonObject().put("state", w.state()).put("connects", w.done()).put("of", w.target())
      .put("failed", w.failed()).put("ms", w.millis());
    return w.running() ? Status.KO(data.put("reason", "warming up the WebSocket handshake paths")) : Status.OK(data);
  }

  private Status samplerStatus() {
    if (!config.sampler().enabled()) {
      return Status.OK(new JsonObject().put("enabled", false));
    }
    SystemMetrics latest = (SystemMetrics) stream.latestRecord(Streams.SYSTEM, config.instanceId());
    if (latest == null) {
      return Status.KO(new JsonObject().put("reason", "no sample yet"));
    }
    double age = System.currentTimeMillis() / 1000d - latest.timestamp();
    double limit = Math.max(5, 5 * config.sampler().intervalMs() / 1000d);
    JsonObject data = new JsonObject().put("last_sample_age_seconds", Math.round(age * 1000) / 1000d).put("seq", latest.seq());
    return age <= limit ? Status.OK(data) : Status.KO(data.put("reason", "sampler stalled: no sample for " + limit + " s"));
  }

  /**
   * Prometheus text of every meter, rendered on a worker: a scrape takes 10-60 ms of CPU here (all of Vert.x's and
   * the JVM's meters), which on the event loop would hold up the stream's and the chat rooms' fan-outs that long.
   * At most one scrape per edge instance is in flight: requests that arrive meanwhile get its result, so a flood of
   * GET /metrics (the route is open) cannot fill the worker pool the sampler also runs on.
   */
  private void scrape(RoutingContext ctx) {
    var registry = Meters.registry(vertx);
    scraping.run(() -> vertx.executeBlocking(registry::scrape, false)).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
        return;
      }
      ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(ar.result());
    });
  }

  private void currentMetrics(RoutingContext ctx) {
    String instance = ctx.queryParams().get("instance");
    if (instance == null) {
      instance = config.instanceId();
    } else if (instance.isEmpty() || instance.length() > 253) {
      Failures.send(ctx, 400, "bad_request", "parameter 'instance' must be 1 to 253 characters");
      return;
    }
    Object latest = stream.latestRecord(Streams.SYSTEM, instance);
    if (latest instanceof SystemMetrics sample) {
      json(ctx, 200, sample.toJson());
    } else if (instance.equals(config.instanceId()) && config.sampler().enabled()) {
      Failures.send(ctx, 503, "unavailable", "no sample yet: the first one is taken " + config.sampler().intervalMs() + " ms after start");
    } else {
      Failures.send(ctx, 404, "not_found", "no recent sample from instance '" + instance + "'");
    }
  }

  private static void pageHeaders(RoutingContext ctx) {
    ctx.response().putHeader("Content-Security-Policy", PAGE_POLICY).putHeader("X-Content-Type-Options", "nosniff")
      .putHeader("Referrer-Policy", "no-referrer");
    ctx.next();
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }
}
