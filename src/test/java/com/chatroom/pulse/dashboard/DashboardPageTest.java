package com.chatroom.pulse.dashboard;

import com.chatroom.pulse.Samples;
import com.chatroom.pulse.bus.ApplicationMetrics;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.FluentWait;
import org.openqa.selenium.support.ui.Select;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static com.chatroom.pulse.dashboard.DashboardNode.now;
import static org.assertj.core.api.Assertions.assertThat;

/** The dashboard in headless Chromium against a node in this JVM that the test feeds through the real addresses. */
@ExtendWith(VertxExtension.class)
@DisplayName("The dashboard page in a real browser")
class DashboardPageTest {

  private static Browser browser;
  private final HttpClient http = HttpClient.newHttpClient();
  private DashboardNode node;

  @BeforeAll
  static void startBrowser() throws IOException {
    browser = Browser.start();
  }

  @AfterAll
  static void stopBrowser() {
    if (browser != null) {
      browser.close();
    }
  }

  @BeforeEach
  void startNode(Vertx vertx) throws Exception {
    node = DashboardNode.start(vertx);
  }

  @AfterEach
  void leavePage() {
    if (browser != null) {
      // script errors and refused loads (a CSP violation among them) fail the test that caused them
      assertThat(browser.scriptErrors()).as("script errors in the page").isEmpty();
      browser.open("about:blank");
    }
  }

  @Test
  @DisplayName("fills the charts with the last 15 minutes on open, then adds live samples, redrawing in batches")
  void backfillThenLive() throws Exception {
    double now = now();
    for (int i = 0; i < 40; i++) {
      node.publish(Samples.at("pod-a", i, now - 600 + i * 15, 20 + i, 40, 55));
    }
    waitForHistory("pod-a", now - 900, 40);

    browser.open(node.url("/"));
    browser.until("the CPU chart holds the 40 samples from history",
      d -> browser.number("chart-cpu", "points") == 40);
    browser.until("the badge says live", d -> "live".equals(browser.attr("status", "data-state")));
    assertThat(((Number) browser.js("return window.pulseDebug.redraws()")).intValue())
      .as("40 history frames cost a few batched redraws, not one each").isLessThan(10);
    assertThat(browser.text("chart-cpu")).contains("pod-a: 59.0 %");

    // stamped in the past: the summary read below ends at "now", and a sample stamped ahead of it would be left out
    double live = now() - 0.5;
    for (int i = 0; i < 3; i++) {
      node.publish(Samples.at("pod-a", 40 + i, live + i * 0.1, 61 + i, 40, 55));
    }
    browser.until("live samples reach the chart", d -> browser.number("chart-cpu", "points") == 43
      && sameTime(browser.number("chart-cpu", "last"), live + 0.2));
    browser.until("the delivery lag is shown", d -> browser.text("lag").matches("delivery lag [0-9.]+ s"));
    assertThat(browser.number("lag", "lag")).as("seconds from publish to the page, on one machine").isBetween(0d, 5d);
    assertThat(browser.text("chart-cpu")).contains("pod-a: 63.0 %");
    // the stream can reach the page before the history store has written the same sample: the summary below reads it
    waitForHistory("pod-a", now - 900, 43);

    new Select(browser.byId("instance")).selectByValue("pod-a");
    browser.until("one instance shows every field of its charts", d -> browser.number("chart-load", "series") == 3
      && browser.number("chart-network", "series") == 2);
    assertThat(browser.text("chart-load")).contains("1 min", "5 min", "15 min");
    assertThat(browser.text("summary-title")).isEqualTo("Summary of pod-a");
    browser.until("the 1 h / 24 h summary is read from history", d -> browser.text("summary-note").matches("[1-9][0-9]* samples in the last 24 h.*"));
    // CPU went from 20 % (the oldest backfilled sample) to 63 % (the newest live one), in both windows
    assertThat(browser.driver.findElement(By.cssSelector("#summary-rows tr")).getText())
      .matches("CPU % [0-9.]+ 20\\.0 63\\.0 [0-9.]+ [0-9.]+ 20\\.0 63\\.0 [0-9.]+ .*");
    assertThat(browser.text("forecast")).contains("Disk full:", "Memory full:");

    new Select(browser.byId("range")).selectByValue("1h");
    browser.until("the last hour is read from history in 15 s buckets", d -> browser.text("chart-cpu").contains("1 h, 15 s averages")
      && browser.number("chart-cpu", "points") >= 30 && browser.number("chart-cpu", "points") <= 43);
    assertThat(browser.text("range-note")).contains("Showing 1 h, 15 s averages from history");
  }

