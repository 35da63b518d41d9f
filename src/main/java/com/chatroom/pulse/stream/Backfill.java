package com.chatroom.pulse.stream;

import com.chatroom.pulse.bus.ApplicationMetrics;
import com.chatroom.pulse.bus.StreamFrame;
import com.chatroom.pulse.bus.SystemMetrics;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One subscriber's catch-up from history. While history is read and written out, live frames for the subscriber are
 * held (bounded); the history frames go out first, paced by the socket's write queue, then the held live frames
 * that history did not already contain. The seam has no gap (the newest live sample of each instance is seeded in,
 * in case its history write is still in flight) and no duplicate (a live sample at or before the newest history
 * sample of its instance is skipped).
 */
final class Backfill {

  static final int MAX_HELD_LIVE = 10_000;

  private final ArrayDeque<Buffer> history = new ArrayDeque<>();
  private final Map<String, Double> newestHistory = new HashMap<>();
  private final List<StreamFrame> heldLive = new ArrayList<>();
  private boolean loaded;
  private boolean truncated;
  private int historyFrames;
  long droppedLive;

  void hold(StreamFrame frame) {
    if (heldLive.size() >= MAX_HELD_LIVE) {
      heldLive.remove(0);
      droppedLive++;
    }
    heldLive.add(frame);
  }

  /** Takes the history reply: {@code frames} of [stream, instance, timestamp, frame text], oldest first. */
  void load(JsonObject reply) {
    JsonArray frames = reply.getJsonArray("frames");
    for (int i = 0; i < frames.size(); i++) {
      JsonArray f = frames.getJsonArray(i);
      newestHistory.merge(f.getString(0) + '\u0000' + f.getString(1), f.getDouble(2), Math::max);
      history.add(Buffer.buffer(f.getString(3)));
    }
    historyFrames = frames.size();
    truncated = reply.getBoolean("truncated", false);
    loaded = true;
  }

  /** History could not be read: go live with what was held. */
  void loadNothing() {
    loaded = true;
  }

  boolean loaded() {
    return loaded;
  }

  Buffer nextHistoryFrame() {
    return history.pollFirst();
  }

  boolean historyWritten() {
    return loaded && history.isEmpty();
  }

  /** The held live frames not already sent from history, in arrival order. */
  List<StreamFrame> liveAfterSeam() {
    List<StreamFrame> out = new ArrayList<>(heldLive.size());
    for (StreamFrame frame : heldLive) {
      Double newest = newestHistory.get(frame.stream() + '\u0000' + frame.instance());
      double ts = timestamp(frame);
      if (newest == null || Double.isNaN(ts) || ts > newest) {
        out.add(frame);
      }
    }
    return out;
  }

  JsonObject doneFrame() {
    return new JsonObject().put("type", "backfill_done").put("frames", historyFrames).put("truncated", truncated);
  }

  private static double timestamp(StreamFrame frame) {
    if (frame.source() instanceof SystemMetrics s) {
      return s.timestamp();
    }
    if (frame.source() instanceof ApplicationMetrics a) {
      return a.timestamp();
    }
    return Double.NaN;
  }
}
