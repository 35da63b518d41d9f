package com.chatroom.pulse.dashboard;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.openqa.selenium.support.ui.Select;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How smooth the page stays with ten instances live and a week of rollups loaded, for BENCHMARKS.md. A node in this
 * JVM gets a week of history for N instances ({@link WeekOfHistory}), then each instance publishes one sample a
 * second (spread over the second, as independent samplers would). Headless Chromium opens the page; a script added
 * before the page's own records every animation-frame interval and every long task (PerformanceObserver
 * {@code longtask}, ≥ 50 ms), and the page's two frame schedulers (live charts; tables and ranges) report what each
 * batched redraw cost, canvas drawing included. Two phases, each
 * {@code seconds} long: the live 15-minute overlay of all instances, then the 7-day range overlaid (its refresh from
 * history every minute included). Not a test: run it with
 * <pre>
 * mvn -B -q test-compile exec:java -Dexec.classpathScope=test \
 *   -Dexec.mainClass=com.chatroom.pulse.dashboard.DashboardBench -Dexec.args="120 10"
 * </pre>
 * (arguments: seconds per phase, default 120; instances, default 10). One JSON line per phase on stdout (WARN).
 */
public final class DashboardBench {

  private static final Logger LOG = LoggerFactory.getLogger(DashboardBench.class);

  /** Installed before any of the page's scripts: frame intervals and long tasks since the last reset. */
  static final String PROBE = """
    (() => {
      const b = window.__bench = {frames: [], longtasks: [], last: 0};
      b.reset = () => { b.frames = []; b.longtasks = []; b.last = 0; };
      const loop = t => {
        if (b.last && b.frames.length < 100000) b.frames.push(t - b.last);
        b.last = t;
        requestAnimationFrame(loop);
      };
      requestAnimationFrame(loop);
      new PerformanceObserver(list => {
        for (const e of list.getEntries()) if (b.longtasks.length < 100000) b.longtasks.push(e.duration);
      }).observe({type: 'longtask', buffered: true});
    })();
    """;

