package com.chatroom.pulse.http;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Node-wide facts the edge reports: whether every verticle has deployed, whether the node is draining for shutdown,
 * the port the HTTP server really bound, and whether the optimizer is shedding load here. One per Vert.x instance (kept in a local map), shared by every edge
 * instance, thread-safe.
 */
public final class NodeStatus implements Shareable {

  private static final String MAP = "pulse.node";
  /** The close reason every WebSocket gets (code 1001, going away) when the node shuts down. */
  public static final String SHUTDOWN_REASON = "server shutting down, reconnect";

  private final AtomicBoolean deployed = new AtomicBoolean();
  private final AtomicBoolean draining = new AtomicBoolean();
  private final AtomicInteger httpPort = new AtomicInteger(-1);
  private final AtomicReference<Shedding> shedding = new AtomicReference<>();
  private final java.util.concurrent.atomic.AtomicLong upgradesWaiting = new java.util.concurrent.atomic.AtomicLong();
  private final AtomicBoolean upgradesGauge = new AtomicBoolean();
  /** WebSocket upgrades the edge instances' gates let go ahead since start, the warm-up's own included. */
  private final java.util.concurrent.atomic.AtomicLong upgradesAdmitted = new java.util.concurrent.atomic.AtomicLong();
  /** The handshake warm-up's progress; null where none was asked for (an edge deployed without MainVerticle). */
  private final AtomicReference<HandshakeWarmUp.Result> warmUp = new AtomicReference<>();

  /**
   * The optimizer's {@code shed_load} in force on this node: readiness answers 503 with this reason.
   *
   * @param reason why, from the action event
   * @param rule   the rule (or {@code manual}) whose decision set it
   * @param cap    chat connections the node keeps accepting meanwhile
   * @param since  epoch ms of the decision
   */
  public record Shedding(String reason, String rule, long cap, long since) {
  }

  public static NodeStatus of(Vertx vertx) {
    return (NodeStatus) vertx.sharedData().getLocalMap(MAP).computeIfAbsent("status", k -> new NodeStatus());
  }

  public boolean deployed() {
    return deployed.get();
  }

  public void markDeployed() {
    deployed.set(true);
  }

  /** Whether the node is shutting down: readiness answers 503 and the edge refuses new WebSocket upgrades. */
  public boolean draining() {
    return draining.get();
  }

  /** From now on until the process exits: not ready, no new WebSockets. */
  public void markDraining() {
    draining.set(true);
  }

  public int httpPort() {
    return httpPort.get();
  }

  void httpPort(int port) {
    httpPort.set(port);
  }

  /** The load shedding in force, or null. */
  public Shedding shedding() {
    return shedding.get();
  }

  /** @param now the shedding in force from now on, or null once it is lifted */
  void shedding(Shedding now) {
    shedding.set(now);
  }

  /** WebSocket upgrades waiting at the edge instances' {@link UpgradeGate}s, all instances together. */
  java.util.concurrent.atomic.AtomicLong upgradesWaiting() {
    return upgradesWaiting;
  }

  /** The node-wide gauge of {@link #upgradesWaiting()}, registered by the first edge instance. */
  void registerUpgradesWaiting(io.micrometer.core.instrument.MeterRegistry registry) {
    if (!upgradesGauge.compareAndSet(false, true)) {
      return;
    }
    io.micrometer.core.instrument.Gauge.builder(com.chatroom.pulse.metrics.MeterNames.HTTP_UPGRADES_WAITING, upgradesWaiting,
        java.util.concurrent.atomic.AtomicLong::get)
      .description("WebSocket upgrades waiting their turn at the edge's upgrade gate").register(registry);
  }

  java.util.concurrent.atomic.AtomicLong upgradesAdmitted() {
    return upgradesAdmitted;
  }

  /** The handshake warm-up's latest progress, or null if this node runs none. */
  public HandshakeWarmUp.Result warmUp() {
    return warmUp.get();
  }

  void warmUp(HandshakeWarmUp.Result progress) {
    warmUp.set(progress);
  }
}
