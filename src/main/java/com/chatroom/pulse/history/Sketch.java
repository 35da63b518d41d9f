package com.chatroom.pulse.history;

import java.util.Map;
import java.util.TreeMap;

/**
 * A mergeable quantile sketch with 1% relative accuracy (the DDSketch scheme): a value v > 0 falls in bucket
 * ceil(log_γ v) with γ = (1+α)/(1−α), α = 0.01, and a bucket is reported as 2γ^i/(γ+1), within α of every value
 * in it. Values at or below {@link #ZERO_LIMIT} share one zero bucket. Merging adds counts, so a day's p95 comes
 * from the merged minute (or hour) sketches with the same guarantee. Not thread-safe.
 */
final class Sketch {

  static final double ALPHA = 0.01;
  static final double GAMMA = (1 + ALPHA) / (1 - ALPHA);
  private static final double LOG_GAMMA = Math.log(GAMMA);
  static final double ZERO_LIMIT = 1e-6;
  private static final int ZERO = Integer.MIN_VALUE;

  private final TreeMap<Integer, Long> buckets = new TreeMap<>();
  private long count;

  void add(double value) {
    addCount(index(value), 1);
  }

  void merge(Sketch other) {
    other.buckets.forEach(this::addCount);
  }

  long count() {
    return count;
  }

  /**
   * The q-quantile by nearest rank, within 1% of the true sample value; clamped to [min, max] since the bucket's
   * representative value may lie just outside the values seen.
   */
  double quantile(double q, double min, double max) {
    if (count == 0) {
      return Double.NaN;
    }
    long rank = Math.max(1, (long) Math.ceil(q * count));
    long seen = 0;
    for (Map.Entry<Integer, Long> bucket : buckets.entrySet()) {
      seen += bucket.getValue();
      if (seen >= rank) {
        double estimate = bucket.getKey() == ZERO ? 0 : 2 * Math.pow(GAMMA, bucket.getKey()) / (GAMMA + 1);
        return Math.max(min, Math.min(max, estimate));
      }
    }
    return max;
  }

  /** Compact text: "index:count" pairs separated by spaces, "z" for the zero bucket. */
  String encode() {
    StringBuilder sb = new StringBuilder(buckets.size() * 7);
    buckets.forEach((index, n) -> {
      if (sb.length() > 0) {
        sb.append(' ');
      }
      sb.append(index == ZERO ? "z" : Integer.toString(index)).append(':').append(n);
    });
    return sb.toString();
  }

  static Sketch decode(String text) {
    Sketch sketch = new Sketch();
    int i = 0;
    int n = text.length();
    while (i < n) {
      int colon = text.indexOf(':', i);
      int end = text.indexOf(' ', colon);
      if (end < 0) {
        end = n;
      }
      int index = text.charAt(i) == 'z' ? ZERO : Integer.parseInt(text, i, colon, 10);
      sketch.addCount(index, Long.parseLong(text, colon + 1, end, 10));
      i = end + 1;
    }
    return sketch;
  }

  private void addCount(int index, long n) {
    buckets.merge(index, n, Long::sum);
    count += n;
  }

  private static int index(double value) {
    return value <= ZERO_LIMIT ? ZERO : (int) Math.ceil(Math.log(value) / LOG_GAMMA);
  }
}
