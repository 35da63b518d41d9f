package com.chatroom.pulse.stream;

import com.chatroom.pulse.bus.StreamFrame;
import com.chatroom.pulse.http.WsWire;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One WebSocket subscriber and its delivery state, touched only on its edge instance's event loop.
 * While its write queue is full, samples coalesce to the newest per (stream, instance) and events wait in a
 * bounded queue; when it drains, the client is told how many frames it missed, then gets what is pending.
 * Every data frame goes straight to the socket's channel ({@link WsWire}): shared frames as duplicates of one
 * encoding, answers encoded for this socket alone; only the close frame goes through Vert.x.
 */
final class Subscriber {

  /** Distinct (stream, instance) samples held for one blocked subscriber; beyond it the oldest is dropped. */
  static final int MAX_COALESCED = 1024;

  final ServerWebSocket ws;
  final Channel channel;
  final TokenBucket inbound;
  int index;
  /** Non-null while the subscriber catches up from history; live frames are held meanwhile. */
  Backfill backfill;
  /** The finished backfill, kept for a short grace period to drop live frames that history already sent. */
  Backfill seam;
  /** Error frames not written because the socket was full; reported in one frame when it drains. */
  long suppressedErrors;
  /** Set once the server closes the subscriber (abuse, idle, shutdown): nothing is read from it or written to it. */
  boolean closing;
  int violations;
  long violationWindowStart = System.nanoTime();
  /** When the client last sent a frame of its own (text, or a pong); the optimizer's reap_idle closes silent ones. */
  long lastInboundNanos = System.nanoTime();

  /** null: every stream / every instance. */
  private Set<String> streams;
  private Set<String> instances;

  private boolean blocked;
  /** Frames held while blocked, in arrival order: coalescing keys for samples, sequence numbers for events. */
  private LinkedHashMap<Object, StreamFrame> pending;
  private int pendingEvents;
  private long eventSeq;
  private long skippedSinceNotice;
  private long skippedTotal;

  Subscriber(ServerWebSocket ws, Channel channel, TokenBucket inbound) {
    this.ws = ws;
    this.channel = channel;
    this.inbound = inbound;
  }

  /** Whether the socket's outbound buffer is past its high water mark ({@code stream.write_queue_bytes}). */
  boolean full() {
    return WsWire.full(channel);
  }

  /** Writes an encoded frame ({@link WsWire#textFrame}), shared or not. */
  void send(ByteBuf frame) {
    WsWire.write(channel, frame);
  }

  /** Writes one JSON text frame meant for this subscriber alone. */
  void sendText(String json) {
    WsWire.write(channel, WsWire.textFrame(Buffer.buffer(json)));
  }

  boolean wants(StreamFrame frame) {
    return matches(streams, instances, frame);
  }

  static boolean matches(Set<String> streams, Set<String> instances, StreamFrame frame) {
    if (Streams.NOTICE.equals(frame.stream())) {
      return streams == null || streams.contains(Streams.SYSTEM) || streams.contains(Streams.APP);
    }
    return (streams == null || streams.contains(frame.stream()))
      && (instances == null || instances.contains(frame.instance()));
  }

  Set<String> streamsFilter() {
    return streams;
  }

  Set<String> instancesFilter() {
    return instances;
  }

  void filter(Set<String> streams, Set<String> instances) {
    this.streams = streams;
    this.instances = instances;
  }

  /**
   * Writes the frame now, or holds it if the socket cannot take more.
   *
   * @return frames skipped by this call (a held sample replaced, an event dropped from a full queue)
   */
  int offer(StreamFrame frame, int maxPendingEvents) {
    return offer(frame, null, maxPendingEvents);
  }

  /**
   * Like {@link #offer(StreamFrame, int)}, with the frame already encoded for the wire (shared by every subscriber
   * of this edge instance), or null to encode it here.
   */
  int offer(StreamFrame frame, ByteBuf wire, int maxPendingEvents) {
    if (closing || !channel.isActive()) {
      // closed, but its close handler has not run yet: nothing to write, nothing to hold (the channel's state rather
      // than ws.isClosed(), which takes the WebSocket's lock, once per subscriber of every frame)
      return 0;
    }
    if (!blocked) {
      if (!full()) {
        send(wire != null ? wire : WsWire.textFrame(frame.payload()));
        return 0;
      }
      blocked = true;
    }
    return hold(frame, maxPendingEvents);
  }

  /** Called when the socket drained: the skip notice first, then everything held, until it is full again. */
  int drain(int maxPendingEvents) {
    if (!blocked || closing || !channel.isActive()) {
      return 0;
    }
    blocked = false;
    int written = 0;
    if (skippedSinceNotice > 0) {
      sendText(new JsonObject().put("type", "skipped").put("count", skippedSinceNotice)
        .put("total", skippedTotal).encode());
      skippedSinceNotice = 0;
    }
    if (pending == null) {
      return written;
    }
    Iterator<Map.Entry<Object, StreamFrame>> it = pending.entrySet().iterator();
    while (it.hasNext()) {
      if (full()) {
        blocked = true;
        return written;
      }
      Map.Entry<Object, StreamFrame> entry = it.next();
      it.remove();
      if (entry.getKey() instanceof Long) {
        pendingEvents--;
      }
      send(WsWire.textFrame(entry.getValue().payload()));
      written++;
    }
    pending = null;
    return written;
  }

  boolean blocked() {
    return blocked;
  }

  long skippedTotal() {
    return skippedTotal;
  }

  private int hold(StreamFrame frame, int maxPendingEvents) {
    if (pending == null) {
      pending = new LinkedHashMap<>();
    }
    int skipped = 0;
    if (frame.coalesce()) {
      String key = frame.stream() + '\u0000' + frame.instance();
      // remove first, so the newest value moves to the end and keeps arrival order
      if (pending.remove(key) != null) {
        skipped++;
      }
      pending.put(key, frame);
      if (pending.size() - pendingEvents > MAX_COALESCED) {
        skipped += dropOldest(String.class);
      }
    } else {
      pending.put(eventSeq++, frame);
      if (++pendingEvents > maxPendingEvents) {
        skipped += dropOldest(Long.class);
      }
    }
    skippedSinceNotice += skipped;
    skippedTotal += skipped;
    return skipped;
  }

  private int dropOldest(Class<?> keyType) {
    Iterator<Object> keys = pending.keySet().iterator();
    while (keys.hasNext()) {
      if (keyType.isInstance(keys.next())) {
        keys.remove();
        if (keyType == Long.class) {
          pendingEvents--;
        }
        return 1;
      }
    }
    return 0;
  }
}
