package com.chatroom.pulse.bench;

import io.vertx.core.Context;
import io.vertx.core.Future;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/** The bench clients' bridge from their main thread to a Vert.x context. */
final class Contexts {

  private Contexts() {
  }

  /** Runs {@code action} on {@code context} (its state is touched only there) and hands its result to the caller's thread. */
  static <T> CompletableFuture<T> call(Context context, Supplier<Future<T>> action) {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(v -> action.get().onComplete(ar -> {
      if (ar.succeeded()) {
        result.complete(ar.result());
      } else {
        result.completeExceptionally(ar.cause());
      }
    }));
    return result;
  }
}
