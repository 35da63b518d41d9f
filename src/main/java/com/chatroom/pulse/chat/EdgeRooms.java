package com.chatroom.pulse.chat;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.LocalCodec;
import com.chatroom.pulse.bus.ChatPresence;
import com.chatroom.pulse.chat.ChatCommands.ChatFrame;
import com.chatroom.pulse.chat.ChatCommands.Joined;
import com.chatroom.pulse.chat.ChatFrames.Join;
import com.chatroom.pulse.chat.ChatFrames.Leave;
import com.chatroom.pulse.chat.ChatFrames.Ping;
import com.chatroom.pulse.chat.ChatFrames.Send;
import com.chatroom.pulse.config.ChatConfig;
import io.netty.buffer.ByteBuf;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The rooms as one edge instance sees them: which of its connections are in which room, the join handshake with the
 * room registry (history first, then the live frames held meanwhile, minus any the history already had: no gap, no
 * duplicate), posting, and the fan-out of each {@link ChatFrame} (serialized once per node) to its members.
 * Every write goes through {@link #write}: a connection whose outbound queue is full is disconnected, never skipped.
 */
final class EdgeRooms {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(EdgeRooms.class);

  private final Vertx vertx;
  private final ChatConfig config;
  private final String instance;
  private final ChatNode node;
  private final Consumer<ChatConnection> tooSlow;
  private final Consumer<String> refused;
  private final DeliveryOptions commands;
  /** Room → its members on this edge instance, as memberships: the fan-out reaches each without a map lookup. */
  private final Map<String, List<ChatConnection.Membership>> members = new HashMap<>();
  private MessageConsumer<Object> consumer;
  /** Set when the edge shuts down: the registry goes with it, so closing sockets no longer tell it they left. */
  private boolean stopping;

  EdgeRooms(Vertx vertx, ChatConfig config, String instance, ChatNode node, Consumer<ChatConnection> tooSlow, Consumer<String> refused) {
    this.vertx = vertx;
    this.config = config;
    this.instance = instance;
    this.node = node;
    this.tooSlow = tooSlow;
    this.refused = refused;
    this.commands = LocalCodec.local().setSendTimeout(config.postTimeoutMs());
  }

  Future<Void> start() {
    consumer = vertx.eventBus().localConsumer(Addresses.CHAT_DELIVER, m -> onDeliver((ChatFrame) m.body()));
    return consumer.completion();
  }

  void stopping() {
    stopping = true;
  }

  Future<Void> stop() {
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }

  String instance() {
    return instance;
  }

  void onFrame(ChatConnection conn, Object frame, long receivedNanos) {
    if (frame instanceof Send s) {
      send(conn, s, receivedNanos);
    } else if (frame instanceof Join j) {
      join(conn, j);
    } else if (frame instanceof Leave l) {
      leave(conn, l.room());
    } else if (frame instanceof Ping p) {
      write(conn, new JsonObject().put("type", "pong").put("id", p.id()).put("server_time", System.currentTimeMillis() / 1000d).toBuffer());
    }
  }

  private void send(ChatConnection conn, Send s, long receivedNanos) {
    if (!conn.rooms.containsKey(s.room())) {
      countedRefusal(conn, new ChatError("not_joined", "room", "join room '" + s.room() + "' before sending to it"), s.id());
      return;
    }
    ask(new ChatCommands.Post(s.room(), conn.identity.member(), s.id(), s.text(), receivedNanos)).onComplete(ar -> {
      if (ar.succeeded() && ar.result() instanceof ChatStore.Posted posted) {
        write(conn, new JsonObject().put("type", "ack").put("id", s.id()).put("room", s.room()).put("seq", posted.seq())
          .put("duplicate", posted.duplicate()).toBuffer());
      } else {
        countedRefusal(conn, error(ar), s.id());
      }
    });
  }

  private void join(ChatConnection conn, Join j) {
    if (conn.rooms.containsKey(j.room())) {
      countedRefusal(conn, new ChatError("already_joined", "room", "you are already in room '" + j.room() + "'"), null);
      return;
    }
    if (conn.rooms.size() >= config.maxRoomsPerConnection()) {
      countedRefusal(conn, new ChatError("too_many_rooms", "room", "at most " + config.maxRoomsPerConnection() + " rooms per connection"), null);
      return;
    }
    ChatConnection.Membership joining = new ChatConnection.Membership(conn);
    conn.rooms.put(j.room(), joining);
    members.computeIfAbsent(j.room(), r -> new ArrayList<>()).add(joining);
    ask(new ChatCommands.Join(j.room(), conn.identity.member(), conn.identity.admin(), j.since())).onComplete(ar -> {
      if (conn.closing) {
        return; // leaveAll already told the registry
      }
      if (ar.succeeded() && ar.result() instanceof Joined joined) {
        catchUp(conn, j, joined);
      } else {
        removeMember(conn, j.room());
        if (ar.failed()) {
          // no answer: the registry may or may not have counted the join
          ask(new ChatCommands.Leave(j.room(), conn.identity.member())).onFailure(e -> LOG.debug("Leave not acknowledged: {}", e.toString()));
        }
        countedRefusal(conn, error(ar), null);
      }
    });
  }

  /** History first, then the live frames held during the join that history did not already contain, then live. */
  private void catchUp(ChatConnection conn, Join j, Joined joined) {
    ChatStore.History history = joined.history();
    JsonObject frame = new JsonObject().put("type", "joined").put("room", j.room()).put("since", j.since())
      .put("last_seq", history.lastSeq()).put("first_available", history.firstAvailable()).put("gap", joined.gap())
      .put("recovered", history.messages().size()).put("count", joined.count());
    if (joined.gap()) {
      frame.put("missed", history.firstAvailable() - 1 - j.since());
    }
    if (joined.rewound()) {
      // numbers up to since will be reused: the client must forget its since, or it would skip the new messages
      frame.put("rewound", true);
    }
    if (joined.members() != null) {
      frame.put("members", new ChatPresence(j.room(), "", joined.members(), List.of(), false).toJson().getJsonArray("joined"));
    }
    ChatConnection.Membership membership = conn.rooms.get(j.room());
    membership.lastSeq = j.since() == null || joined.rewound() ? 0 : j.since();
    if (!write(conn, frame.toBuffer())) {
      return;
    }
    new JoinCatchUp(conn, j.room(), membership, history.messages()).run();
  }

  /**
   * Writes a live frame unless the client already has it: a message published while the join read history can
   * reach the edge after the join's answer and also be in that history.
   */
  private boolean deliver(ChatConnection conn, ChatConnection.Membership membership, ChatFrame frame) {
    if (frame.seq() > 0) {
      if (frame.seq() <= membership.lastSeq) {
        return true;
      }
      membership.lastSeq = frame.seq();
    }
    return write(conn, frame.wire());
  }

  private void leave(ChatConnection conn, String room) {
    if (!conn.rooms.containsKey(room)) {
      countedRefusal(conn, new ChatError("not_joined", "room", "you are not in room '" + room + "'"), null);
      return;
    }
    removeMember(conn, room);
    ask(new ChatCommands.Leave(room, conn.identity.member())).onFailure(e -> LOG.debug("Leave not acknowledged: {}", e.toString()));
    write(conn, new JsonObject().put("type", "left").put("room", room).toBuffer());
  }

  /** The connection closed: leave every room it was in (or joining). */
  void leaveAll(ChatConnection conn) {
    for (String room : List.copyOf(conn.rooms.keySet())) {
      removeMember(conn, room);
      if (stopping) {
        continue;
      }
      ask(new ChatCommands.Leave(room, conn.identity.member())).onFailure(e -> LOG.debug("Leave not acknowledged: {}", e.toString()));
    }
  }

  private void removeMember(ChatConnection conn, String room) {
    ChatConnection.Membership membership = conn.rooms.remove(room);
    List<ChatConnection.Membership> list = members.get(room);
    if (list != null && membership != null) {
      list.remove(membership);
      if (list.isEmpty()) {
        members.remove(room);
      }
    }
  }

  private void onDeliver(ChatFrame frame) {
    node.pendingFrames.decrementAndGet();
    List<ChatConnection.Membership> list = members.get(frame.room());
    if (list == null) {
      return;
    }
    int written = 0;
    for (int i = 0, n = list.size(); i < n; i++) {
      ChatConnection.Membership membership = list.get(i);
      ChatConnection conn = membership.conn;
      if (membership.held != null) {
        if (!membership.hold(frame)) {
          tooSlow.accept(conn);
        }
      } else if (deliver(conn, membership, frame)) {
        written++;
      }
    }
    if (frame.seq() > 0) {
      node.deliveries.add(written);
    }
    if (frame.receivedNanos() > 0) {
      node.fanoutNanos.add(System.nanoTime() - frame.receivedNanos());
      node.fanoutCount.increment();
    }
  }

  /** Writes a JSON frame, or disconnects the client if its bounded outbound queue is full. @return whether it was written */
  boolean write(ChatConnection conn, Buffer json) {
    return write(conn, ChatWire.textFrame(json));
  }

  /** Writes an encoded frame, or disconnects the client if its bounded outbound queue is full. @return whether it was written */
  private boolean write(ChatConnection conn, ByteBuf frame) {
    // the channel's state, not ws.isClosed(): that takes the WebSocket's lock, once per recipient of every message
    if (conn.closing || !conn.channel.isActive()) {
      return false;
    }
    // while a join's history waits for the buffer to drain, frames of the client's other rooms may go past the high
    // water mark by up to as much again; beyond that, or without a catch-up under way, the client is too slow
    if (ChatWire.full(conn.channel) && (conn.waitingForDrain.isEmpty()
      || conn.channel.bytesBeforeWritable() > conn.channel.config().getWriteBufferHighWaterMark())) {
      tooSlow.accept(conn);
      return false;
    }
    ChatWire.write(conn.channel, frame);
    return true;
  }

  void refuse(ChatConnection conn, ChatError e, String id) {
    refused.accept(e.code);
    JsonObject frame = e.toFrame();
    write(conn, (id == null ? frame : frame.put("id", id)).toBuffer());
  }

  private void countedRefusal(ChatConnection conn, ChatError e, String id) {
    node.framesRejected.increment();
    refuse(conn, e, id);
  }

  private Future<Object> ask(Object command) {
    return vertx.eventBus().request(Addresses.CHAT_COMMANDS, command, commands).map(Message::body);
  }

  private static ChatError error(io.vertx.core.AsyncResult<Object> ar) {
    if (ar.succeeded()) {
      return ar.result() instanceof ChatError e ? e : new ChatError("unavailable", null, "unexpected answer from the room registry");
    }
    return new ChatError("unavailable", null, "the room registry did not answer in time; retry");
  }
}
