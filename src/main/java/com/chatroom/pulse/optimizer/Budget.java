package com.chatroom.pulse.optimizer;

import java.util.ArrayDeque;

/**
 * At most {@code max} actions in any sliding hour of sample time, over all rules. Dry-run decisions are held to the
 * same limit but counted apart, so a rule in dry run never uses up what live rules may do. Reverts are not counted.
 */
final class Budget {

  static final long HOUR_MS = 3_600_000;

  private final int max;
  private final ArrayDeque<Long> live = new ArrayDeque<>();
  private final ArrayDeque<Long> dry = new ArrayDeque<>();

  Budget(int max) {
    this.max = max;
  }

  boolean allows(boolean dryRun, long nowMs) {
    return used(dryRun, nowMs) < max;
  }

  void take(boolean dryRun, long nowMs) {
    window(dryRun, nowMs).addLast(nowMs);
  }

  int used(boolean dryRun, long nowMs) {
    return window(dryRun, nowMs).size();
  }

  int max() {
    return max;
  }

  /** Sample time at which the live budget has room again (now if it has). */
  long freeAtMs(long nowMs) {
    ArrayDeque<Long> w = window(false, nowMs);
    return w.size() < max || w.isEmpty() ? nowMs : w.peekFirst() + HOUR_MS;
  }

  private ArrayDeque<Long> window(boolean dryRun, long nowMs) {
    ArrayDeque<Long> w = dryRun ? dry : live;
    while (!w.isEmpty() && w.peekFirst() <= nowMs - HOUR_MS) {
      w.pollFirst();
    }
    return w;
  }
}
