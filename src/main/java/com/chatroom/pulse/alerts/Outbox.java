package com.chatroom.pulse.alerts;

import io.vertx.core.Future;

import java.util.List;
import java.util.Map;

/**
 * Each channel's undelivered notifications, kept where a restart cannot lose them. Written when a notification is
 * queued, removed when it was delivered, found already sent, suppressed or dead-lettered; read back at start and
 * queued again, in order, ahead of anything new. Without Redis there is nowhere to keep them ({@link #NONE}).
 * Writes never hold up the caller: they go out at once and are only waited for at {@link #close()}.
 */
interface Outbox {

  void add(String channel, Notification n);

  void remove(String channel, String key);

  /** Per channel, the notifications a previous run (or a peer) left, oldest first. */
  Future<Map<String, List<Notification>>> load(List<String> channels);

  /** Completes once the writes in flight have landed. */
  Future<Void> close();

  Outbox NONE = new Outbox() {
    @Override
    public void add(String channel, Notification n) {
    }

    @Override
    public void remove(String channel, String key) {
    }

    @Override
    public Future<Map<String, List<Notification>>> load(List<String> channels) {
      return Future.succeededFuture(Map.of());
    }

    @Override
    public Future<Void> close() {
      return Future.succeededFuture();
    }
  };
}
