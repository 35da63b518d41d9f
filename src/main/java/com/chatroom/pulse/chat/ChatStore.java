package com.chatroom.pulse.chat;

import com.chatroom.pulse.bus.ChatMessage;
import io.vertx.core.Future;

import java.util.List;
import java.util.function.IntSupplier;

/**
 * Where a room's sequence number, recent history and de-duplication memory live: Redis when configured (shared by
 * every node, so sequence numbers are monotonic across the cluster), else this node's memory (this node is then the
 * single owner of every room). Used on the room registry's context only.
 */
interface ChatStore {

  /** A message to sequence. */
  record Draft(String room, String clientId, String userId, String userName, String text, double timestamp, String origin) {
  }

  /** The outcome: the room sequence number, and whether this (user, client id) was already sequenced. */
  record Posted(long seq, boolean duplicate) {
  }

  /**
   * Messages of a room, oldest first.
   *
   * @param messages       the messages asked for
   * @param lastSeq        the room's newest sequence number (0: nothing ever posted)
   * @param firstAvailable the oldest sequence number still in history (lastSeq + 1 when history is empty)
   */
  record History(List<ChatMessage> messages, long lastSeq, long firstAvailable) {
  }

  /** Sequences, stores and remembers a message; a repeated (room, user, client id) returns the first sequence number. */
  Future<Posted> post(Draft draft);

  /** Messages with a sequence number above {@code since}, at most {@code limit}, oldest first. */
  Future<History> since(String room, long since, int limit);

  /** The newest {@code count} messages, oldest first. */
  Future<History> latest(String room, int count);

  /**
   * The optimizer's trim_caches: from now on every room keeps at most {@code floor} messages in this process's memory
   * ({@code -1}: back to {@code chat.history_size}). A store whose history lives elsewhere (Redis, which bounds it with
   * MAXLEN and expiry) ignores it.
   *
   * @return one task per room that cuts it to the floor now and returns the messages it dropped (so a caller can
   *         spread them over several turns of the event loop); none when released or not in memory
   */
  default List<IntSupplier> holdBacklog(int floor) {
    return List.of();
  }

  String backend();

  Future<Void> close();
}