  @Test
  @DisplayName("shows a firing alert with its severity in words, and a silence and an acknowledgement from the page reach the API")
  void alertSilenceAndAck() throws Exception {
    browser.open(node.url("/"));
    browser.until("the page is live", d -> "live".equals(browser.attr("status", "data-state")));
    node.publish(Samples.at("pod-b", 1, now(), 95, 40, 55));

    browser.until("the alert appears", d -> browser.text("alerts-rows").contains(DashboardNode.RULE));
    var row = browser.byId("alerts-rows").findElement(By.cssSelector("tr[data-rule='" + DashboardNode.RULE + "']"));
    assertThat(row.findElement(By.cssSelector("td.severity")).getText()).isEqualTo("▲ critical");
    assertThat(row.getText()).contains("firing", "pod-b", "CPU at 95", "s ago");
    browser.until("the change is in the alert history", d -> browser.text("history-rows").contains("firing"));
    browser.screenshotOf("alerts-panel", "dashboard-alerts.png");

    row.findElement(By.cssSelector("button.silence")).click();
    browser.until("without a token the page asks for one", d -> browser.text("admin-result").contains("Enter the admin token first"));
    assertThat(get("/api/alerts/silences").getJsonArray("silences")).isEmpty();

    browser.byId("admin").findElement(By.tagName("summary")).click();
    browser.byId("admin-token").sendKeys(DashboardNode.ADMIN_TOKEN);
    browser.byId("admin-form").submit();
    browser.until("the token is kept for this tab", d -> browser.text("admin-state").contains("An admin token is set"));
    assertThat(browser.js("return sessionStorage.getItem('pulse.adminToken')")).isEqualTo(DashboardNode.ADMIN_TOKEN);
    assertThat(browser.driver.getCurrentUrl()).doesNotContain(DashboardNode.ADMIN_TOKEN);

    browser.driver.findElement(By.cssSelector("#alerts-rows button.silence")).click();
    browser.until("the silence is confirmed", d -> browser.text("admin-result").contains("Silenced " + DashboardNode.RULE + " on pod-b"));
    JsonArray silences = get("/api/alerts/silences").getJsonArray("silences");
    assertThat(silences).hasSize(1);
    assertThat(silences.getJsonObject(0).getString("rule")).isEqualTo(DashboardNode.RULE);
    assertThat(silences.getJsonObject(0).getJsonObject("labels").getString("instance")).isEqualTo("pod-b");
    assertThat(silences.getJsonObject(0).getString("created_by")).isEqualTo("dashboard");
    browser.until("the alert shows as silenced", d -> browser.text("alerts-rows").contains("silenced"));
    browser.until("the silence is listed", d -> browser.text("silences-rows").contains("instance=pod-b"));

    browser.driver.findElement(By.cssSelector("#alerts-rows button.ack")).click();
    browser.until("the acknowledgement is confirmed", d -> browser.text("admin-result").contains("Acknowledged"));
    JsonObject active = get("/api/alerts").getJsonArray("alerts").getJsonObject(0);
    assertThat(active.getBoolean("acknowledged")).isTrue();
    assertThat(active.getString("acknowledged_by")).isEqualTo("dashboard");
    browser.until("the alert shows as acknowledged", d -> browser.text("alerts-rows").contains("acknowledged by dashboard"));
  }

