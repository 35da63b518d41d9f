package com.chatroom.pulse.history;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

@DisplayName("The quantile sketch and rollup encoding")
class SketchTest {

  private static double exactNearestRank(double[] values, double q) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[(int) Math.max(0, Math.ceil(q * sorted.length) - 1)];
  }

  @RepeatedTest(5)
  @DisplayName("p95 of merged sketches is within 1% of the exact p95 of all values")
  void p95WithinOnePercent() {
    Random random = new Random();
    List<Sketch> parts = new ArrayList<>();
    double[] all = new double[6000];
    for (int part = 0; part < 100; part++) {
      Sketch sketch = new Sketch();
      for (int i = 0; i < 60; i++) {
        // a skewed, heavy-tailed mix, as latencies and connection counts are
        double v = random.nextDouble() < 0.9 ? random.nextDouble() * 50 : 50 + Math.exp(random.nextDouble() * 8);
        all[part * 60 + i] = v;
        sketch.add(v);
      }
      parts.add(Sketch.decode(sketch.encode()));
    }
    Sketch merged = new Sketch();
    parts.forEach(merged::merge);
    double min = Arrays.stream(all).min().orElseThrow();
    double max = Arrays.stream(all).max().orElseThrow();
    for (double q : new double[] {0.5, 0.95, 0.99}) {
      double exact = exactNearestRank(all, q);
      assertThat(merged.quantile(q, min, max)).isCloseTo(exact, within(exact * Sketch.ALPHA + 1e-9));
    }
    assertThat(merged.count()).isEqualTo(6000);
  }

  @Test
  @DisplayName("zeros and tiny values land in the zero bucket; the estimate never leaves [min, max]")
  void zeros() {
    Sketch s = new Sketch();
    for (int i = 0; i < 96; i++) {
      s.add(0);
    }
    for (int i = 0; i < 4; i++) {
      s.add(12.5);
    }
    assertThat(s.quantile(0.95, 0, 12.5)).isZero();
    assertThat(s.quantile(0.99, 0, 12.5)).isCloseTo(12.5, within(0.125));
    assertThat(Sketch.decode(s.encode()).encode()).isEqualTo(s.encode());
  }

  @Test
  @DisplayName("a stat survives encoding exactly, and merging two equals adding all their values")
  void statEncoding() {
    Stat a = new Stat();
    Stat b = new Stat();
    Stat both = new Stat();
    for (int i = 0; i < 50; i++) {
      a.add(i * 1.5, 1000 + i);
      both.add(i * 1.5, 1000 + i);
    }
    for (int i = 0; i < 30; i++) {
      b.add(100 - i, 2000 + i);
      both.add(100 - i, 2000 + i);
    }
    Stat merged = Stat.decode(a.encode());
    merged.merge(Stat.decode(b.encode()));
    assertThat(merged.count).isEqualTo(both.count);
    assertThat(merged.sum).isEqualTo(both.sum);
    assertThat(merged.min).isEqualTo(both.min);
    assertThat(merged.max).isEqualTo(both.max);
    assertThat(merged.last).isEqualTo(71d);
    assertThat(merged.p95()).isEqualTo(both.p95());
  }
}
