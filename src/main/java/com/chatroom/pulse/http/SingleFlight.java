package com.chatroom.pulse.http;

import io.vertx.core.Future;

import java.util.function.Supplier;

/**
 * At most one computation in flight: callers that come while it runs share its result, and the first caller after
 * it ended starts a new one. Confined to one event loop (no locking).
 * <p>
 * The in-flight future is recorded before its completion listener is added. A computation that is already over
 * calls that listener at once, on this thread; had the listener been added first, clearing would run before the
 * recording, and that old result would be handed out forever.
 */
final class SingleFlight<T> {

  private Future<T> inFlight;

  Future<T> run(Supplier<Future<T>> start) {
    Future<T> current = inFlight;
    if (current != null) {
      return current;
    }
    Future<T> started = start.get();
    inFlight = started;
    started.onComplete(ar -> {
      if (inFlight == started) {
        inFlight = null;
      }
    });
    return started;
  }
}
