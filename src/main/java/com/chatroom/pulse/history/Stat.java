package com.chatroom.pulse.history;

import io.vertx.core.json.JsonObject;

/**
 * Aggregate of one metric over a time bucket: count, sum (so averages merge exactly), min, max, the last value and
 * a quantile {@link Sketch}. Mutable, used while building or merging; not thread-safe.
 */
final class Stat {

  long count;
  double sum;
  double min = Double.POSITIVE_INFINITY;
  double max = Double.NEGATIVE_INFINITY;
  double last = Double.NaN;
  double lastTime = Double.NEGATIVE_INFINITY;
  /** Decoded on first use: most reads (averages, trends) never need the quantiles. */
  private Sketch sketch;
  private String sketchText;

  Stat() {
    this.sketch = new Sketch();
  }

  private Stat(String sketchText) {
    this.sketchText = sketchText;
  }

  private Sketch sketch() {
    if (sketch == null) {
      sketch = Sketch.decode(sketchText);
      sketchText = null;
    }
    return sketch;
  }

  void add(double value, double time) {
    count++;
    sum += value;
    min = Math.min(min, value);
    max = Math.max(max, value);
    if (time >= lastTime) {
      last = value;
      lastTime = time;
    }
    sketch().add(value);
  }

  void merge(Stat other) {
    if (other.count == 0) {
      return;
    }
    if (count == 0) {
      // adopt: an empty bucket takes the other's values without decoding its sketch
      count = other.count;
      sum = other.sum;
      min = other.min;
      max = other.max;
      last = other.last;
      lastTime = other.lastTime;
      sketch = other.sketch == null ? null : copyOf(other.sketch);
      sketchText = other.sketchText;
      return;
    }
    count += other.count;
    sum += other.sum;
    min = Math.min(min, other.min);
    max = Math.max(max, other.max);
    if (other.lastTime >= lastTime) {
      last = other.last;
      lastTime = other.lastTime;
    }
    sketch().merge(other.sketch());
  }

  private static Sketch copyOf(Sketch source) {
    Sketch copy = new Sketch();
    copy.merge(source);
    return copy;
  }

  double avg() {
    return count == 0 ? Double.NaN : sum / count;
  }

  double p95() {
    return sketch().quantile(0.95, min, max);
  }

  JsonObject toJson() {
    if (count == 0) {
      return new JsonObject().put("count", 0);
    }
    return new JsonObject().put("count", count).put("avg", round(avg())).put("min", min).put("max", max)
      .put("p95", round(p95())).put("last", last);
  }

  static double round(double v) {
    return Double.isFinite(v) ? Math.round(v * 1000d) / 1000d : v;
  }

  /** "count,sum,min,max,last,lastTime,sketch". */
  String encode() {
    return count + "," + sum + "," + min + "," + max + "," + last + "," + lastTime + ","
      + (sketch == null ? sketchText : sketch.encode());
  }

  static Stat decode(String text) {
    String[] p = text.split(",", 7);
    Stat s = new Stat(p[6]);
    s.count = Long.parseLong(p[0]);
    s.sum = Double.parseDouble(p[1]);
    s.min = Double.parseDouble(p[2]);
    s.max = Double.parseDouble(p[3]);
    s.last = Double.parseDouble(p[4]);
    s.lastTime = Double.parseDouble(p[5]);
    return s;
  }
}
