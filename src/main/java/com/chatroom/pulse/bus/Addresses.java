package com.chatroom.pulse.bus;

/**
 * Every event-bus address Pulse uses, with its payload and direction. Public addresses are a contract:
 * other services publish to and consume from them, so change them only on purpose.
 */
public final class Addresses {

  /**
   * {@link SystemMetrics}, published by each instance's sampler once per tick (default 1 s).
   * Direction: sampler → any consumer (stream, alerts, optimizer, history). Clustered: every node sees every node's samples.
   */
  public static final String METRICS_SYSTEM = "metrics.system";

  /**
   * {@link ApplicationMetrics}, published by any service: the chat gateway, other verticles (as the record or
   * as its JSON object), non-JVM services through HTTP ingest. Consumers validate JSON bodies with
   * {@link BusMessages#applicationMetrics}.
   */
  public static final String METRICS_APP = "metrics.app";

  /** An alert changing state (pending, firing, resolved, silenced). Direction: alert manager → stream, chat gateway. */
  public static final String ALERTS_EVENTS = "alerts.events";

  /** An optimizer action applied, reverted, skipped or failed. Direction: optimizer → the component that owns the resource, stream. */
  public static final String OPTIMIZER_ACTIONS = "optimizer.actions";

  /**
   * Node-local, internal: a {@link StreamFrame} (an event already serialized once) from the stream verticle to
   * every edge instance's WebSocket fan-out. Never crosses the cluster.
   */
  public static final String STREAM_FRAMES = "pulse.stream.frames";

  /**
   * Node-local, internal, request/reply: history queries ({@code op}: summary, range, instances, backfill) from the
   * edge to this node's history verticle. Replies are JSON; failures carry 400 (bad request) or 503 (store down).
   */
  public static final String HISTORY_QUERY = "pulse.history.query";

  /**
   * Prefix of a chat room's cluster address, {@code chat.room.<name>}: {@link ChatMessage} and {@link ChatPresence}.
   * Direction: the sequencer of the node that accepted a message (or saw members come and go) → every node with
   * members in the room. Each node holds one subscription per room it has members in, whatever its socket count.
   */
  public static final String CHAT_ROOM_PREFIX = "chat.room.";

  /**
   * Node-local, internal, request/reply: chat commands (join, leave, post, history) from the edge instances to this
   * node's room registry, passed by reference ({@link LocalCodec}). Failures carry a {@code ChatError} code.
   */
  public static final String CHAT_COMMANDS = "pulse.chat.commands";

  /**
   * Node-local, internal, publish: a room event serialized once ({@code ChatFrame}) from the room registry to every
   * edge instance, which writes it to its own members of that room. One dispatcher address rather than one per room:
   * there are only as many edge instances as event loops, and a map lookup per instance is cheaper than registering
   * and unregistering a consumer per room on every instance.
   */
  public static final String CHAT_DELIVER = "pulse.chat.deliver";

  /**
   * Node-local, internal, request/reply: sent once by the launcher's shutdown hook (SIGTERM) to the main verticle,
   * which answers when the node has drained: readiness 503, the edge closed (WebSockets told to reconnect with 1001),
   * the sampler stopped and history flushed. Only then does Vert.x undeploy the rest and leave the cluster.
   */
  public static final String NODE_DRAIN = "pulse.node.drain";

  /**
   * Node-local, internal: the Vert.x node id (a String) of a node that left the cluster, gracefully or not (a
   * {@code kill -9}, a lost pod: Hazelcast drops it after {@code hazelcast.max.no.heartbeat.seconds}). Direction: the
   * cluster manager → the room registry, which forgets that node's members. Only published on a clustered node.
   */
  public static final String CLUSTER_NODE_LEFT = "pulse.cluster.node-left";

  /**
   * Node-local, internal: the Vert.x node id (a String) of a node that joined the cluster, or came back to it after a
   * network split healed. Direction: the cluster manager → the room registry. Only published on a clustered node.
   */
  public static final String CLUSTER_NODE_ADDED = "pulse.cluster.node-added";

  /** The cluster address of {@code room}. */
  public static String chatRoom(String room) {
    return CHAT_ROOM_PREFIX + room;
  }

  private Addresses() {
  }
}
