package com.chatroom.pulse;

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

/** Deploys the stream relay, history, the chat room registry and the edge (no sampler) on a free port, the way MainVerticle does. */
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
    JsonObject doc = new JsonObject()
      .put("instance_id", "edge-test")
      .put("http", new JsonObject().put("port", freePort()).put("host", "127.0.0.1").put("instances", 2))
      .put("sampler", new JsonObject().put("enabled", false))
      .mergeIn(overrides, true);
    PulseConfig config = PulseConfig.from(doc);
    PulseMessageCodec.register(vertx);
    return vertx.deployVerticle(StreamVerticle::new, new DeploymentOptions())
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