  private DashboardBench() {
  }

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 120;
    int instances = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    Vertx vertx = Vertx.vertx();
    try {
      DashboardNode node = DashboardNode.start(vertx);
      long seedStart = System.nanoTime();
      long seeded = WeekOfHistory.seed(node, instances, DashboardNode.now(), 60);
      LOG.warn("seeded {} samples ({} instances, {} days) in {} s", seeded, instances, WeekOfHistory.DAYS,
        (System.nanoTime() - seedStart) / 1_000_000_000);
      startLive(vertx, node, instances, seeded);
      try (Browser browser = Browser.start()) {
        browser.driver.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument", Map.of("source", PROBE));
        browser.open(node.url("/"));
        // generous waits: on a loaded machine the backfill of 9,000 samples alone has taken over 20 s
        slow(browser, "the page backfilled every instance and is live", d -> "live".equals(browser.attr("status", "data-state"))
          && browser.number("chart-cpu", "series") == instances && browser.number("chart-cpu", "points") >= 850);
        LOG.warn("RESULT {}", measure(vertx, browser, "live 15 min, all " + instances + " instances", seconds).encode());

        long switchStart = System.nanoTime();
        new Select(browser.byId("range")).selectByValue("7d");
        slow(browser, "the week is drawn for every instance", d -> browser.text("range-note").startsWith("Showing 7 days")
          && browser.number("chart-cpu", "series") == instances && browser.number("chart-cpu", "points") >= 166);
        double loadMs = (System.nanoTime() - switchStart) / 1e6;
        JsonObject week = measure(vertx, browser, "7 days of hour rollups, all " + instances + " instances", seconds)
          .put("range_load_ms", Math.round(loadMs)).put("week_points_per_series", browser.number("chart-cpu", "points"));
        LOG.warn("RESULT {}", week.encode());
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  private static void slow(Browser browser, String what, org.openqa.selenium.support.ui.ExpectedCondition<Boolean> condition) {
    new org.openqa.selenium.support.ui.WebDriverWait(browser.driver, java.time.Duration.ofMinutes(3)).withMessage(what).until(condition);
  }

  /** Instance k publishes at k/N of each second, so N instances are N independent 1 Hz samplers. */
  private static void startLive(Vertx vertx, DashboardNode node, int instances, long firstSeq) {
    AtomicLong seq = new AtomicLong(firstSeq);
    vertx.setPeriodic(Math.max(1, 1000 / instances), id -> {
      long n = seq.getAndIncrement();
      int i = (int) (n % instances);
      node.publish(WeekOfHistory.sample(i, n, DashboardNode.now()));
    });
  }

  static JsonObject measure(Vertx vertx, Browser browser, String phase, int seconds) throws Exception {
    Map<String, Object> before = counts(browser);
    String loadBefore = loadAverage();
    browser.js("window.__bench.reset()");
    vertx.timer(seconds * 1000L).toCompletionStage().toCompletableFuture().get(seconds + 60L, java.util.concurrent.TimeUnit.SECONDS);
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) browser.js("return {frames: window.__bench.frames,"
      + " longtasks: window.__bench.longtasks, costs: window.pulseDebug.redrawCosts(), panelCosts: window.pulseDebug.panelCosts(),"
      + " dom: document.getElementsByTagName('*').length}");
    Map<String, Object> after = counts(browser);
    Map<String, Object> heap = browser.driver.executeCdpCommand("Runtime.getHeapUsage", Map.of());
    int redraws = delta(before, after, "redraws");
    int panelRenders = delta(before, after, "panels");
    double[] frames = numbers(m.get("frames"));
    double[] longtasks = numbers(m.get("longtasks"));
    double[] costs = last(numbers(m.get("costs")), redraws);
    double[] panelCosts = last(numbers(m.get("panelCosts")), panelRenders);
    return new JsonObject()
      .put("phase", phase)
      .put("seconds", seconds)
      .put("frames", frames.length)
      .put("frame_interval_ms", stats(frames))
      .put("frames_over_50ms", Arrays.stream(frames).filter(f -> f > 50).count())
      .put("long_tasks", longtasks.length)
      .put("long_task_ms", stats(longtasks))
      .put("long_task_total_ms", Math.round(Arrays.stream(longtasks).sum()))
      .put("chart_redraws", redraws)
      .put("chart_redraw_ms", stats(costs))
      .put("panel_renders", panelRenders)
      .put("panel_render_ms", stats(panelCosts))
      .put("render_busy_percent", round(100 * (Arrays.stream(costs).sum() + Arrays.stream(panelCosts).sum()) / (seconds * 1000d)))
      .put("dom_nodes", ((Number) m.get("dom")).longValue())
      .put("js_heap_mib", round(((Number) heap.get("usedSize")).doubleValue() / (1 << 20)))
      .put("load_average_before", loadBefore)
      .put("load_average_after", loadAverage());
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> counts(Browser browser) {
    return (Map<String, Object>) browser.js("return {redraws: window.pulseDebug.redraws(), panels: window.pulseDebug.panelRenders()}");
  }

  private static int delta(Map<String, Object> before, Map<String, Object> after, String name) {
    return (int) (((Number) after.get(name)).longValue() - ((Number) before.get(name)).longValue());
  }

  /** The last n values (the scheduler's ring holds the most recent flushes, oldest first). */
  private static double[] last(double[] values, int n) {
    return Arrays.copyOfRange(values, Math.max(0, values.length - n), values.length);
  }

  private static double[] numbers(Object list) {
    return ((List<?>) list).stream().mapToDouble(o -> ((Number) o).doubleValue()).toArray();
  }

  static JsonObject stats(double[] values) {
    if (values.length == 0) {
      return new JsonObject().put("n", 0);
    }
    double[] v = values.clone();
    Arrays.sort(v);
    return new JsonObject().put("n", v.length).put("p50", round(at(v, 0.50))).put("p95", round(at(v, 0.95)))
      .put("p99", round(at(v, 0.99))).put("max", round(v[v.length - 1]));
  }

  private static double at(double[] sorted, double q) {
    return sorted[Math.max(0, (int) Math.ceil(q * sorted.length) - 1)];
  }

  static double round(double v) {
    return Math.round(v * 100) / 100d;
  }

  static String loadAverage() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return parts[0] + " " + parts[1] + " " + parts[2];
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }
}
