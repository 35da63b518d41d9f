package com.chatroom.pulse.chat;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.ChatMessage;
import com.chatroom.pulse.bus.LocalCodec;
import com.chatroom.pulse.chat.ChatCommands.ChatFrame;
import com.chatroom.pulse.http.WsWire;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Predicate;

/**
 * Hands a room's messages to the edges strictly in sequence order. On one node they already come in order (the
 * registry publishes a room's posts one at a time); across nodes two publishes may cross on the bus, so a message
 * ahead of its predecessor waits up to {@link #REORDER_WAIT_MS} (and at most {@link Room#MAX_HELD} of them), then the
 * gap is read from history, and what history no longer has is skipped with a warning. Each message is serialized
 * once here for every edge instance. Registry context only.
 */
final class RoomOrdering {

  private static final Logger LOG = LoggerFactory.getLogger(RoomOrdering.class);
  /** How long a message waits for a missing predecessor before the gap is filled from history. */
  static final long REORDER_WAIT_MS = 200;

  private final Vertx vertx;
  private final ChatStore store;
  private final int historySize;
  private final Predicate<Room> current;
  private final Counter reordered;
  private final DeliveryOptions local = LocalCodec.local();
  private final Runnable dispatched;

  /** @param current whether a room is still the registry's (a removed room's pending gap fill is dropped) */
  RoomOrdering(Vertx vertx, ChatStore store, int historySize, Predicate<Room> current, Counter reordered, Runnable dispatched) {
    this.vertx = vertx;
    this.dispatched = dispatched;
    this.store = store;
    this.historySize = historySize;
    this.current = current;
    this.reordered = reordered;
  }

  void onMessage(Room room, ChatMessage m) {
    if (room.expected >= 0 && m.seq() < room.expected) {
      return; // already handed out (a copy from history filling a gap, or a redelivery)
    }
    if (room.expected >= 0 && m.seq() == room.expected) {
      deliver(room, m);
      drainHeld(room);
      return;
    }
    room.held.put(m.seq(), m);
    if (room.expected < 0) {
      return; // the first join is still reading where the room stands
    }
    reordered.increment();
    if (room.held.size() > Room.MAX_HELD) {
      fillGap(room);
    } else if (room.gapTimer < 0) {
      room.gapTimer = vertx.setTimer(REORDER_WAIT_MS, id -> {
        room.gapTimer = -1;
        fillGap(room);
      });
    }
  }

  /** The missing messages did not come live: read them from history; what history no longer has is skipped. */
  private void fillGap(Room room) {
    if (room.held.isEmpty() || !current.test(room)) {
      return;
    }
    long upTo = room.held.firstKey();
    store.since(room.name, room.expected - 1, (int) Math.min(historySize, upTo - room.expected)).onComplete(ar -> {
      if (ar.succeeded()) {
        ar.result().messages().stream().filter(m -> m.seq() >= room.expected && m.seq() < upTo).forEach(m -> deliver(room, m));
      }
      if (!room.held.isEmpty() && room.held.firstKey() > room.expected) {
        LOG.warn("Room {}: messages {}..{} never arrived and are not in history; skipping them", room.name, room.expected, room.held.firstKey() - 1);
        room.expected = room.held.firstKey();
      }
      drainHeld(room);
    });
  }

  void drainHeld(Room room) {
    while (!room.held.isEmpty() && room.held.firstKey() <= room.expected) {
      ChatMessage next = room.held.pollFirstEntry().getValue();
      if (next.seq() == room.expected) {
        deliver(room, next);
      }
    }
    if (room.held.isEmpty() && room.gapTimer >= 0) {
      vertx.cancelTimer(room.gapTimer);
      room.gapTimer = -1;
    }
  }

  private void deliver(Room room, ChatMessage m) {
    room.expected = m.seq() + 1;
    dispatched.run();
    vertx.eventBus().publish(Addresses.CHAT_DELIVER, new ChatFrame(room.name, m.seq(), WsWire.sharedTextFrame(m.toFrame().toBuffer()), m.receivedNanos()), local);
  }

}
