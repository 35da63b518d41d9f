package com.chatroom.pulse.alerts;

import io.vertx.core.Future;

/**
 * A channel's last look before sending, at shared state a peer may have changed a moment ago (a silence, an
 * acknowledgement) and this node may not have heard of yet. Without Redis there is no such state: {@link #OPEN}.
 */
interface Gate {

  /** @return null to send; otherwise why not ({@code silenced}, {@code acknowledged}) */
  Future<String> suppressedBy(Notification n);

  Gate OPEN = n -> Future.succeededFuture(null);
}
