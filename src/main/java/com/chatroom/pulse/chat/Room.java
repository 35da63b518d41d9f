package com.chatroom.pulse.chat;

import com.chatroom.pulse.bus.ChatMessage;
import com.chatroom.pulse.bus.ChatPresence.Member;
import io.vertx.core.Future;
import io.vertx.core.eventbus.MessageConsumer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The room registry's view of one room that has members on this node: its single cluster subscription, the
 * delivery order (messages go to the edges strictly by sequence number, even when two nodes' publishes cross), the
 * members here and elsewhere, and the presence changes waiting to be announced. Registry context only.
 */
final class Room {

  /** Out-of-order messages held while waiting for the missing ones; beyond it the gap is filled from history at once. */
  static final int MAX_HELD = 1024;

  final String name;
  MessageConsumer<Object> consumer;
  Future<Void> subscribed;
  /** The next sequence number to hand to the edges; -1 until the first join has read where the room stands. */
  long expected = -1;
  final TreeMap<Long, ChatMessage> held = new TreeMap<>();
  long gapTimer = -1;
  int localConnections;
  /** Users connected here: id → connections in the room. */
  final Map<String, int[]> localCounts = new HashMap<>();
  final Map<String, Member> localMembers = new HashMap<>();
  /** Users on other nodes, learned from their presence batches: origin → id → member. */
  final Map<String, Map<String, Member>> remote = new HashMap<>();
  final LinkedHashMap<String, Member> joinedBatch = new LinkedHashMap<>();
  final LinkedHashMap<String, Member> leftBatch = new LinkedHashMap<>();
  long presenceTimer = -1;
  /** Full member lists this node published in answer to a sync, until they come back to it (by reference). */
  final java.util.Set<Object> answers = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

  Room(String name) {
    this.name = name;
  }

  /** @return true if this is the user's first connection in the room on this node */
  boolean addLocal(Member member) {
    int[] count = localCounts.computeIfAbsent(member.id(), k -> new int[1]);
    localConnections++;
    if (count[0]++ == 0) {
      localMembers.put(member.id(), member);
      // the batch holds the member's latest state (see removeLocal): peers ignore a join they already know
      leftBatch.remove(member.id());
      joinedBatch.put(member.id(), member);
      return true;
    }
    return false;
  }

  /** @return true if this was the user's last connection in the room on this node */
  boolean removeLocal(Member member) {
    int[] count = localCounts.get(member.id());
    if (count == null) {
      return false;
    }
    localConnections--;
    if (--count[0] > 0) {
      return false;
    }
    localCounts.remove(member.id());
    localMembers.remove(member.id());
    // a join still in the batch is dropped, but the leave is always announced: the other nodes may have learned of
    // the member already, from this node's sync request or its answer to theirs (both list local members at once),
    // and a leave they never heard the join of changes nothing there (applyRemote is idempotent)
    joinedBatch.remove(member.id());
    leftBatch.put(member.id(), member);
    return true;
  }

  /**
   * Applies another node's batch (idempotent: a full list in answer to a sync repeats known members).
   *
   * @return the members that really joined ([0]) and left ([1]) as far as this node knew
   */
  List<List<Member>> applyRemote(String origin, List<Member> joined, List<Member> left) {
    Map<String, Member> members = remote.computeIfAbsent(origin, o -> new HashMap<>());
    List<Member> added = new ArrayList<>();
    List<Member> removed = new ArrayList<>();
    joined.forEach(m -> {
      if (members.put(m.id(), m) == null) {
        added.add(m);
      }
    });
    left.forEach(m -> {
      if (members.remove(m.id()) != null) {
        removed.add(m);
      }
    });
    if (members.isEmpty()) {
      remote.remove(origin);
    }
    return List.of(added, removed);
  }

  /**
   * Forgets every member learned from {@code origin}, a node that left the cluster without saying so (killed, or cut
   * off by the network).
   *
   * @return those of its members no longer in the room at all: not connected here and not known on another node
   */
  List<Member> dropOrigin(String origin) {
    Map<String, Member> members = remote.remove(origin);
    if (members == null) {
      return List.of();
    }
    List<Member> gone = new ArrayList<>();
    members.values().forEach(m -> {
      if (!localMembers.containsKey(m.id()) && remote.values().stream().noneMatch(other -> other.containsKey(m.id()))) {
        gone.add(m);
      }
    });
    return gone;
  }

  /** Distinct users in the room, here and on the nodes this node has heard from. */
  int memberCount() {
    if (remote.isEmpty()) {
      return localMembers.size();
    }
    Set<String> ids = new HashSet<>(localMembers.keySet());
    remote.values().forEach(m -> ids.addAll(m.keySet()));
    return ids.size();
  }

  /** Every member, local first, or null when the room has more than {@code max}. */
  List<Member> memberList(int max) {
    if (memberCount() > max) {
      return null;
    }
    Map<String, Member> all = new LinkedHashMap<>(localMembers);
    remote.values().forEach(m -> m.values().forEach(member -> all.putIfAbsent(member.id(), member)));
    return new ArrayList<>(all.values());
  }
}
