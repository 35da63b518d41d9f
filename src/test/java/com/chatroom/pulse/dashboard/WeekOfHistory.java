package com.chatroom.pulse.dashboard;

import com.chatroom.pulse.Samples;
import com.chatroom.pulse.bus.SystemMetrics;

/**
 * A week of history for a set of instances, written through the real address as their samplers would have: one
 * sample every {@code everySeconds} per instance for seven days (history rolls each minute up, then each hour from its
 * minutes; the benchmarks write one a minute, the functional test one every ten), then one a second for the last 15
 * minutes (what the page backfills on open). CPU stays under the test rule's 80 %
 * threshold so that no alert fires from the past. Samples go out in chunks of a simulated day, each waited for, so
 * the event loop's queue stays bounded.
 */
final class WeekOfHistory {

  static final int DAYS = 7;
  private static final int RAW_TAIL_SECONDS = 900;
  /** Where the memory and disk creep starts: a day before the oldest seeded sample. */
  private static final double ORIGIN = Math.floor(System.currentTimeMillis() / 86_400_000d) * 86_400 - (DAYS + 1) * 86_400d;
  /** Time steps written between two waits for the history verticle. */
  private static final int CHUNK = 1440;

  private WeekOfHistory() {
  }

  static String instance(int i) {
    return "pod-" + i;
  }

  /** @return samples written */
  static long seed(DashboardNode node, int instances, double now, int everySeconds) throws Exception {
    double start = Math.floor((now - DAYS * 86_400d) / 3600) * 3600;
    double rawFrom = Math.floor(now) - RAW_TAIL_SECONDS;
    long written = 0;
    long inChunk = 0;
    for (double t = start; t < rawFrom; t += everySeconds) {
      for (int i = 0; i < instances; i++) {
        node.publish(sample(i, written++, t));
      }
      if (++inChunk == CHUNK) {
        node.historyBarrier();
        inChunk = 0;
      }
    }
    node.historyBarrier();
    for (double t = rawFrom; t < now - 1; t += 1) {
      for (int i = 0; i < instances; i++) {
        node.publish(sample(i, written++, t + i * 0.05));
      }
    }
    node.historyBarrier();
    return written;
  }

  /**
   * CPU: a daily cycle plus a ten-minute ripple, different per instance, between 5 % and 65 %. Memory and disk creep
   * up by 1 % and 0.5 % a day, so the summary has trends and forecasts to show.
   */
  static SystemMetrics sample(int i, long seq, double t) {
    double cpu = 35 + 25 * Math.sin(2 * Math.PI * t / 86_400 + i) + 5 * Math.sin(t / 600 + i);
    double days = (t - ORIGIN) / 86_400;
    return Samples.at(instance(i), seq, t, cpu, 40 + i + days, 55 + i * 0.5 + days / 2);
  }
}
