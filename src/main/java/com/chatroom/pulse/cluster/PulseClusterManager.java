package com.chatroom.pulse.cluster;

import com.chatroom.pulse.bus.Addresses;
import com.hazelcast.config.Config;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.spi.cluster.NodeListener;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

/**
 * Vert.x's Hazelcast cluster manager that also tells this node's verticles when a node leaves the cluster or joins
 * it, on {@link Addresses#CLUSTER_NODE_LEFT} and {@link Addresses#CLUSTER_NODE_ADDED} (node-local, the node id as
 * body). The cluster manager reports membership to a single node listener, and only while one is set: Vert.x sets
 * one only with HA on. So this class sets its own from the start, and a listener Vert.x sets is kept and called first.
 */
public final class PulseClusterManager extends HazelcastClusterManager {

  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private volatile Vertx vertx;
  private volatile NodeListener vertxListener;

  public PulseClusterManager(Config config) {
    super(config);
    super.nodeListener(new NodeListener() {
      @Override
      public void nodeAdded(String nodeID) {
        relay(nodeID, NodeListener::nodeAdded, Addresses.CLUSTER_NODE_ADDED);
      }

      @Override
      public void nodeLeft(String nodeID) {
        relay(nodeID, NodeListener::nodeLeft, Addresses.CLUSTER_NODE_LEFT);
      }
    });
  }

  @Override
  public void init(Vertx vertx) {
    this.vertx = vertx;
    super.init(vertx);
  }

  /** Vert.x's own listener (HA), called before the announcement. */
  @Override
  public void nodeListener(NodeListener listener) {
    this.vertxListener = listener;
  }

  /**
   * Vert.x's listener first, then the announcement. Called on a Hazelcast event thread: the event bus is
   * thread-safe, and consumers run on their own contexts.
   */
  private void relay(String nodeId, java.util.function.BiConsumer<NodeListener, String> toVertx, String address) {
    NodeListener other = vertxListener;
    if (other != null) {
      toVertx.accept(other, nodeId);
    }
    Vertx v = vertx;
    if (v != null && nodeId != null) {
      v.eventBus().publish(address, nodeId, LOCAL);
    }
  }
}
