package com.chatroom.pulse.dashboard;

import com.chatroom.pulse.Samples;
import io.vertx.core.Vertx;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An hour of a dashboard's life, compressed: N instances publishing one sample per simulated second, 20 simulated
 * seconds per real second, into a node in this JVM, while headless Chromium shows the page. Every 15 s it forces
 * a garbage collection in the page and prints the JavaScript heap, the DOM size, the store's largest series and
 * the redraw count, so that a heap that keeps growing shows. Run:
 * <pre>
 * mvn -B -q test-compile exec:java -Dexec.classpathScope=test \
 *   -Dexec.mainClass=com.chatroom.pulse.dashboard.DashboardSoak -Dexec.args="3 10"
 * </pre>
 * (arguments: real minutes, default 3 = one simulated hour; instances, default 10).
 */
public final class DashboardSoak {

  private static final int SPEED = 20;

  private DashboardSoak() {
  }

  public static void main(String[] args) throws Exception {
    int minutes = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int instances = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    Vertx vertx = Vertx.vertx();
    DashboardNode node = DashboardNode.start(vertx);
    try (Browser browser = Browser.start()) {
      browser.open(node.url("/"));
      double start = DashboardNode.now();
      AtomicLong tick = new AtomicLong();
      vertx.setPeriodic(1000 / SPEED, id -> {
        long k = tick.getAndIncrement();
        for (int i = 0; i < instances; i++) {
          node.publish(Samples.at("soak-" + i, k, start + k, 30 + 20 * Math.sin(k / 60d + i), 40 + i, 55));
        }
      });
      System.out.printf("%8s %10s %10s %10s %10s %8s%n", "real s", "sim. min", "heap MiB", "DOM nodes", "max pts", "redraws");
      long end = System.currentTimeMillis() + minutes * 60_000L;
      while (System.currentTimeMillis() < end) {
        long target = Math.min(System.currentTimeMillis() + 15_000, end);
        browser.until("the next measurement", d -> System.currentTimeMillis() >= target);
        browser.driver.executeCdpCommand("HeapProfiler.collectGarbage", Map.of());
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) browser.js("const s = window.pulseDebug.store().system;"
          + "return {heap: performance.memory.usedJSHeapSize, dom: document.getElementsByTagName('*').length,"
          + "max: Math.max(0, ...Object.values(s)), redraws: window.pulseDebug.redraws()};");
        System.out.printf("%8.0f %10.1f %10.2f %10d %10d %8d%n", DashboardNode.now() - start, tick.get() / 60d,
          ((Number) m.get("heap")).doubleValue() / (1 << 20), ((Number) m.get("dom")).longValue(),
          ((Number) m.get("max")).longValue(), ((Number) m.get("redraws")).longValue());
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }
}