  @Test
  @DisplayName("reaches a Silence button with the keyboard, keeps the focus on it through re-renders, and silences with Enter")
  void keyboardSilence() throws Exception {
    browser.open(node.url("/"));
    browser.until("the page is live", d -> "live".equals(browser.attr("status", "data-state")));
    browser.byId("admin").findElement(By.tagName("summary")).click();
    browser.byId("admin-token").sendKeys(DashboardNode.ADMIN_TOKEN);
    browser.byId("admin-token").sendKeys(Keys.ENTER);
    browser.until("the token is kept for this tab", d -> browser.text("admin-state").contains("An admin token is set"));
    node.publish(Samples.at("pod-k", 1, now(), 95, 40, 55));
    browser.until("the alert appears", d -> browser.text("alerts-rows").contains("pod-k"));

    // from the top of the page, Tab until the Silence button has the focus (the header's controls come first)
    browser.js("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)");
    WebElement silence = browser.byId("alerts-rows").findElement(By.cssSelector("button.silence"));
    for (int tabs = 0; tabs < 40 && !silence.equals(browser.driver.switchTo().activeElement()); tabs++) {
      new Actions(browser.driver).sendKeys(Keys.TAB).perform();
    }
    assertThat(browser.driver.switchTo().activeElement()).as("Tab reaches the Silence button").isEqualTo(silence);
    WebElement row = browser.byId("alerts-rows").findElement(By.cssSelector("tr[data-rule='" + DashboardNode.RULE + "']"));

    // re-renders: a second alert arriving (an event) and the 5 s refresh of the "since" column
    long renders = ((Number) browser.js("return window.pulseDebug.alertRenders()")).longValue();
    node.publish(Samples.at("pod-l", 1, now(), 97, 40, 55));
    browser.until("the second alert is listed", d -> browser.byId("alerts-rows").findElements(By.tagName("tr")).size() == 2);
    browser.until("the table is rendered again by the 5 s refresh", d ->
      ((Number) browser.js("return window.pulseDebug.alertRenders()")).longValue() >= renders + 2);
    assertThat(browser.driver.switchTo().activeElement()).as("the focus survives the re-renders").isEqualTo(silence);
    assertThat(row.isDisplayed()).as("the row is the same element, not a replacement").isTrue();
    assertThat(silence.getDomAttribute("aria-label")).isEqualTo("Silence " + DashboardNode.RULE + " on pod-k for 1 hour");

    browser.driver.switchTo().activeElement().sendKeys(Keys.ENTER);
    browser.until("the silence is confirmed", d -> browser.text("admin-result").contains("Silenced " + DashboardNode.RULE + " on pod-k"));
    JsonArray silences = get("/api/alerts/silences").getJsonArray("silences");
    assertThat(silences).hasSize(1);
    assertThat(silences.getJsonObject(0).getJsonObject("labels").getString("instance")).isEqualTo("pod-k");
    browser.until("the alert shows as silenced", d -> row.getText().contains("silenced"));
    assertThat(browser.driver.switchTo().activeElement()).as("still on the button after the reload the silence causes")
      .isEqualTo(silence);
    browser.until("the silence is listed", d -> browser.text("silences-rows").contains("instance=pod-k"));
    WebElement end = browser.byId("silences-rows").findElement(By.cssSelector("button.end"));
    end.sendKeys(Keys.ENTER);
    browser.until("the silence is ended from the keyboard", d -> browser.text("admin-result").contains("Ended the silence"));
    assertThat(get("/api/alerts/silences").getJsonArray("silences")).isEmpty();
  }

  @Test
  @DisplayName("shows markup in instance names, alert texts and optimizer reasons as text, and runs none of it")
  void untrustedTextIsText() throws Exception {
    String img = "<img src=x onerror=\"window.__xss='img'\">";
    String script = "<script>window.__xss='script'</script>";
    browser.open(node.url("/"));
    browser.until("the page is live", d -> "live".equals(browser.attr("status", "data-state")));
    node.publish(Samples.at(img, 1, now(), 95, 40, 55));
    node.publish(Samples.at(script, 1, now(), 96, 40, 55));
    node.publishOptimizer(new JsonObject().put("rule", img).put("action", script).put("state", "applied")
      .put("reason", img).put("timestamp", now()).put("instance", script));

    browser.until("both alerts are listed", d -> browser.byId("alerts-rows").findElements(By.tagName("tr")).size() == 2);
    browser.until("the optimizer action is listed", d -> browser.text("optimizer-rows").contains("applied"));
    assertThat(browser.driver.findElements(By.cssSelector("main img, main script, header img"))).isEmpty();
    assertThat(browser.byId("alerts-rows").findElements(By.cssSelector("td.instance")).stream().map(e -> e.getText()))
      .containsExactlyInAnyOrder(img, script);
    assertThat(browser.text("alerts-rows")).contains("CPU at 95% on " + img);
    assertThat(browser.text("optimizer-rows")).contains(img, script);
    // the picker is redrawn with the live charts (at most once a second), after the frames that fill the tables
    browser.until("the instance picker lists both", d -> new Select(browser.byId("instance")).getOptions().stream()
      .map(o -> o.getText()).toList().containsAll(java.util.List.of(img, script)));
    browser.until("the chart legend names both", d -> browser.text("chart-cpu").contains(img) && browser.text("chart-cpu").contains(script));
    assertThat(browser.js("return window.__xss === undefined")).isEqualTo(true);
  }

