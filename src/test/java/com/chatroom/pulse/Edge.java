package com.chatroom.pulse;

import com.chatroom.pulse.alerts.AlertVerticle;
import com.chatroom.pulse.bus.PulseMessageCodec;
import com.chatroom.pulse.chat.ChatRoomsVerticle;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.history.HistoryVerticle;
import com.chatroom.pulse.http.HttpVerticle;
import com.chatroom.pulse.http.NodeStatus;
import com.chatroom.pulse.stream.StreamVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;

/** Deploys the alert manager (on request), stream relay, history, chat rooms and the edge (no sampler) on a free port. */
public final class Edge {

  private Edge() {
  }

  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** @param overrides config document merged over {@code instance_id: edge-test, sampler.enabled: false, http.port: free} */
  public static Future<PulseConfig> deploy(Vertx vertx, JsonObject overrides) {
    PulseConfig config = config(overrides);
    return deploy(vertx, config, false);
  }

  /** The whole node but the sampler, the alert manager included, as MainVerticle deploys it. */
  public static Future<PulseConfig> deployWithAlerts(Vertx vertx, JsonObject overrides) {
    return deploy(vertx, config(overrides), true);
  }

  private static PulseConfig config(JsonObject overrides) {
    JsonObject doc = new JsonObject()
      .put("instance_id", "edge-test")
      .put("http", new JsonObject().put("port", freePort()).put("host", "127.0.0.1").put("instances", 2))
      .put("sampler", new JsonObject().put("enabled", false))
      .mergeIn(overrides, true);
    return PulseConfig.from(doc);
  }

  private static Future<PulseConfig> deploy(Vertx vertx, PulseConfig config, boolean withAlerts) {
    PulseMessageCodec.register(vertx);
    Future<String> alerts = withAlerts && config.alerts().enabled()
      ? vertx.deployVerticle(() -> new AlertVerticle(config), new DeploymentOptions())
      : Future.succeededFuture("alerts not deployed");
    return alerts.compose(a -> vertx.deployVerticle(StreamVerticle::new, new DeploymentOptions()))
      .compose(id -> vertx.deployVerticle(() -> new HistoryVerticle(config), new DeploymentOptions()))
      .compose(id -> vertx.deployVerticle(() -> new ChatRoomsVerticle(config), new DeploymentOptions()))
      .compose(id -> vertx.deployVerticle(() -> new HttpVerticle(config),
        new DeploymentOptions().setInstances(config.http().instances())))
      .map(id -> {
        NodeStatus.of(vertx).markDeployed();
        return config;
      });
  }
}
