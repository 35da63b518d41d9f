package com.chatroom.pulse.dashboard;

import com.chatroom.pulse.Samples;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.openqa.selenium.support.ui.Select;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The page open for an hour in real time, for BENCHMARKS.md: a node in this JVM with a week of history for N
 * instances ({@link WeekOfHistory}), each instance publishing one sample a second; three of them run hot for 20 s
 * every three minutes (staggered), so the test rule's alert fires and resolves about once a minute; an optimizer
 * action arrives every 20 s; the range is switched every five minutes (live, 1 h, 24 h, 7 days, round again; the
 * longer ranges also refresh themselves every minute). Every {@code every} minutes it forces a garbage collection in
 * the page (CDP {@code HeapProfiler.collectGarbage}) and prints the JavaScript heap in use (CDP
 * {@code Runtime.getHeapUsage}; {@code performance.memory} is coarse and cached in Chromium), the nodes in the
 * document, the DOM nodes and event listeners still alive (CDP {@code Memory.getDOMCounters}, detached ones
 * included), the rows of the alert and optimizer tables and the largest series. Run:
 * <pre>
 * nice -n 19 mvn -B -q test-compile exec:java -Dexec.classpathScope=test \
 *   -Dexec.mainClass=com.chatroom.pulse.dashboard.DashboardSoak -Dexec.args="60 10 5"
 * </pre>
 * (arguments: minutes, default 60; instances, default 10; minutes between readings, default 5).
 */
public final class DashboardSoak {

  private static final Logger LOG = LoggerFactory.getLogger(DashboardSoak.class);
  private static final List<String> RANGES = List.of("live", "1h", "24h", "7d");
  private static final int HOT_INSTANCES = 3;

  private DashboardSoak() {
  }

  public static void main(String[] args) throws Exception {
    int minutes = args.length > 0 ? Integer.parseInt(args[0]) : 60;
    int instances = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    int every = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    Vertx vertx = Vertx.vertx();
    try {
      DashboardNode node = DashboardNode.start(vertx);
      long seeded = WeekOfHistory.seed(node, instances, DashboardNode.now(), 60);
      AtomicLong seq = new AtomicLong(seeded);
      vertx.setPeriodic(Math.max(1, 1000 / instances), id -> {
        long n = seq.getAndIncrement();
        int i = (int) (n % instances);
        double t = DashboardNode.now();
        boolean hot = i < HOT_INSTANCES && ((long) (t / 60) + i) % 3 == 0 && t % 60 < 20;
        node.publish(hot ? Samples.at(WeekOfHistory.instance(i), n, t, 90 + i, 40 + i, 55) : WeekOfHistory.sample(i, n, t));
      });
      AtomicLong actions = new AtomicLong();
      vertx.setPeriodic(20_000, id -> {
        long k = actions.incrementAndGet();
        node.publishOptimizer(new JsonObject().put("id", "soak-" + k).put("rule", "cpu_high").put("action", "shed_load")
          .put("state", k % 2 == 0 ? "verified" : "applied").put("result", "effective").put("reason", "soak action " + k)
          .put("metrics", new JsonObject().put("cpu_percent", 50 + k % 40)).put("timestamp", System.currentTimeMillis())
          .put("instance", "soak-elsewhere"));
      });

      try (Browser browser = Browser.start()) {
        browser.open(node.url("/"));
        browser.until("the page is live with every instance", d -> "live".equals(browser.attr("status", "data-state"))
          && browser.number("chart-cpu", "series") == instances);
        long start = System.currentTimeMillis();
        LOG.warn(String.format("%6s %6s %9s %9s %9s %9s %6s %6s %8s %8s", "minute", "range", "heap MiB", "DOM doc",
          "DOM alive", "listeners", "alerts", "optim", "max pts", "redraws"));
        for (int minute = 0; minute <= minutes; minute++) {
          if (minute > 0) {
            DashboardNode.await(vertx.timer(Math.max(1, start + minute * 60_000L - System.currentTimeMillis())));
          }
          if (minute % 5 == 0) {
            new Select(browser.byId("range")).selectByValue(RANGES.get((minute / 5) % RANGES.size()));
          }
          if (minute % every == 0) {
            LOG.warn(reading(browser, minute));
          }
        }
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  private static String reading(Browser browser, int minute) {
    browser.driver.executeCdpCommand("HeapProfiler.collectGarbage", Map.of());
    Map<String, Object> heap = browser.driver.executeCdpCommand("Runtime.getHeapUsage", Map.of());
    Map<String, Object> dom = browser.driver.executeCdpCommand("Memory.getDOMCounters", Map.of());
    @SuppressWarnings("unchecked")
    Map<String, Object> page = (Map<String, Object>) browser.js("const s = window.pulseDebug.store().system;"
      + "return {doc: document.getElementsByTagName('*').length, max: Math.max(0, ...Object.values(s)),"
      + " redraws: window.pulseDebug.redraws(), range: document.getElementById('range').value,"
      + " alerts: document.querySelectorAll('#alerts-rows tr').length,"
      + " optimizer: document.querySelectorAll('#optimizer-rows tr').length};");
    return String.format("%6d %6s %9.2f %9d %9d %9d %6d %6d %8d %8d", minute, page.get("range"),
      ((Number) heap.get("usedSize")).doubleValue() / (1 << 20), ((Number) page.get("doc")).longValue(),
      ((Number) dom.get("nodes")).longValue(), ((Number) dom.get("jsEventListeners")).longValue(),
      ((Number) page.get("alerts")).longValue(), ((Number) page.get("optimizer")).longValue(),
      ((Number) page.get("max")).longValue(), ((Number) page.get("redraws")).longValue());
  }
}
