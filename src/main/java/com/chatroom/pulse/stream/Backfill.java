package com.chatroom.pulse.stream;

import com.chatroom.pulse.bus.StreamFrame;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One subscriber's catch-up from history. While history is read and written out, live frames for the subscriber are
 * held (bounded); the history frames go out first, paced by the socket's write queue, then the held live frames
 * that history did not already contain. The seam has no gap (the newest live sample of each instance is seeded in,
 * in case its history write is still in flight) and no duplicate: a live sample is dropped only if history sent the
 * very same sample. Samples may share timestamps or arrive out of order, so the check compares the samples
 * themselves, among each instance's last {@link #SEAM_SECONDS} of history: only those can still be in flight live.
 */
final class Backfill {

  static final int MAX_HELD_LIVE = 10_000;
  static final double SEAM_SECONDS = 60;
  /** How long after the backfill live frames are still checked against it (a sample delayed on its way live). */
  static final long SEAM_GRACE_NANOS = 10_000_000_000L;

  private final ArrayDeque<Buffer> history = new ArrayDeque<>();
  /** Per (stream, instance): the data of the history samples near its newest, as JSON text. */
  private final Map<String, Set<String>> recentHistory = new HashMap<>();
  private final List<StreamFrame> heldLive = new ArrayList<>();
  private boolean loaded;
  private boolean truncated;
  private int historyFrames;
  private long seamEndsNanos;
  long droppedLive;

  void hold(StreamFrame frame) {
    if (heldLive.size() >= MAX_HELD_LIVE) {
      heldLive.remove(0);
      droppedLive++;
    }
    heldLive.add(frame);
  }

  /** Takes the history reply: {@code frames} of [stream, instance, timestamp, frame text, data text], oldest first. */
  void load(JsonObject reply) {
    JsonArray frames = reply.getJsonArray("frames");
    Map<String, Double> newest = new HashMap<>();
    for (int i = 0; i < frames.size(); i++) {
      JsonArray f = frames.getJsonArray(i);
      newest.merge(key(f.getString(0), f.getString(1)), f.getDouble(2), Math::max);
      history.add(Buffer.buffer(f.getString(3)));
    }
    for (int i = 0; i < frames.size(); i++) {
      JsonArray f = frames.getJsonArray(i);
      String key = key(f.getString(0), f.getString(1));
      if (f.getDouble(2) >= newest.get(key) - SEAM_SECONDS) {
        recentHistory.computeIfAbsent(key, k -> new HashSet<>()).add(f.getString(4));
      }
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

  /** The held live frames that history did not already send, in arrival order; starts the grace period. */
  List<StreamFrame> liveAfterSeam() {
    seamEndsNanos = System.nanoTime() + SEAM_GRACE_NANOS;
    List<StreamFrame> out = new ArrayList<>(heldLive.size());
    for (StreamFrame frame : heldLive) {
      if (!alreadySent(frame)) {
        out.add(frame);
      }
    }
    heldLive.clear();
    return out;
  }

  /** True while a live frame may still be one that history sent. */
  boolean inGrace() {
    return System.nanoTime() < seamEndsNanos;
  }

  boolean alreadySent(StreamFrame frame) {
    Set<String> recent = recentHistory.get(key(frame.stream(), frame.instance()));
    return recent != null && frame.source() != null && recent.contains(frame.source().toJson().encode());
  }

  JsonObject doneFrame() {
    return new JsonObject().put("type", "backfill_done").put("frames", historyFrames).put("truncated", truncated);
  }

  private static String key(String stream, String instance) {
    return stream + '\u0000' + instance;
  }
}
