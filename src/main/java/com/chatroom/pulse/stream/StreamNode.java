package com.chatroom.pulse.stream;

import com.chatroom.pulse.bus.PulseMessage;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Node-wide stream state shared by the stream verticle and every edge instance's {@link StreamFanout} (a local map
 * entry, thread-safe): what the optimizer asked of the stream, and the newest record of each (stream, instance).
 * The newest records are kept here rather than taken from the frames the edges receive because, while the stream is
 * throttled, frames reach the edges only once per window, and readiness and {@code /api/metrics/current} must still
 * see every sample as it comes.
 */
final class StreamNode implements Shareable {

  private static final String MAP = "pulse.stream";
  /** Records kept for {@link #latest}; the same bound as the edges' snapshot of frames. */
  static final int MAX_LATEST = 4096;

  /**
   * This node's instance id, so that the stream verticle (deployed without the configuration) can tell whether an
   * optimizer action is meant for this node. Set by the edges, which have the configuration.
   */
  final AtomicReference<String> instanceId = new AtomicReference<>();
  /** Subscribers silent for this long are closed (4001); 0: not reaping. */
  final AtomicLong idleSeconds = new AtomicLong();
  /** While the optimizer sheds load with a stream cap: new subscribers beyond it are refused (1013); -1: no cap. */
  final AtomicLong shedCap = new AtomicLong(-1);
  /** Samples are aggregated into one frame per instance per this window; 0: every sample is sent. */
  final AtomicLong throttleMs = new AtomicLong();
  /** The newest record per (stream, instance), written by the stream verticle only (it bounds the map). */
  final Map<String, PulseMessage> latest = new ConcurrentHashMap<>();

  static StreamNode of(Vertx vertx) {
    return (StreamNode) vertx.sharedData().getLocalMap(MAP).computeIfAbsent("node", k -> new StreamNode());
  }

  static String key(String stream, String instance) {
    return stream + '\u0000' + instance;
  }
}
