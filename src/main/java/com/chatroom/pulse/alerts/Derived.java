package com.chatroom.pulse.alerts;

import com.chatroom.pulse.bus.PulseMessage;

/** Metrics computed from several samples of one instance, with bounded per-series memory. */
final class Derived {

  private Derived() {
  }

  /**
   * {@code rate(counter)}: increase per second between two consecutive samples. A counter that went down was
   * restarted: that pair gives no value (NaN), as Prometheus treats a reset.
   */
  static final class Rate extends Metric {

    private final Metric.Field field;

    Rate(Metric.Field field, String expression) {
      super(field.system(), expression);
      this.field = field;
    }

    @Override
    Object newState() {
      return new double[] {Double.NaN, Double.NaN};
    }

    @Override
    double read(PulseMessage sample, double timestamp, Object state) {
      double[] previous = (double[]) state;
      double value = field.value(sample);
      double rate = Double.NaN;
      if (!Double.isNaN(previous[0]) && timestamp > previous[1] && value >= previous[0]) {
        rate = (value - previous[0]) / (timestamp - previous[1]);
      }
      previous[0] = value;
      previous[1] = timestamp;
      return rate;
    }
  }

  /**
   * {@code predict_linear(field, horizon[, window])}: the value a least-squares line through the samples of the last
   * {@code window} seconds reaches {@code horizon} seconds after the newest one (disk full in 4 hours). Needs at
   * least {@link #MIN_POINTS} samples spread over a quarter of the window; until then NaN. Keeps at most
   * {@link #CAPACITY} points, spaced at least window/CAPACITY apart.
   */
  static final class PredictLinear extends Metric {

    static final int CAPACITY = 256;
    static final int MIN_POINTS = 5;
    private final Metric.Field field;
    private final double horizon;
    private final double window;

    PredictLinear(Metric.Field field, String expression, double horizonSeconds, double windowSeconds) {
      super(field.system(), expression);
      this.field = field;
      this.horizon = horizonSeconds;
      this.window = windowSeconds;
    }

    /** A ring of (time, value) points. */
    static final class Window {
      final double[] t = new double[CAPACITY];
      final double[] v = new double[CAPACITY];
      int start;
      int size;
    }

    @Override
    Object newState() {
      return new Window();
    }

    @Override
    double read(PulseMessage sample, double timestamp, Object state) {
      Window w = (Window) state;
      double value = field.value(sample);
      if (Double.isNaN(value)) {
        return Double.NaN;
      }
      while (w.size > 0 && w.t[w.start] < timestamp - window) {
        w.start = (w.start + 1) % CAPACITY;
        w.size--;
      }
      int last = (w.start + w.size - 1) % CAPACITY;
      if (w.size == 0 || timestamp - w.t[last] >= window / CAPACITY) {
        if (w.size == CAPACITY) {
          w.start = (w.start + 1) % CAPACITY;
          w.size--;
        }
        int slot = (w.start + w.size) % CAPACITY;
        w.t[slot] = timestamp;
        w.v[slot] = value;
        w.size++;
      }
      if (w.size < MIN_POINTS || timestamp - w.t[w.start] < window / 4) {
        return Double.NaN;
      }
      // least squares on times relative to now keeps the sums well conditioned
      double sumT = 0;
      double sumV = 0;
      double sumTT = 0;
      double sumTV = 0;
      for (int i = 0; i < w.size; i++) {
        int k = (w.start + i) % CAPACITY;
        double x = w.t[k] - timestamp;
        sumT += x;
        sumV += w.v[k];
        sumTT += x * x;
        sumTV += x * w.v[k];
      }
      double n = w.size;
      double denominator = n * sumTT - sumT * sumT;
      if (denominator == 0) {
        return Double.NaN;
      }
      double slope = (n * sumTV - sumT * sumV) / denominator;
      double intercept = (sumV - slope * sumT) / n;
      return intercept + slope * horizon;
    }
  }
}
