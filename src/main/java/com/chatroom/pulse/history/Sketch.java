package com.chatroom.pulse.history;

/**
 * A mergeable quantile sketch with 1% relative accuracy (the DDSketch scheme): a value v > 0 falls in bucket
 * ceil(log_γ v) with γ = (1+α)/(1−α), α = 0.01, and a bucket is reported as 2γ^i/(γ+1), within α of every value
 * in it. Values at or below {@link #ZERO_LIMIT} share one zero bucket. Merging adds counts, so a day's p95 comes
 * from the merged minute (or hour) sketches with the same guarantee. Buckets are a dense array over the indices
 * seen (a minute of one metric spans a few dozen), so merging is an array addition. Not thread-safe.
 */
final class Sketch {

  static final double ALPHA = 0.01;
  static final double GAMMA = (1 + ALPHA) / (1 - ALPHA);
  private static final double LOG_GAMMA = Math.log(GAMMA);
  static final double ZERO_LIMIT = 1e-6;

  /** counts[i] is the count of bucket (offset + i). */
  private long[] counts = new long[0];
  private int offset;
  private long zeroCount;
  private long count;

  void add(double value) {
    if (value <= ZERO_LIMIT) {
      zeroCount++;
    } else {
      int index = (int) Math.ceil(Math.log(value) / LOG_GAMMA);
      ensure(index, index);
      counts[index - offset]++;
    }
    count++;
  }

  void merge(Sketch other) {
    zeroCount += other.zeroCount;
    count += other.count;
    if (other.counts.length == 0) {
      return;
    }
    ensure(other.offset, other.offset + other.counts.length - 1);
    int shift = other.offset - offset;
    for (int i = 0; i < other.counts.length; i++) {
      counts[shift + i] += other.counts[i];
    }
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
    long seen = zeroCount;
    if (seen >= rank) {
      return Math.max(min, Math.min(max, 0));
    }
    for (int i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) {
        double estimate = 2 * Math.pow(GAMMA, offset + i) / (GAMMA + 1);
        return Math.max(min, Math.min(max, estimate));
      }
    }
    return max;
  }

  /** Compact text: "index:count" pairs separated by spaces, "z" for the zero bucket. */
  String encode() {
    StringBuilder sb = new StringBuilder(32);
    if (zeroCount > 0) {
      sb.append("z:").append(zeroCount);
    }
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] != 0) {
        if (sb.length() > 0) {
          sb.append(' ');
        }
        sb.append(offset + i).append(':').append(counts[i]);
      }
    }
    return sb.toString();
  }

  static Sketch decode(String text) {
    Sketch sketch = new Sketch();
    int n = text.length();
    // first pass: the index range, so the array is allocated once
    int lo = Integer.MAX_VALUE;
    int hi = Integer.MIN_VALUE;
    for (int i = 0; i < n; ) {
      int colon = text.indexOf(':', i);
      int end = text.indexOf(' ', colon);
      end = end < 0 ? n : end;
      if (text.charAt(i) != 'z') {
        int index = Integer.parseInt(text, i, colon, 10);
        lo = Math.min(lo, index);
        hi = Math.max(hi, index);
      }
      i = end + 1;
    }
    if (lo <= hi) {
      sketch.offset = lo;
      sketch.counts = new long[hi - lo + 1];
    }
    for (int i = 0; i < n; ) {
      int colon = text.indexOf(':', i);
      int end = text.indexOf(' ', colon);
      end = end < 0 ? n : end;
      long c = Long.parseLong(text, colon + 1, end, 10);
      if (text.charAt(i) == 'z') {
        sketch.zeroCount += c;
      } else {
        sketch.counts[Integer.parseInt(text, i, colon, 10) - sketch.offset] += c;
      }
      sketch.count += c;
      i = end + 1;
    }
    return sketch;
  }

  /** Grows the array to cover [lo, hi]. */
  private void ensure(int lo, int hi) {
    if (counts.length == 0) {
      offset = lo;
      counts = new long[hi - lo + 1];
      return;
    }
    int currentHi = offset + counts.length - 1;
    if (lo >= offset && hi <= currentHi) {
      return;
    }
    int newLo = Math.min(lo, offset);
    int newHi = Math.max(hi, currentHi);
    long[] grown = new long[newHi - newLo + 1];
    System.arraycopy(counts, 0, grown, offset - newLo, counts.length);
    counts = grown;
    offset = newLo;
  }
}
