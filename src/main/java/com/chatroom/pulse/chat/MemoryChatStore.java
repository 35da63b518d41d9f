package com.chatroom.pulse.chat;

import com.chatroom.pulse.bus.ChatMessage;
import com.chatroom.pulse.config.ChatConfig;
import io.vertx.core.Future;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.function.Predicate;

/**
 * Rooms in this process's memory: this node is the single owner of every room's sequence. Bounded: at most
 * {@code max_rooms} rooms (the least recently used room without members goes first, with its history), at most
 * {@code history_size} messages per room, at most {@link #MAX_DEDUP} remembered ids per room (and none older than
 * {@code dedup_seconds}).
 */
final class MemoryChatStore implements ChatStore {

  static final int MAX_DEDUP = 10_000;

  private final ChatConfig config;
  private final Predicate<String> inUse;
  private final LinkedHashMap<String, Room> rooms = new LinkedHashMap<>(16, 0.75f, true);
  /** Messages a room keeps: {@code history_size}, or the optimizer's floor while trim_caches holds. */
  private int backlog;

  private static final class Room {
    long seq;
    final ArrayDeque<ChatMessage> history = new ArrayDeque<>();
    /** user + id → {seq, expiry in ms}, oldest first. */
    final LinkedHashMap<String, long[]> seen = new LinkedHashMap<>();
  }

  /** @param inUse whether a room still has members somewhere on this node (such a room is never evicted) */
  MemoryChatStore(ChatConfig config, Predicate<String> inUse) {
    this.config = config;
    this.inUse = inUse;
    this.backlog = config.historySize();
  }

  @Override
  public List<IntSupplier> holdBacklog(int floor) {
    backlog = floor < 0 ? config.historySize() : Math.min(floor, config.historySize());
    // the rooms themselves, not their names: a lookup in this access-ordered map would count as a use of the room
    List<IntSupplier> trims = new ArrayList<>(floor < 0 ? 0 : rooms.size());
    if (floor >= 0) {
      rooms.values().forEach(room -> trims.add(() -> cut(room)));
    }
    return trims;
  }

  /** Drops a room's oldest messages beyond the backlog in force; sequence numbers and de-duplication stay. */
  private int cut(Room room) {
    int dropped = 0;
    while (room.history.size() > backlog) {
      room.history.pollFirst();
      dropped++;
    }
    return dropped;
  }

  @Override
  public Future<Posted> post(Draft d) {
    Room room = rooms.get(d.room());
    if (room == null) {
      if (rooms.size() >= config.maxRooms() && !evictOne()) {
        return Future.failedFuture(new ChatError("too_many_rooms", "room",
          "this node already holds " + config.maxRooms() + " rooms in use"));
      }
      room = new Room();
      rooms.put(d.room(), room);
    }
    long now = System.currentTimeMillis();
    String key = d.userId() + '\u0000' + d.clientId();
    expire(room, now);
    long[] earlier = room.seen.get(key);
    if (earlier != null) {
      return Future.succeededFuture(new Posted(earlier[0], true));
    }
    long seq = ++room.seq;
    room.history.addLast(new ChatMessage(d.room(), seq, d.clientId(), d.userId(), d.userName(), d.text(), d.timestamp(), d.origin(), 0));
    cut(room);
    room.seen.put(key, new long[] {seq, now + config.dedupSeconds() * 1000});
    if (room.seen.size() > MAX_DEDUP) {
      Iterator<long[]> it = room.seen.values().iterator();
      it.next();
      it.remove();
    }
    return Future.succeededFuture(new Posted(seq, false));
  }

  @Override
  public Future<History> since(String name, long since, int limit) {
    Room room = rooms.get(name);
    if (room == null) {
      return Future.succeededFuture(new History(List.of(), 0, 1));
    }
    List<ChatMessage> out = new ArrayList<>();
    for (ChatMessage m : room.history) {
      if (m.seq() > since && out.size() < limit) {
        out.add(m);
      }
    }
    return Future.succeededFuture(history(room, out));
  }

  @Override
  public Future<History> latest(String name, int count) {
    Room room = rooms.get(name);
    if (room == null) {
      return Future.succeededFuture(new History(List.of(), 0, 1));
    }
    List<ChatMessage> all = new ArrayList<>(room.history);
    return Future.succeededFuture(history(room, all.subList(Math.max(0, all.size() - count), all.size())));
  }

  private static History history(Room room, List<ChatMessage> messages) {
    long first = room.history.isEmpty() ? room.seq + 1 : room.history.peekFirst().seq();
    return new History(List.copyOf(messages), room.seq, first);
  }

  private static void expire(Room room, long now) {
    Iterator<long[]> it = room.seen.values().iterator();
    while (it.hasNext() && it.next()[1] < now) {
      it.remove();
    }
  }

  private boolean evictOne() {
    Iterator<Map.Entry<String, Room>> it = rooms.entrySet().iterator();
    while (it.hasNext()) {
      if (!inUse.test(it.next().getKey())) {
        it.remove();
        return true;
      }
    }
    return false;
  }

  @Override
  public String backend() {
    return "memory";
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture();
  }
}
