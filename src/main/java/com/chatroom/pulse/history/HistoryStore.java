package com.chatroom.pulse.history;

import com.chatroom.pulse.bus.PulseMessage;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Set;
import java.util.function.IntSupplier;

/**
 * Where history lives: raw samples, 1-minute and 1-hour rollups, per kind and instance. Implementations keep their
 * own retention (Redis by key TTL, memory by bounded rings), so no caller ever scans for old data. Calls are made
 * from the history verticle's context only.
 */
interface HistoryStore {

  /** Stores one raw sample. Completes when it is stored (a Redis store may hold it in its buffer first). */
  Future<Void> append(Kind kind, PulseMessage sample);

  /**
   * Recomputes the 1-minute rollup of {@code minuteStart} from the raw samples, then the 1-hour rollup that contains
   * it from its minutes. Idempotent: a late sample is taken into account by calling it again.
   */
  Future<Void> rollup(Kind kind, String instance, long minuteStart);

  /** Raw samples with from ≤ timestamp ≤ to, oldest first, at most {@code limit}. */
  Future<List<PulseMessage>> raw(Kind kind, String instance, double from, double to, int limit);

  /**
   * Rollups of {@code tier} (MINUTE or HOUR) whose start is in [from, to), oldest first, holding the given metrics
   * only ({@code null}: all of the kind's).
   */
  Future<List<Rollup>> rollups(Kind kind, String instance, Tier tier, long from, long to, Set<String> metrics);

  /** Instances with history of this kind, most recently seen first. */
  Future<List<String>> instances(Kind kind);

  /**
   * The optimizer's trim_caches: from now on each series keeps at most {@code floor} raw samples in this process's
   * memory ({@code -1}: back to the configured retention); rollups are kept. A store whose history lives elsewhere
   * (Redis, which expires it itself) ignores it.
   *
   * @return one task per series that cuts it to the floor now and returns the samples it dropped (so a caller can
   *         spread them over several turns of the event loop); none when released or not in memory
   */
  default List<IntSupplier> holdRaw(int floor) {
    return List.of();
  }

  /** {@code memory} or {@code redis}. */
  String backend();

  /** For readiness: state ({@code ok}, {@code degraded}), buffered writes, and what the buffer holds. */
  JsonObject health();

  /** Flushes what it can and releases connections. */
  Future<Void> close();
}
