package com.chatroom.pulse.dashboard;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.PulseMessageCodec;
import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.alerts.AlertVerticle;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.history.HistoryVerticle;
import com.chatroom.pulse.http.HttpVerticle;
import com.chatroom.pulse.http.NodeStatus;
import com.chatroom.pulse.optimizer.OptimizerVerticle;
import com.chatroom.pulse.stream.StreamVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.TimeUnit;

/**
 * A whole node in this JVM without a sampler: the stream relay, history, the alert manager, the optimizer (no rules)
 * and the edge, fed by
 * samples the test publishes on the real addresses. The edge can be stopped and started again on the same port,
 * which is a server restart as the browser sees it while history keeps recording.
 */
final class DashboardNode {

  static final String ADMIN_TOKEN = "dashboard-admin-token-0123";
  static final String RULE = "cpu_hot";

  final Vertx vertx;
  final PulseConfig config;
  private String edgeDeployment;

  private DashboardNode(Vertx vertx, PulseConfig config) {
    this.vertx = vertx;
    this.config = config;
  }

  /** An alert rule that fires on the first sample with CPU above 80 %, and clears on the first one below 70 %. */
  static DashboardNode start(Vertx vertx) throws Exception {
    JsonObject rule = new JsonObject().put("name", RULE).put("metric", "cpu_percent").put("op", ">").put("threshold", 80)
      .put("for", "0s").put("clear_threshold", 70).put("clear_for", "0s").put("severity", "critical")
      .put("annotations", new JsonObject().put("summary", "CPU at {{value}}% on {{instance}}"));
    PulseConfig config = PulseConfig.from(new JsonObject()
      .put("instance_id", "dash-node")
      .put("http", new JsonObject().put("host", "127.0.0.1").put("port", Edge.freePort()).put("instances", 1)
        .put("admin_token", ADMIN_TOKEN))
      .put("sampler", new JsonObject().put("enabled", false))
      .put("alerts", new JsonObject().put("rules", new JsonArray().add(rule))
        .put("limits", new JsonObject().put("sweep_interval", "100ms"))));
    PulseMessageCodec.register(vertx);
    DashboardNode node = new DashboardNode(vertx, config);
    await(vertx.deployVerticle(StreamVerticle::new, new DeploymentOptions())
      .compose(id -> vertx.deployVerticle(() -> new HistoryVerticle(config), new DeploymentOptions()))
      .compose(id -> vertx.deployVerticle(() -> new AlertVerticle(config), new DeploymentOptions()))
      .compose(id -> vertx.deployVerticle(() -> new OptimizerVerticle(config), new DeploymentOptions())));
    node.startEdge();
    NodeStatus.of(vertx).markDeployed();
    return node;
  }

  void startEdge() throws Exception {
    edgeDeployment = await(vertx.deployVerticle(() -> new HttpVerticle(config), new DeploymentOptions()));
  }

  /** Closes the HTTP server and every stream socket (1001, as on shutdown); history and alerts keep running. */
  void stopEdge() throws Exception {
    await(vertx.undeploy(edgeDeployment));
  }

  String url(String path) {
    return "http://127.0.0.1:" + config.http().port() + path;
  }

  void publish(SystemMetrics sample) {
    vertx.eventBus().publish(Addresses.METRICS_SYSTEM, sample);
  }

  void publishApp(Object sample) {
    vertx.eventBus().publish(Addresses.METRICS_APP, sample);
  }

  void publishOptimizer(JsonObject action) {
    vertx.eventBus().publish(Addresses.OPTIMIZER_ACTIONS, action);
  }

  /** Samples of {@code instance} that history holds since {@code since}, as the stream's backfill would read them. */
  int historyCount(String instance, double since) throws Exception {
    JsonObject request = new JsonObject().put("op", "backfill").put("since", since)
      .put("streams", new JsonArray().add("system")).put("instances", new JsonArray().add(instance));
    JsonObject reply = await(vertx.eventBus().<JsonObject>request(Addresses.HISTORY_QUERY, request,
      new DeliveryOptions().setLocalOnly(true))).body();
    return reply.getJsonArray("frames").size();
  }

  /**
   * Returns once the history verticle has handled everything published before this call: the query is queued on the
   * same event loop behind those samples. Used to write a large history in bounded chunks.
   */
  void historyBarrier() throws Exception {
    await(vertx.eventBus().request(Addresses.HISTORY_QUERY, new JsonObject().put("op", "instances").put("kind", "system"),
      new DeliveryOptions().setLocalOnly(true).setSendTimeout(60_000)));
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(90, TimeUnit.SECONDS);
  }

  static double now() {
    return System.currentTimeMillis() / 1000d;
  }
}
