package com.chatroom.pulse.http;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Node-wide facts the edge reports: whether every verticle has deployed, and the port the HTTP server really
 * bound. One per Vert.x instance (kept in a local map), thread-safe.
 */
public final class NodeStatus implements Shareable {

  private static final String MAP = "pulse.node";

  private final AtomicBoolean deployed = new AtomicBoolean();
  private final AtomicInteger httpPort = new AtomicInteger(-1);

  public static NodeStatus of(Vertx vertx) {
    return (NodeStatus) vertx.sharedData().getLocalMap(MAP).computeIfAbsent("status", k -> new NodeStatus());
  }

  public boolean deployed() {
    return deployed.get();
  }

  public void markDeployed() {
    deployed.set(true);
  }

  public int httpPort() {
    return httpPort.get();
  }

  void httpPort(int port) {
    httpPort.set(port);
  }
}
