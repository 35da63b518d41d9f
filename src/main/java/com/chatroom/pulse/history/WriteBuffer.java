package com.chatroom.pulse.history;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The Redis store's ordered, bounded write queue. One batch is in flight at a time: consecutive plain writes are
 * pipelined together (up to {@link #MAX_BATCH} operations), a compound operation (a rollup reads then writes) runs
 * alone, in order. When Redis fails, the head stays queued, the buffer reports itself degraded, and it retries with
 * exponential backoff (100 ms doubling to 5 s); writes keep arriving and queue behind. When the buffer is full the
 * oldest operation is dropped and counted: the pipeline never waits on Redis. Used on one context only.
 */
final class WriteBuffer {

  private static final Logger LOG = LoggerFactory.getLogger(WriteBuffer.class);
  static final int MAX_BATCH = 128;
  private static final long MIN_BACKOFF_MS = 100;
  private static final long MAX_BACKOFF_MS = 5000;

  /** A queued write: plain commands, or a compound action run alone. */
  private record Op(List<Request> requests, Supplier<Future<?>> action, Promise<Void> done) {
  }

  private final Vertx vertx;
  private final Redis client;
  private final int capacity;
  private final ArrayDeque<Op> queue = new ArrayDeque<>();
  private boolean inFlight;
  private boolean retryScheduled;
  private long backoffMs = MIN_BACKOFF_MS;
  private boolean degraded;
  private String lastError;
  private long dropped;
  private long written;
  private boolean closed;

  WriteBuffer(Vertx vertx, Redis client, int capacity) {
    this.vertx = vertx;
    this.client = client;
    this.capacity = capacity;
  }

  Future<Void> write(List<Request> requests) {
    return enqueue(new Op(requests, null, Promise.promise()));
  }

  Future<Void> run(Supplier<Future<?>> action) {
    return enqueue(new Op(null, action, Promise.promise()));
  }

  private Future<Void> enqueue(Op op) {
    if (closed) {
      return Future.failedFuture("history store closed");
    }
    if (queue.size() >= capacity) {
      Op oldest = queue.pollFirst();
      dropped++;
      oldest.done().tryFail("dropped: the history write buffer (" + capacity + " operations) was full");
    }
    queue.addLast(op);
    pump();
    return op.done().future();
  }

  int size() {
    return queue.size();
  }

  long dropped() {
    return dropped;
  }

  long written() {
    return written;
  }

  boolean degraded() {
    return degraded;
  }

  JsonObject health() {
    return new JsonObject().put("state", degraded ? "degraded" : "ok").put("buffered", queue.size())
      .put("capacity", capacity).put("dropped", dropped).put("last_error", degraded ? lastError : null);
  }

  /** Resolves when everything queued now has been written, or after {@code timeoutMs}. */
  Future<Void> drain(long timeoutMs) {
    if (queue.isEmpty() && !inFlight) {
      return Future.succeededFuture();
    }
    Promise<Void> drained = Promise.promise();
    Op last = queue.peekLast();
    if (last != null) {
      last.done().future().onComplete(x -> drained.tryComplete());
    }
    vertx.setTimer(timeoutMs, id -> drained.tryComplete());
    return drained.future();
  }

  /** Stops writing: what is still queued fails (it is lost unless Redis persisted it already). */
  void close() {
    closed = true;
    Op op;
    while ((op = queue.pollFirst()) != null) {
      op.done().tryFail("history store closed before this write reached Redis");
    }
  }

  private void pump() {
    if (closed || inFlight || retryScheduled || queue.isEmpty()) {
      return;
    }
    inFlight = true;
    List<Op> batch = new ArrayList<>();
    Future<?> execution;
    if (queue.peekFirst().action() != null) {
      batch.add(queue.peekFirst());
      execution = queue.peekFirst().action().get();
    } else {
      List<Request> requests = new ArrayList<>();
      for (Op op : queue) {
        if (op.action() != null || batch.size() == MAX_BATCH) {
          break;
        }
        batch.add(op);
        requests.addAll(op.requests());
      }
      execution = client.batch(requests);
    }
    execution.onComplete(ar -> {
      inFlight = false;
      if (ar.succeeded()) {
        onWritten(batch);
      } else {
        onFailure(ar.cause());
      }
    });
  }

  private void onWritten(List<Op> batch) {
    for (Op op : batch) {
      // the op may have been dropped meanwhile by a full buffer; remove it only if still queued
      if (queue.peekFirst() == op) {
        queue.pollFirst();
      }
      op.done().tryComplete();
    }
    written += batch.size();
    if (degraded) {
      LOG.info("History store reachable again: flushing {} buffered writes", queue.size());
    }
    degraded = false;
    backoffMs = MIN_BACKOFF_MS;
    pump();
  }

  private void onFailure(Throwable cause) {
    if (!degraded) {
      LOG.warn("History store unreachable ({}): buffering writes, up to {}", cause.toString(), capacity);
    }
    degraded = true;
    lastError = cause.toString();
    retryScheduled = true;
    vertx.setTimer(backoffMs, id -> {
      retryScheduled = false;
      pump();
    });
    backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
  }
}