  @Test
  @DisplayName("reads the optimizer's (empty) audit, then shows actions and their verification arriving live; app metrics appear when published")
  void optimizerAndApplication() throws Exception {
    browser.open(node.url("/"));
    browser.until("the optimizer panel has read the audit", d -> browser.text("optimizer-note").contains("No optimizer actions yet"));
    assertThat(browser.text("app-note")).contains("No application samples on metrics.app");
    assertThat(browser.byId("app-charts").isDisplayed()).isFalse();

    // the contract stamps actions in epoch milliseconds
    node.publishOptimizer(new JsonObject().put("rule", "cpu_high").put("action", "shed_load").put("state", "verified")
      .put("result", "effective").put("reason", "cpu back under 80").put("metrics", new JsonObject().put("cpu_percent", 62.5))
      .put("timestamp", System.currentTimeMillis()).put("instance", "pod-a"));
    browser.until("the verified action is shown", d -> browser.text("optimizer-rows").contains("✓ effective"));
    assertThat(browser.text("optimizer-rows")).contains("shed_load", "cpu_high", "cpu back under 80", "cpu_percent=62.5",
      Integer.toString(java.time.Year.now().getValue()));
    assertThat(browser.text("optimizer-note")).isEmpty();
    browser.screenshotOf("optimizer-panel", "dashboard-optimizer.png");

    for (int i = 1; i <= 3; i++) {
      node.publishApp(new ApplicationMetrics(now() + i * 0.01, 42, i, 120, 7, 2, 5, 12.5, 0.01, "chat-1", "chat-room"));
    }
    browser.until("the application charts appear", d -> browser.byId("app-charts").isDisplayed()
      && browser.number("chart-users", "points") == 3);
    assertThat(browser.text("app-note")).isEmpty();
    assertThat(browser.text("chart-errors")).contains("chat-1: 1.00 %");
    assertThat(browser.text("chart-response")).contains("chat-1: 12.5 ms");
  }

  @Test
  @DisplayName("reconnects after the server restarts and fills the gap from history with ?since=")
  void reconnectFillsTheGap() throws Exception {
    double start = now() - 30;
    for (int i = 0; i < 10; i++) {
      node.publish(Samples.at("pod-r", i, start + i, 30, 40, 55));
    }
    waitForHistory("pod-r", start - 1, 10);
    browser.open(node.url("/"));
    browser.until("the chart has the first 10 samples", d -> browser.number("chart-cpu", "points") == 10);

    node.stopEdge();
    browser.until("the badge says reconnecting", d -> "reconnecting".equals(browser.attr("status", "data-state")));
    assertThat(browser.text("status")).contains("reconnecting");
    for (int i = 10; i < 20; i++) {
      node.publish(Samples.at("pod-r", i, start + i, 30 + i, 40, 55));
    }
    waitForHistory("pod-r", start - 1, 20);
    node.startEdge();

    browser.until("back live with the missed samples", d -> "live".equals(browser.attr("status", "data-state"))
      && browser.number("chart-cpu", "points") == 20 && sameTime(browser.number("chart-cpu", "last"), start + 19));
    node.publish(Samples.at("pod-r", 20, now(), 70, 40, 55));
    browser.until("live samples flow again", d -> browser.number("chart-cpu", "points") == 21);
  }

  @Test
  @DisplayName("says stale when samples stop while the connection stays up, and live again when they resume")
  void staleThenLive() throws Exception {
    browser.open(node.url("/"));
    node.publish(Samples.at("pod-s", 1, now(), 30, 40, 55));
    browser.until("live with the first sample", d -> browser.number("chart-cpu", "points") == 1
      && "live".equals(browser.attr("status", "data-state")));
    // nothing more is published: after 10 s without a sample the badge turns (the pongs keep the socket up)
    new org.openqa.selenium.support.ui.WebDriverWait(browser.driver, Duration.ofSeconds(30)).withMessage("the badge says stale")
      .until(d -> "stale".equals(browser.attr("status", "data-state")));
    assertThat(browser.text("status")).matches("⚠ stale: no sample for [0-9]+ s");
    node.publish(Samples.at("pod-s", 2, now(), 31, 40, 55));
    browser.until("live again", d -> "live".equals(browser.attr("status", "data-state")));
  }

