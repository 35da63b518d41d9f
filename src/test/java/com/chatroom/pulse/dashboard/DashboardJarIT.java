package com.chatroom.pulse.dashboard;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.JarProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The dashboard served by the fat JAR with its real sampler, in headless Chromium; screenshots of the main views. */
@DisplayName("The dashboard from the fat JAR, in a real browser")
class DashboardJarIT {

  private static final String SAMPLER = "{\"sampler\":{\"interval_ms\":250}}";
  private Browser browser;
  private JarProcess jar;

  @AfterEach
  void stop() throws InterruptedException {
    if (browser != null) {
      browser.close();
    }
    if (jar != null) {
      jar.close();
    }
  }

  private JarProcess launch(int port, Map<String, String> extraEnv) throws IOException {
    Map<String, String> env = new java.util.HashMap<>(Map.of("HTTP_PORT", Integer.toString(port), "INSTANCE_ID", "jar-node"));
    env.putAll(extraEnv);
    return JarProcess.start(env, List.of(), "-conf", SAMPLER);
  }

  private String url(int port, String path) {
    return "http://127.0.0.1:" + port + path;
  }

  @Test
  @DisplayName("loads from the JAR, charts the real sampler live, and resumes after the JAR is restarted")
  void liveFromTheJarAndRestart() throws Exception {
    browser = Browser.start();
    int port = Edge.freePort();
    jar = launch(port, Map.of());
    browser.until("the JAR answers", d -> ready(port));
    browser.open(url(port, "/"));
    browser.until("the sampler's points reach the CPU chart", d -> browser.number("chart-cpu", "points") >= 8);
    browser.until("live with a delivery lag", d -> "live".equals(browser.attr("status", "data-state"))
      && browser.text("lag").startsWith("delivery lag"));
    assertThat(browser.text("chart-cpu")).contains("jar-node: ");
    assertThat(browser.text("chart-memory")).matches("(?s).*jar-node: [0-9.]+ %.*");
    assertThat(browser.text("optimizer-note")).as("the optimizer runs in the JAR and its audit is read")
      .doesNotContain("404").doesNotContain("did not answer");
    browser.until("the summary is read from history", d -> browser.text("summary-rows").contains("CPU %"));
    assertThat(browser.scriptErrors()).as("script errors in the page").isEmpty();
    saveScreenshots();

    double before = browser.number("chart-cpu", "last");
    jar.process().destroy();
    assertThat(jar.process().waitFor(30, TimeUnit.SECONDS)).as("the JAR exits on SIGTERM").isTrue();
    browser.until("the badge says reconnecting", d -> "reconnecting".equals(browser.attr("status", "data-state")));
    jar = launch(port, Map.of());
    browser.until("live again, with samples from the new process", d -> "live".equals(browser.attr("status", "data-state"))
      && browser.number("chart-cpu", "last") > before + 1);
    double resumed = browser.number("chart-cpu", "points");
    browser.until("the chart keeps growing", d -> browser.number("chart-cpu", "points") >= resumed + 4);
  }

  @Test
  @DisplayName("with PULSE_DASHBOARD_TOKEN the page asks for the token, refuses a wrong one and goes live with the right one")
  void dashboardToken() throws Exception {
    browser = Browser.start();
    int port = Edge.freePort();
    String token = "jar-dashboard-token-0123456789";
    jar = launch(port, Map.of("PULSE_DASHBOARD_TOKEN", token));
    browser.until("the JAR answers", d -> ready(port));
    browser.open(url(port, "/"));
    browser.until("redirected to the login form", d -> browser.driver.getCurrentUrl().endsWith("/login.html"));
    browser.byId("token").sendKeys("wrong-token-wrong-token");
    browser.byId("token").submit();
    browser.until("a wrong token is refused", d -> browser.byId("failed").isDisplayed());

    browser.byId("token").sendKeys(token);
    browser.driver.findElement(By.cssSelector("form button[type=submit]")).click();
    browser.until("the dashboard loads and goes live", d -> browser.driver.getCurrentUrl().equals(url(port, "/"))
      && browser.number("chart-cpu", "points") >= 3);
    assertThat(browser.driver.getCurrentUrl()).doesNotContain(token);
    assertThat(browser.driver.manage().getCookieNamed("pulse_dashboard").isHttpOnly()).isTrue();
    assertThat(browser.scriptErrors()).as("script errors in the page").isEmpty();
  }

  private void saveScreenshots() throws IOException {
    browser.size(1280, 800);
    browser.until("the charts are drawn", d -> !browser.driver.findElements(By.cssSelector("#chart-cpu canvas")).isEmpty());
    Path desktop = browser.screenshot("dashboard.png");
    browser.size(390, 844);
    browser.until("the phone layout has one column", d -> browser.byId("chart-memory").getLocation().getX()
      == browser.byId("chart-cpu").getLocation().getX());
    browser.until("the charts are redrawn to the phone's width", d -> fits("chart-cpu") && fits("chart-memory"));
    assertThat(browser.byId("chart-cpu").getSize().getWidth()).as("charts fit a phone").isLessThanOrEqualTo(390);
    assertThat(((Number) browser.js("return document.documentElement.scrollWidth")).intValue()).as("no sideways scrolling")
      .isLessThanOrEqualTo(390);
    Path phone = browser.screenshot("dashboard-phone.png");
    browser.size(1280, 800);
    assertThat(Files.size(desktop)).isPositive();
    assertThat(Files.size(phone)).isPositive();
  }

  private boolean fits(String chart) {
    var figure = browser.byId(chart);
    var canvas = figure.findElement(By.tagName("canvas"));
    return canvas.getRect().getX() + canvas.getRect().getWidth() <= figure.getRect().getX() + figure.getRect().getWidth();
  }

  private static boolean ready(int port) {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
