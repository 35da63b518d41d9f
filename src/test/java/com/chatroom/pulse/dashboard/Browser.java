package com.chatroom.pulse.dashboard;

import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedCondition;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.opentest4j.AssertionFailedError;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.logging.Level;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Debian's headless Chromium driven by its chromedriver, with a fresh profile per browser. Tests that need it call
 * {@link #start()}. On a developer's machine without the two binaries they are skipped (a JUnit assumption); where
 * the environment variable {@code CI} is set they fail instead, so that a CI run cannot go green with no browser test.
 */
final class Browser implements AutoCloseable {

  static final Path CHROMIUM = Path.of(System.getProperty("dashboard.chromium", "/usr/bin/chromium"));
  static final Path CHROMEDRIVER = Path.of(System.getProperty("dashboard.chromedriver", "/usr/bin/chromedriver"));
  static final Duration WAIT = Duration.ofSeconds(20);
  /**
   * Where the tests leave their screenshots: target/dashboard-screenshots, or docs with
   * {@code -Ddashboard.screenshots=docs} (how the README's pictures are made).
   */
  static final Path SCREENSHOTS = Path.of(System.getProperty("dashboard.screenshots", "target/dashboard-screenshots"));

  final ChromeDriver driver;
  private final Path profile;

  private Browser(ChromeDriver driver, Path profile) {
    this.driver = driver;
    this.profile = profile;
  }

  static Browser start() throws IOException {
    requireInstalled(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER), System.getenv("CI"));
    Path profile = Files.createTempDirectory("pulse-chromium-");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=1280,800", "--lang=en-US");
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
      .usingAnyFreePort().build();
    return new Browser(new ChromeDriver(service, options), profile);
  }

  /**
   * Skips the calling test when the browser is missing, or fails it when {@code ci} (the value of the environment
   * variable CI) is set to anything but empty, {@code false} or {@code 0}.
   */
  static void requireInstalled(boolean installed, String ci) {
    if (installed) {
      return;
    }
    String missing = "Debian's chromium and chromium-driver are needed (" + CHROMIUM + ", " + CHROMEDRIVER + "), as .ci/run installs them";
    boolean onCi = ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false") && !ci.equals("0");
    if (onCi) {
      throw new AssertionFailedError("browser tests cannot run: " + missing + ". CI=" + ci + " is set, so this fails"
        + " instead of skipping");
    }
    assumeTrue(false, "browser tests skipped: " + missing);
  }

  void open(String url) {
    driver.get(url);
  }

  <T> T until(String what, ExpectedCondition<T> condition) {
    return new WebDriverWait(driver, WAIT).withMessage(what).until(condition);
  }

  WebElement byId(String id) {
    return driver.findElement(By.id(id));
  }

  String text(String id) {
    return byId(id).getText();
  }

  String attr(String id, String name) {
    return byId(id).getDomAttribute(name);
  }

  /** A data-* attribute of an element as a number (the charts publish their point count and newest time so). */
  double number(String id, String dataName) {
    String value = byId(id).getDomAttribute("data-" + dataName);
    return value == null || value.isEmpty() ? Double.NaN : Double.parseDouble(value);
  }

  Object js(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  /** Sets the viewport (what the page lays out in), not the window around it. */
  void size(int width, int height) {
    driver.manage().window().setSize(new Dimension(width, height));
    long innerWidth = ((Number) js("return window.innerWidth")).longValue();
    long innerHeight = ((Number) js("return window.innerHeight")).longValue();
    driver.manage().window().setSize(new Dimension(2 * width - (int) innerWidth, 2 * height - (int) innerHeight));
  }

  Path screenshot(String name) throws IOException {
    Files.createDirectories(SCREENSHOTS);
    File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
    Path target = SCREENSHOTS.resolve(name);
    Files.copy(shot.toPath(), target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return target;
  }

  /** A screenshot of the viewport with the top of one panel just under the page's sticky header. */
  Path screenshotOf(String id, String name) throws IOException {
    js("const el = document.getElementById(arguments[0]);"
      + "window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - document.querySelector('header').offsetHeight - 8)", id);
    return screenshot(name);
  }

  /** Console messages at SEVERE (script errors, refused loads, CSP violations) since the last call. */
  List<String> severeConsole() {
    return driver.manage().logs().get(LogType.BROWSER).getAll().stream()
      .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue()).map(LogEntry::getMessage).toList();
  }

  /**
   * Script errors, refused loads and policy violations since the last call; not the console lines Chromium writes
   * for an HTTP error answer (an API that is switched off answers 503) or for a WebSocket that could not connect while the
   * server was down (expected in the restart tests).
   */
  List<String> scriptErrors() {
    return severeConsole().stream()
      .filter(m -> !m.contains("Failed to load resource: the server responded with a status of"))
      .filter(m -> !(m.contains("WebSocket connection to") && m.contains("failed")))
      .toList();
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      deleteQuietly(profile);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // a temp profile left behind is harmless
    }
  }
}
