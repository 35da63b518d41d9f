package com.chatroom.pulse.dashboard;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.support.ui.Select;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static com.chatroom.pulse.dashboard.DashboardNode.now;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The 7-day range with ten instances: what the page shows and what it keeps, not how fast (that is
 * {@link DashboardBench}, reported in BENCHMARKS.md).
 */
@ExtendWith(VertxExtension.class)
@DisplayName("The dashboard's 7-day range with ten instances, in a real browser")
class DashboardWeekTest {

  private static final int INSTANCES = 10;
  private Browser browser;

  @AfterEach
  void close() {
    if (browser != null) {
      browser.close();
    }
  }

  @Test
  @DisplayName("loads a week of hour rollups for ten instances, draws all ten lines, and keeps every buffer bounded while they stream live")
  void weekOfTenInstances(Vertx vertx) throws Exception {
    DashboardNode node = DashboardNode.start(vertx);
    WeekOfHistory.seed(node, INSTANCES, now(), 600);
    AtomicLong seq = new AtomicLong(1_000_000);
    // the ten instances go on live, one sample a second each
    vertx.setPeriodic(100, id -> {
      long n = seq.getAndIncrement();
      node.publish(WeekOfHistory.sample((int) (n % INSTANCES), n, now()));
    });
    browser = Browser.start();
    browser.open(node.url("/"));
    browser.until("live, with the ten instances backfilled", d -> "live".equals(browser.attr("status", "data-state"))
      && browser.number("chart-cpu", "series") == INSTANCES);
    assertThat(new Select(browser.byId("instance")).getFirstSelectedOption().getText()).isEqualTo("All instances (10)");

    new Select(browser.byId("range")).selectByValue("7d");
    browser.until("the week is shown", d -> browser.text("range-note").startsWith("Showing 7 days, hourly rollups"));
    for (String chart : new String[] {"chart-cpu", "chart-memory", "chart-disk", "chart-network", "chart-connections", "chart-load"}) {
      assertThat(browser.number(chart, "series")).as(chart + ": one line per instance").isEqualTo(INSTANCES);
      // 7 × 24 whole hours and the current one; one point per hour whatever the number of instances
      assertThat(browser.number(chart, "points")).as(chart + ": hour rollups").isBetween(166d, 170d);
      assertThat(browser.byId(chart).findElements(By.tagName("canvas"))).as(chart + " is drawn").isNotEmpty();
    }
    assertThat(browser.text("chart-cpu")).contains("7 days, hourly rollups");
    for (int i = 0; i < INSTANCES; i++) {
      assertThat(browser.text("chart-cpu")).contains(WeekOfHistory.instance(i) + ": ");
    }
    assertThat(now() - browser.number("chart-cpu", "last")).as("the newest hour is the current one or the one before")
      .isLessThan(2 * 3600);
    browser.screenshotOf("system-panel", "dashboard-7d-10-instances.png");

    // back to live and to the week again: the same bounded picture, while the live store goes on filling
    new Select(browser.byId("range")).selectByValue("live");
    browser.until("the live overlay is back", d -> browser.text("range-note").isEmpty()
      && browser.number("chart-cpu", "series") == INSTANCES && browser.number("chart-cpu", "points") >= 800);
    assertThat(browser.number("chart-cpu", "points")).as("ten instances on a shared 1 s grid: one row a second, not ten")
      .isLessThanOrEqualTo(15 * 60 + 60);
    new Select(browser.byId("range")).selectByValue("7d");
    browser.until("the week is shown again", d -> browser.text("range-note").startsWith("Showing 7 days")
      && browser.number("chart-cpu", "points") >= 166);
    assertThat(browser.number("chart-cpu", "points")).isBetween(166d, 170d);
    @SuppressWarnings("unchecked")
    Map<String, Object> store = (Map<String, Object>) ((Map<String, Object>) browser.js("return window.pulseDebug.store()")).get("system");
    assertThat(store).hasSize(INSTANCES);
    store.values().forEach(points -> assertThat(((Number) points).intValue()).as("points per instance").isLessThanOrEqualTo(1200));
    assertThat(((Number) browser.js("return document.getElementsByTagName('*').length")).intValue())
      .as("elements in the page: charts and tables, not one per point").isLessThan(2000);

    // one instance: its summary over the seeded week, with the trends and forecasts of its creeping memory and disk
    new Select(browser.byId("instance")).selectByValue(WeekOfHistory.instance(0));
    browser.until("the summary of pod-0 is read from its history", d -> browser.text("summary-title").equals("Summary of pod-0")
      && browser.text("summary-note").matches("[0-9]+ samples in the last 24 h.*") && browser.text("forecast").contains("Disk full: in about"));
    assertThat(browser.text("forecast")).contains("Memory full: in about");
    browser.screenshotOf("summary-panel", "dashboard-summary.png");
    assertThat(browser.scriptErrors()).as("script errors in the page").isEmpty();
  }
}
