package com.chatroom.pulse.http;

import com.chatroom.pulse.config.PulseConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compiles the WebSocket handshake paths before the node reports ready: {@code http.warmup_connections} loopback
 * connects to this node's own edge, alternating {@code /metrics/stream} and {@code /chat} (anonymous; only the stream
 * when this node takes no anonymous chat), {@value #CONCURRENCY} at a time, each closed once its {@code hello} came.
 * <p>
 * Why: a node restarted under a reconnect storm meets thousands of handshakes with every path still interpreted. On
 * one core, the JIT's compiler threads then take ~40 % of the CPU and the clients already connected wait seconds (see
 * RELIABILITY.md, connection storm). 2,000 warm-up connects, a few seconds at start-up, bring that down tenfold.
 * <p>
 * Upgrades from clients that arrive meanwhile warm the same paths and count towards the target: a node met by a storm
 * before it is ready (no load balancer holding the storm back) is ready once that many went through, not later.
 * <p>
 * Never blocks readiness for good: a connect that fails is counted and the next one goes; after
 * {@value #MAX_FAILURES} failures, {@value #DEADLINE_MS} ms or a drain it stops, and the node is ready all the same.
 * The connections are ordinary ones: they go through the upgrade gate and are counted in the edge's metrics.
 */
public final class HandshakeWarmUp {

  private static final Logger LOG = LoggerFactory.getLogger(HandshakeWarmUp.class);
  static final int CONCURRENCY = 10;
  static final int MAX_FAILURES = 50;
  static final long DEADLINE_MS = 60_000;

  /**
   * What the warm-up did so far, for the log and the readiness check.
   *
   * @param state {@code running}, {@code done}, {@code off}, or why it stopped early
   */
  public record Result(int target, int done, int failed, long millis, String state) {

    public boolean running() {
      return RUNNING.equals(state);
    }
  }

  static final String RUNNING = "running";

  private final Vertx vertx;
  private final PulseConfig config;
  private final int target;
  private final boolean chat;
  private final NodeStatus status;
  private WebSocketClient client;
  private final Promise<Result> finished = Promise.promise();
  private long started;
  private int issued;
  private int done;
  private int failed;
  private int inFlight;
  private long deadlineTimer;
  private String firstFailure;

  private HandshakeWarmUp(Vertx vertx, PulseConfig config) {
    this.vertx = vertx;
    this.config = config;
    this.target = config.http().warmupConnections();
    this.chat = config.chat().allowAnonymous();
    this.status = NodeStatus.of(vertx);
  }

  /**
   * Runs the warm-up against this node's edge (its bound port) and records it in {@link NodeStatus}, where readiness
   * sees it running from this call on; call once the edge listens, on the caller's event loop (where the warm-up's
   * own handlers run). Completes when it is over, whatever happened.
   */
  public static Future<Result> run(Vertx vertx, PulseConfig config) {
    NodeStatus status = NodeStatus.of(vertx);
    if (config.http().warmupConnections() == 0) {
      Result skipped = new Result(0, 0, 0, 0, "off");
      status.warmUp(skipped);
      return Future.succeededFuture(skipped);
    }
    status.warmUp(new Result(config.http().warmupConnections(), 0, 0, 0, RUNNING));
    return new HandshakeWarmUp(vertx, config).start();
  }

  private Future<Result> start() {
    started = System.nanoTime();
    String host = config.http().host();
    // a wildcard bind is reached on loopback; a specific interface only on that address
    String target = host.equals("0.0.0.0") || host.equals("::") || host.isBlank() ? "127.0.0.1" : host;
    client = vertx.createWebSocketClient(new WebSocketClientOptions().setDefaultHost(target)
      .setDefaultPort(status.httpPort()).setMaxConnections(CONCURRENCY).setConnectTimeout(10_000)
      .setIdleTimeout(10).setIdleTimeoutUnit(java.util.concurrent.TimeUnit.SECONDS));
    deadlineTimer = vertx.setTimer(DEADLINE_MS, id -> finish("deadline"));
    for (int i = 0; i < CONCURRENCY; i++) {
      next();
    }
    return finished.future();
  }

  private void next() {
    if (finished.future().isComplete()) {
      return;
    }
    if (status.draining()) {
      finish("draining");
      return;
    }
    if (failed >= MAX_FAILURES) {
      finish(failed + " connects failed");
      return;
    }
    // clients connecting meanwhile (a reconnect storm on a node nobody holds back until it is ready, as without a
    // load balancer) warm the same paths: the node is warm once that many upgrades went through, its own or not
    if (issued >= target || status.upgradesAdmitted().get() >= target) {
      if (inFlight == 0) {
        finish(null);
      }
      return;
    }
    int i = issued++;
    inFlight++;
    boolean toChat = chat && i % 2 == 1;
    WebSocketConnectOptions options = new WebSocketConnectOptions()
      .setURI(toChat ? "/chat?nickname=pulse-warmup" : "/metrics/stream?streams=alerts")
      .setAllowOriginHeader(false);
    if (!toChat && !config.http().dashboardToken().isEmpty()) {
      options.addHeader("Authorization", "Bearer " + config.http().dashboardToken());
    }
    ClientWebSocket ws = client.webSocket();
    boolean[] counted = {false};
    boolean[] hello = {false};
    ws.textMessageHandler(text -> {
      hello[0] = true;
      ws.close();
    });
    // a close before any hello (over a cap, say) did not go through the paths to warm: a failure
    ws.closeHandler(v -> settle(counted, hello[0]));
    ws.connect(options).onFailure(e -> {
      if (firstFailure == null) {
        firstFailure = e.toString();
      }
      settle(counted, false);
    });
  }

  private void settle(boolean[] counted, boolean ok) {
    if (counted[0]) {
      return;
    }
    counted[0] = true;
    inFlight--;
    if (finished.future().isComplete()) {
      return; // a connect still in flight when it stopped: the result is written
    }
    if (ok) {
      done++;
    } else {
      failed++;
    }
    status.warmUp(new Result(target, done, failed, elapsedMs(), RUNNING));
    next();
  }

  private long elapsedMs() {
    return (System.nanoTime() - started) / 1_000_000;
  }

  private void finish(String stoppedBecause) {
    if (finished.future().isComplete()) {
      return;
    }
    vertx.cancelTimer(deadlineTimer);
    Result result = new Result(target, done, failed, elapsedMs(), stoppedBecause == null ? "done" : stoppedBecause);
    status.warmUp(result);
    client.close();
    if (stoppedBecause == null) {
      long others = Math.max(0, status.upgradesAdmitted().get() - issued);
      LOG.info("Warmed up the WebSocket handshake paths: {} own connects ({}) and {} upgrades from clients in {} ms",
        done, chat ? "/metrics/stream and anonymous /chat in turn" : "/metrics/stream", others, result.millis());
    } else {
      LOG.warn("Warm-up of the WebSocket handshake paths stopped ({}) after {} of {} connects, {} failed (first: {}), "
        + "{} ms; the node is ready all the same", stoppedBecause, done, target, failed, firstFailure, result.millis());
    }
    finished.complete(result);
  }
}
