package com.chatroom.pulse.reliability;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waiting without sleeping, for the reliability scenarios that run their steps in sequence on the test thread: a
 * condition polled on a Vert.x timer, and a future awaited with a deadline (never on an event loop).
 */
public final class Waits {

  private Waits() {
  }

  /** Completes when {@code done} holds (checked every 20 ms on a Vert.x timer); fails after {@code timeoutMs} with {@code what}. */
  public static Future<Void> until(Vertx vertx, BooleanSupplier done, long timeoutMs, Supplier<String> what) {
    Promise<Void> result = Promise.promise();
    long deadline = System.currentTimeMillis() + timeoutMs;
    long timer = vertx.setPeriodic(20, id -> {
      if (done.getAsBoolean()) {
        result.tryComplete();
      } else if (System.currentTimeMillis() > deadline) {
        result.tryFail("not within " + timeoutMs + " ms: " + what.get());
      }
    });
    return result.future().onComplete(x -> vertx.cancelTimer(timer));
  }

  /** Completes with the first non-null result of {@code attempt}, retried every 100 ms until {@code timeoutMs}. */
  static <T> Future<T> poll(Vertx vertx, Supplier<Future<T>> attempt, long timeoutMs, Supplier<String> what) {
    Promise<T> result = Promise.promise();
    poll(vertx, attempt, System.currentTimeMillis() + timeoutMs, result, what);
    return result.future();
  }

  private static <T> void poll(Vertx vertx, Supplier<Future<T>> attempt, long deadline, Promise<T> result, Supplier<String> what) {
    attempt.get().onComplete(ar -> {
      if (ar.succeeded() && ar.result() != null) {
        result.tryComplete(ar.result());
      } else if (System.currentTimeMillis() > deadline) {
        result.tryFail("gave up: " + what.get() + (ar.failed() ? " (" + ar.cause() + ")" : ""));
      } else {
        vertx.setTimer(100, id -> poll(vertx, attempt, deadline, result, what));
      }
    });
  }

  /** Blocks the test thread (never an event loop) until the future completes; its failure becomes an AssertionError. */
  static <T> T await(Future<T> future, long timeoutMs, String what) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError(what + ": " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError(what + ": not within " + timeoutMs + " ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(what + ": interrupted");
    }
  }
}
