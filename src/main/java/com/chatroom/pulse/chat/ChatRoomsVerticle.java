package com.chatroom.pulse.chat;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.BusRejects;
import com.chatroom.pulse.bus.ChatMessage;
import com.chatroom.pulse.bus.ChatPresence;
import com.chatroom.pulse.bus.ChatPresence.Member;
import com.chatroom.pulse.bus.InvalidMessageException;
import com.chatroom.pulse.bus.LocalCodec;
import com.chatroom.pulse.chat.ChatCommands.ChatFrame;
import com.chatroom.pulse.chat.ChatCommands.Join;
import com.chatroom.pulse.chat.ChatCommands.Joined;
import com.chatroom.pulse.chat.ChatCommands.Leave;
import com.chatroom.pulse.chat.ChatCommands.Post;
import com.chatroom.pulse.config.ChatConfig;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.http.WsWire;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * The node's room registry, one instance per node. It holds exactly one event-bus subscription per room that has
 * members on this node (whatever their number and whichever edge instance holds their sockets), sequences and stores
 * the messages posted here ({@link ChatStore}), puts each room's messages in sequence order and serializes each one
 * once for every edge instance ({@link Addresses#CHAT_DELIVER}), batches presence, publishes the gateway's
 * application metrics and follows the pipeline ({@link PipelineReactions}).
 */
public final class ChatRoomsVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ChatRoomsVerticle.class);
  /** Rooms cut per turn of the event loop when trim_caches arrives: 10,000 rooms never hold the loop at once. */
  static final int TRIM_SLICE = 256;

  private final PulseConfig pulse;
  private final ChatConfig config;
  private final Map<String, Room> rooms = new HashMap<>();
  /** Rooms whose last member left: their subscription is being dropped, then their last presence batch goes out. */
  private final java.util.Set<Future<Void>> leaving = new java.util.HashSet<>();
  private final DeliveryOptions local = LocalCodec.local();
  private ChatStore store;
  private ChatAppMetrics metrics;
  private BusRejects rejects;
  private Counter accepted;
  private Counter duplicates;
  private Counter backlogTrimmed;
  private RoomOrdering ordering;
  private long metricsTimer;
  /**
   * This registry's name in presence batches: the Vert.x node id when clustered (a new one per process, so a node
   * restarted under the same INSTANCE_ID is never mistaken for the one that died), the instance id otherwise.
   */
  private String self;
  /** Nodes that left the cluster lately (bounded): one of them coming back is a healed network split. */
  private final java.util.LinkedHashSet<String> departed = new java.util.LinkedHashSet<>();
  static final int DEPARTED_KEPT = 256;

  public ChatRoomsVerticle(PulseConfig pulse) {
    this.pulse = pulse;
    this.config = pulse.chat();
  }

  @Override
  public Future<?> start() {
    MeterRegistry registry = Meters.registry(vertx);
    self = vertx.isClustered() ? ((io.vertx.core.internal.VertxInternal) vertx).clusterManager().getNodeId() : pulse.instanceId();
    rejects = new BusRejects(registry, "chat");
    accepted = Counter.builder(MeterNames.CHAT_MESSAGES).description("Chat messages sequenced on this node").register(registry);
    duplicates = Counter.builder(MeterNames.CHAT_DUPLICATES)
      .description("Chat messages re-sent with an id already sequenced: acknowledged, not delivered again").register(registry);
    backlogTrimmed = Counter.builder(MeterNames.CHAT_BACKLOG_TRIMMED)
      .description("Chat messages dropped from in-memory room backlogs by the optimizer's trim_caches").register(registry);
    Gauge.builder(MeterNames.CHAT_ROOMS, rooms, Map::size).description("Rooms with members on this node").register(registry);
    store = pulse.redis().enabled()
      ? new RedisChatStore(Redis.createClient(vertx, pulse.redis().options()), config)
      : new MemoryChatStore(config, rooms::containsKey);
    ordering = new RoomOrdering(vertx, store, config.historySize(), room -> rooms.get(room.name) == room,
      Counter.builder(MeterNames.CHAT_REORDERED)
        .description("Room messages that arrived out of sequence and were held until their predecessors came").register(registry),
      this::dispatched);
    metrics = new ChatAppMetrics(ChatNode.of(vertx), registry, pulse.instanceId(), System.currentTimeMillis());
    metricsTimer = vertx.setPeriodic(config.metricsIntervalMs(), id -> publishMetrics());
    PipelineReactions reactions = new PipelineReactions(vertx, config, ChatNode.of(vertx), pulse.instanceId(), this::postNotice,
      this::holdBacklog, rejects);
    LOG.info("Chat rooms started: store {}, history {} per room, identity {}", store.backend(), config.historySize(),
      config.identityConfigured() ? config : "none configured: /chat refuses every connection");
    return Future.all(
      vertx.eventBus().localConsumer(Addresses.CHAT_COMMANDS, this::onCommand).completion(),
      vertx.eventBus().<String>localConsumer(Addresses.CLUSTER_NODE_LEFT, m -> nodeLeft(m.body())).completion(),
      vertx.eventBus().<String>localConsumer(Addresses.CLUSTER_NODE_ADDED, m -> nodeAdded(m.body())).completion(),
      reactions.start());
  }

  /**
   * On shutdown (the node's drain undeploys this right after the edge, before leaving the cluster): the other nodes
   * are told that every member here left, so no one is counted in a room after this node is gone. Rooms emptied a
   * moment ago announce their last batch once their subscription is gone: those are awaited too.
   */
  @Override
  public Future<?> stop() {
    vertx.cancelTimer(metricsTimer);
    if (vertx.isClustered()) {
      for (Room room : rooms.values()) {
        vertx.cancelTimer(room.presenceTimer);
        vertx.cancelTimer(room.gapTimer);
        java.util.LinkedHashMap<String, Member> left = new java.util.LinkedHashMap<>(room.leftBatch);
        left.putAll(room.localMembers);
        if (!left.isEmpty()) {
          vertx.eventBus().publish(Addresses.chatRoom(room.name), new ChatPresence(room.name, self, List.of(),
            new ArrayList<>(left.values()), false));
        }
      }
    }
    return Future.join(List.copyOf(leaving)).eventually(() -> store.close());
  }

  private void onCommand(Message<Object> message) {
    Object body = message.body();
    Future<?> result;
    if (body instanceof Post p) {
      result = post(p);
    } else if (body instanceof Join j) {
      result = join(j);
    } else if (body instanceof Leave l) {
      leave(l);
      result = Future.succeededFuture(Boolean.TRUE);
    } else {
      result = Future.failedFuture(new ChatError("bad_command", null, "unknown chat command " + body));
    }
    result.onComplete(ar -> message.reply(ar.succeeded() ? ar.result() : asError(ar.cause()), local));
  }

  private static ChatError asError(Throwable e) {
    return e instanceof ChatError c ? c : new ChatError("unavailable", null, "the room store failed: " + e.getMessage());
  }

  /** What a join reads from the store, and whether the room turned out to be behind the client's {@code since}. */
  private record Recovered(ChatStore.History history, boolean rewound) {
  }

  private Future<Joined> join(Join j) {
    if (j.room().equals(config.opsRoom()) && !j.admin()) {
      return Future.failedFuture(new ChatError("forbidden", "room", "room '" + j.room() + "' is for operators (role '"
        + config.adminRole() + "')"));
    }
    Room room = rooms.get(j.room());
    if (room == null) {
      if (rooms.size() >= config.maxRooms()) {
        return Future.failedFuture(new ChatError("too_many_rooms", "room", "this node already has " + config.maxRooms() + " rooms in use"));
      }
      room = new Room(j.room());
      rooms.put(j.room(), room);
      Room r = room;
      room.consumer = vertx.eventBus().consumer(Addresses.chatRoom(j.room()), m -> onRoomEvent(r, m));
      // clustered: the other nodes' members joined before this subscription existed; ask them for their lists
      room.subscribed = room.consumer.completion().onSuccess(v -> {
        if (vertx.isClustered()) {
          vertx.eventBus().publish(Addresses.chatRoom(r.name), new ChatPresence(r.name, self,
            new ArrayList<>(r.localMembers.values()), List.of(), true));
        }
      });
    }
    Room r = room;
    if (r.addLocal(j.member())) {
      schedulePresence(r);
    }
    return r.subscribed
      .compose(v -> j.since() == null ? store.latest(r.name, config.joinHistory())
        : store.since(r.name, j.since(), config.historySize()))
      // the client has seen numbers the room has not reached: it was rewound; give the newest messages instead
      .compose(history -> j.since() != null && j.since() > history.lastSeq()
        ? store.latest(r.name, config.joinHistory()).map(latest -> new Recovered(latest, true))
        : Future.succeededFuture(new Recovered(history, false)))
      .map(read -> {
        ChatStore.History history = read.history();
        boolean rewound = read.rewound();
        if (r.expected < 0) {
          r.expected = history.lastSeq() + 1;
          ordering.drainHeld(r);
        }
        boolean gap = !rewound && j.since() != null && j.since() < history.firstAvailable() - 1;
        return new Joined(history, gap, rewound, r.memberCount(), r.memberList(config.presenceListMax()));
      })
      .onFailure(e -> leave(new Leave(j.room(), j.member())));
  }

  private void leave(Leave l) {
    Room room = rooms.get(l.room());
    if (room == null) {
      return;
    }
    if (room.removeLocal(l.member())) {
      schedulePresence(room);
    }
    if (room.localConnections == 0) {
      // the last member here left: drop the room's subscription, then tell the other nodes (none here is listening)
      vertx.cancelTimer(room.gapTimer);
      vertx.cancelTimer(room.presenceTimer);
      rooms.remove(room.name);
      ChatPresence last = presenceBatch(room);
      Future<Void> gone = room.consumer.unregister().onComplete(v -> {
        if (last != null && vertx.isClustered()) {
          vertx.eventBus().publish(Addresses.chatRoom(room.name), last);
        }
      });
      leaving.add(gone);
      gone.onComplete(v -> leaving.remove(gone));
    }
  }

  /**
   * trim_caches: room backlogs held at {@code floor} messages ({@code -1}: back to {@code chat.history_size}), and cut
   * to it now, {@link #TRIM_SLICE} rooms per turn of the event loop.
   */
  private void holdBacklog(int floor) {
    List<IntSupplier> trims = store.holdBacklog(floor);
    if (floor < 0) {
      LOG.info("Chat room backlogs back to chat.history_size ({} messages)", config.historySize());
    } else if (trims.isEmpty()) {
      LOG.info("trim_caches: no in-memory chat backlog to trim (store: {}{})", store.backend(),
        store.backend().equals("memory") ? "" : ", which bounds its own history");
    } else {
      trimSlice(trims, 0, 0, floor);
    }
  }

  private void trimSlice(List<IntSupplier> trims, int from, long dropped, int floor) {
    int to = Math.min(trims.size(), from + TRIM_SLICE);
    long total = dropped;
    for (int i = from; i < to; i++) {
      total += trims.get(i).getAsInt();
    }
    if (to < trims.size()) {
      long sofar = total;
      vertx.runOnContext(v -> trimSlice(trims, to, sofar, floor));
      return;
    }
    backlogTrimmed.increment(total);
    LOG.info("trim_caches: {} chat messages dropped from {} room backlogs, now held at {} messages each", total, trims.size(), floor);
  }

  /** One more frame for every edge instance to write out. */
  private void dispatched() {
    ChatNode.of(vertx).pendingFrames.addAndGet(pulse.http().instances());
  }

  private Future<ChatStore.Posted> post(Post p) {
    if (!rooms.containsKey(p.room())) {
      return Future.failedFuture(new ChatError("not_joined", "room", "join room '" + p.room() + "' before sending to it"));
    }
    // the edges are behind: refuse new messages rather than queue frames without bound
    long pending = ChatNode.of(vertx).pendingFrames.get();
    if (pending >= (long) config.maxPendingFrames() * pulse.http().instances()) {
      return Future.failedFuture(new ChatError("overloaded", null,
        "this node is behind on deliveries (" + pending / pulse.http().instances() + " messages queued); retry in a moment"));
    }
    double now = System.currentTimeMillis() / 1000d;
    return store.post(new ChatStore.Draft(p.room(), p.clientId(), p.member().id(), p.member().name(), p.text(), now, pulse.instanceId()))
      .onSuccess(posted -> {
        if (posted.duplicate()) {
          duplicates.increment();
          return;
        }
        accepted.increment();
        metrics.accepted();
        vertx.eventBus().publish(Addresses.chatRoom(p.room()), new ChatMessage(p.room(), posted.seq(), p.clientId(),
          p.member().id(), p.member().name(), p.text(), now, pulse.instanceId(), p.receivedNanos()));
      });
  }

  /** A notice from Pulse itself, sequenced and stored like any message (so operators who reconnect see it too). */
  private void postNotice(String clientId, String text) {
    Member pulseUser = new Member("pulse", "Pulse");
    Room room = rooms.get(config.opsRoom());
    if (room == null) {
      // nobody is in the ops room on this node: store it for whoever joins later, without a subscription
      double now = System.currentTimeMillis() / 1000d;
      store.post(new ChatStore.Draft(config.opsRoom(), clientId, pulseUser.id(), pulseUser.name(), text, now, pulse.instanceId()))
        .onSuccess(posted -> {
          if (!posted.duplicate()) {
            vertx.eventBus().publish(Addresses.chatRoom(config.opsRoom()), new ChatMessage(config.opsRoom(), posted.seq(), clientId,
              pulseUser.id(), pulseUser.name(), text, now, pulse.instanceId(), 0));
          }
        })
        .onFailure(e -> LOG.warn("Ops notice not stored: {}", e.getMessage()));
      return;
    }
    post(new Post(config.opsRoom(), pulseUser, clientId, text, 0)).onFailure(e -> LOG.warn("Ops notice not posted: {}", e.getMessage()));
  }

  private void onRoomEvent(Room room, Message<Object> message) {
    Object body;
    try {
      body = message.body(); // from a peer, decoded here: the codec refuses what does not parse
    } catch (InvalidMessageException e) {
      rejects.reject(message, e);
      return;
    }
    if (body instanceof ChatMessage m && m.room().equals(room.name)) {
      ordering.onMessage(room, m);
    } else if (body instanceof ChatPresence p && p.room().equals(room.name)) {
      onPresence(room, p);
    } else {
      rejects.reject(message, new InvalidMessageException("$", InvalidMessageException.Reason.UNSUPPORTED_BODY,
        "expected a ChatMessage or ChatPresence for room '" + room.name + "', got " + (body == null ? "nothing" : body.getClass().getSimpleName())));
    }
  }

  private void schedulePresence(Room room) {
    if (room.presenceTimer < 0 && (!room.joinedBatch.isEmpty() || !room.leftBatch.isEmpty())) {
      room.presenceTimer = vertx.setTimer(config.presenceBatchMs(), id -> flushPresence(room));
    }
  }

  private void flushPresence(Room room) {
    room.presenceTimer = -1;
    ChatPresence batch = presenceBatch(room);
    if (batch != null) {
      vertx.eventBus().publish(Addresses.chatRoom(room.name), batch);
    }
  }

  /** Takes the pending joins and leaves of a room as one batch, or null when there are none. */
  private ChatPresence presenceBatch(Room room) {
    if (room.joinedBatch.isEmpty() && room.leftBatch.isEmpty()) {
      return null;
    }
    ChatPresence batch = new ChatPresence(room.name, self, new ArrayList<>(room.joinedBatch.values()),
      new ArrayList<>(room.leftBatch.values()), false);
    room.joinedBatch.clear();
    room.leftBatch.clear();
    return batch;
  }

  private void onPresence(Room room, ChatPresence p) {
    List<Member> joined = p.joined();
    List<Member> left = p.left();
    if (!p.origin().equals(self)) {
      List<List<Member>> changes = room.applyRemote(p.origin(), p.joined(), p.left());
      joined = changes.get(0);
      left = changes.get(1);
      if (p.sync() && !room.localMembers.isEmpty()) {
        ChatPresence answer = new ChatPresence(room.name, self, new ArrayList<>(room.localMembers.values()), List.of(), false);
        room.answers.add(answer);
        vertx.eventBus().publish(Addresses.chatRoom(room.name), answer);
      }
    } else if (p.sync() || room.answers.remove(p)) {
      return; // our own request for lists, or our answer to one: our members are announced by our regular batches
    }
    announce(room, joined, left);
  }

  /** Tells this node's members of {@code room} who came and went, with the count (and the list, if short). */
  private void announce(Room room, List<Member> joined, List<Member> left) {
    if (joined.isEmpty() && left.isEmpty()) {
      return;
    }
    JsonObject frame = new JsonObject().put("type", "presence").put("room", room.name)
      .put("joined", memberArray(joined)).put("left", memberArray(left)).put("count", room.memberCount());
    List<Member> members = room.memberList(config.presenceListMax());
    if (members != null) {
      frame.put("members", memberArray(members));
    }
    dispatched();
    vertx.eventBus().publish(Addresses.CHAT_DELIVER, new ChatFrame(room.name, 0, WsWire.sharedTextFrame(frame.toBuffer()), 0), local);
  }

  /**
   * A node left the cluster. One that drained said goodbye already (its leaves came before it left); one that was
   * killed or cut off never will: its members are forgotten here and announced as gone, except those still connected
   * here or known on another node.
   */
  private void nodeLeft(String node) {
    if (node == null || node.equals(self)) {
      return;
    }
    departed.remove(node);
    departed.add(node);
    if (departed.size() > DEPARTED_KEPT) {
      departed.remove(departed.iterator().next());
    }
    int dropped = 0;
    int affected = 0;
    for (Room room : rooms.values()) {
      if (room.remote.containsKey(node)) {
        List<Member> gone = room.dropOrigin(node);
        affected++;
        dropped += gone.size();
        announce(room, List.of(), gone);
      }
    }
    if (affected > 0) {
      LOG.info("Node {} left the cluster without announcing its members: {} dropped from {} rooms", node, dropped, affected);
    }
  }

  /**
   * A node joined the cluster. A new one asks for member lists itself when it first subscribes to a room; one that
   * left and came back (a healed network split) forgot this node's members as this node forgot its own: every room
   * with members here asks again, listing its own, TRIM_SLICE rooms per turn of the event loop.
   */
  private void nodeAdded(String node) {
    if (node == null || !departed.remove(node)) {
      return;
    }
    List<Room> toSync = rooms.values().stream().filter(r -> !r.localMembers.isEmpty()).toList();
    LOG.info("Node {} is back in the cluster: asking again for the member lists of {} rooms", node, toSync.size());
    resync(toSync, 0);
  }

  private void resync(List<Room> toSync, int from) {
    int to = Math.min(toSync.size(), from + TRIM_SLICE);
    for (int i = from; i < to; i++) {
      Room r = toSync.get(i);
      if (rooms.get(r.name) == r && !r.localMembers.isEmpty()) {
        vertx.eventBus().publish(Addresses.chatRoom(r.name), new ChatPresence(r.name, self,
          new ArrayList<>(r.localMembers.values()), List.of(), true));
      }
    }
    if (to < toSync.size()) {
      vertx.runOnContext(v -> resync(toSync, to));
    }
  }

  private static io.vertx.core.json.JsonArray memberArray(List<Member> members) {
    io.vertx.core.json.JsonArray array = new io.vertx.core.json.JsonArray();
    members.forEach(m -> array.add(m.toJson()));
    return array;
  }

  private void publishMetrics() {
    vertx.eventBus().publish(Addresses.METRICS_APP, metrics.sample(System.currentTimeMillis()));
  }
}