  @Test
  @DisplayName("overlays ten live instances and keeps at most 1200 points per series")
  void tenInstancesBounded() throws Exception {
    double now = now();
    for (int i = 0; i < 1300; i++) {
      node.publish(Samples.at("pod-big", i, now - 700 + i * 0.5, 10 + i % 50, 40, 55));
    }
    waitForHistory("pod-big", now - 800, 1300);
    browser.open(node.url("/"));
    browser.until("the backfill is in", d -> "live".equals(browser.attr("status", "data-state")));
    for (int n = 0; n < 9; n++) {
      for (int i = 0; i < 5; i++) {
        node.publish(Samples.at("node-" + n, i, now() + i * 0.01, 10 * n, 40, 55));
      }
    }
    browser.until("ten instances are overlaid", d -> browser.number("chart-cpu", "series") == 10);
    assertThat(new Select(browser.byId("instance")).getOptions()).hasSize(11);
    assertThat(new Select(browser.byId("instance")).getFirstSelectedOption().getText()).isEqualTo("All instances (10)");
    @SuppressWarnings("unchecked")
    var sizes = (java.util.Map<String, Object>) ((java.util.Map<String, Object>) browser.js("return window.pulseDebug.store()")).get("system");
    assertThat(((Number) sizes.get("pod-big")).intValue()).as("the newest 1200 of 1300 samples").isEqualTo(1200);
    assertThat(sizes).hasSize(10);
  }

  /** Timestamps travel as JSON numbers rounded to the millisecond: compare them so, not bit for bit. */
  @Test
  @DisplayName("while the optimizer throttles the stream, aggregated frames plot as their window averages and the page says so; after the revert every sample comes again")
  void throttledStream() throws Exception {
    browser.open(node.url("/"));
    browser.until("the badge says live", d -> "live".equals(browser.attr("status", "data-state")));
    node.publishOptimizer(new JsonObject().put("id", "t-1").put("rule", "cpu_high").put("action", "throttle_streams")
      .put("state", "applied").put("interval_ms", 1000).put("per_second", 2).put("reason", "cpu above 80"));
    browser.until("the page says samples are averaged", d -> browser.text("mode").equals("server busy: samples averaged over 1 s"));

    double live = now();
    for (int i = 0; i < 4; i++) {
      node.publish(Samples.at("pod-t", i + 1, live + i * 0.1, 10 + 10 * i, 40, 55));
    }
    browser.until("the window reaches the chart", d -> sameTime(browser.number("chart-cpu", "last"), live + 0.3));
    assertThat(browser.number("chart-cpu", "points")).as("four samples, one or two aggregated frames").isBetween(1d, 2d);
    if (browser.number("chart-cpu", "points") == 1) {
      assertThat(browser.text("chart-cpu")).contains("pod-t: 25.0 %");
    }
    assertThat(browser.attr("status", "data-state")).isEqualTo("live");

    node.publishOptimizer(new JsonObject().put("id", "t-2").put("rule", "cpu_high").put("action", "throttle_streams")
      .put("state", "reverted").put("reason", "cpu back under 80"));
    browser.until("the note goes with the throttle", d -> browser.text("mode").isEmpty());
    double points = browser.number("chart-cpu", "points");
    node.publish(Samples.at("pod-t", 5, live + 1, 70, 40, 55));
    browser.until("the next sample arrives as it is", d -> browser.number("chart-cpu", "points") == points + 1);
    assertThat(browser.text("chart-cpu")).contains("pod-t: 70.0 %");
  }

  private static boolean sameTime(double a, double b) {
    return Math.abs(a - b) < 0.0015;
  }

  private void waitForHistory(String instance, double since, int count) {
    new FluentWait<>(node).withTimeout(Duration.ofSeconds(20)).pollingEvery(Duration.ofMillis(20))
      .withMessage("history holds " + count + " samples of " + instance)
      .until(n -> {
        try {
          return n.historyCount(instance, since) == count;
        } catch (Exception e) {
          return false;
        }
      });
  }

  private JsonObject get(String path) throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(node.url(path))).build(),
      HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as("GET " + path).isEqualTo(200);
    return new JsonObject(response.body());
  }
}
