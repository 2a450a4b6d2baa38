package dev.fenced.vote.live;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoSuchElementException;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedCondition;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * One headless Chromium session of its own (a fresh profile, so its own localStorage and voter id),
 * driven through the system's chromedriver. Nothing is downloaded: the browser is Debian's {@code
 * chromium} and {@code chromium-driver} (paths overridable with {@code FENCED_CHROMIUM} and {@code
 * FENCED_CHROMEDRIVER}).
 */
final class Browser implements AutoCloseable {

  static final Path CHROMIUM = Path.of(env("FENCED_CHROMIUM", "/usr/bin/chromium"));
  static final Path CHROMEDRIVER = Path.of(env("FENCED_CHROMEDRIVER", "/usr/bin/chromedriver"));
  static final Path SCREENSHOTS = Path.of("target", "screenshots");

  private static final Duration WAIT = Duration.ofSeconds(30);

  private final String name;
  private final Path profile;
  private final ChromeDriver driver;

  /** A desktop session whose window is {@code width} x {@code height} CSS pixels. */
  static Browser desktop(String name, int width, int height) throws IOException {
    return new Browser(name, width, height, false);
  }

  /**
   * A phone-sized session: the page laid out for a {@code width} x {@code height} touch screen
   * (Chromium's device emulation; a headless window cannot be made narrower than 500 pixels).
   */
  static Browser phone(String name, int width, int height) throws IOException {
    return new Browser(name, width, height, true);
  }

  private Browser(String name, int width, int height, boolean phone) throws IOException {
    requireInstalled();
    this.name = name;
    this.profile = Files.createTempDirectory("chromium-" + name);
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        // Without these, Chromium reaches out to Google's services, which the closed network
        // refuses; they are also noise for a test.
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--user-data-dir=" + profile,
        "--window-size=" + Math.max(width, 500) + "," + height);
    if (phone) {
      options.setExperimentalOption(
          "mobileEmulation",
          Map.of(
              "deviceMetrics",
              Map.of("width", width, "height", height, "pixelRatio", 1.0, "touch", true)));
    }
    ChromeDriverService service =
        new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).build();
    this.driver = new ChromeDriver(service, options);
    driver.manage().timeouts().pageLoadTimeout(WAIT);
  }

  private static void requireInstalled() {
    for (Path p : new Path[] {CHROMIUM, CHROMEDRIVER}) {
      if (!Files.isExecutable(p)) {
        throw new IllegalStateException(
            p
                + " is missing: the page's browser test needs the Debian packages chromium and"
                + " chromium-driver (apt-get install chromium chromium-driver; scripts/test.sh"
                + " installs them), or FENCED_CHROMIUM / FENCED_CHROMEDRIVER pointing at them");
      }
    }
  }

  WebDriver driver() {
    return driver;
  }

  void open(String url) {
    driver.get(url);
    // Marks this document: if the page reloaded, the mark would be gone.
    ((JavascriptExecutor) driver).executeScript("window.fencedNoReload = 'same document';");
  }

  /** Whether the document opened by {@link #open} is still the one shown (no reload happened). */
  boolean sameDocument() {
    return "same document"
        .equals(((JavascriptExecutor) driver).executeScript("return window.fencedNoReload;"));
  }

  WebElement find(By by) {
    return until(d -> d.findElement(by));
  }

  /**
   * Waits for {@code condition}; an element not there yet, or replaced while being read (the page
   * redraws live values on every event), counts as not yet.
   */
  <T> T until(ExpectedCondition<T> condition) {
    return new WebDriverWait(driver, WAIT)
        .ignoring(NoSuchElementException.class)
        .ignoring(StaleElementReferenceException.class)
        .until(condition);
  }

  /** The element's text, read again if the page redrew it meanwhile. */
  String text(By by) {
    return until(d -> d.findElement(by).getText());
  }

  /** Waits until the element's text contains {@code text}; returns that text. */
  String waitForText(By by, String text) {
    return until(
        d -> {
          String now = d.findElement(by).getText();
          return now.contains(text) ? now : null;
        });
  }

  // --- the voting page's own elements ---------------------------------------------------------

  /** Clicks the vote button of {@code option} once the page enables it. */
  void vote(String option) {
    WebElement button = find(By.cssSelector("button.option[data-option='" + option + "']"));
    until(d -> button.isEnabled() ? true : null);
    button.click();
  }

  /** The count shown for {@code option}; call it inside {@link #until}, which retries. */
  String count(String option) {
    return driver.findElement(By.cssSelector("[data-count='" + option + "']")).getText();
  }

  /** The tally shown for {@code option} ("tally N"); call it inside {@link #until}. */
  String tally(String option) {
    return driver.findElement(By.cssSelector("[data-tally='" + option + "']")).getText();
  }

  /** Saves the whole page, at the window's width, as {@code target/screenshots/<file>.png}. */
  Path screenshot(String file) throws IOException {
    Files.createDirectories(SCREENSHOTS);
    Path png = SCREENSHOTS.resolve(file + ".png");
    Number width = (Number) driver.executeScript("return document.documentElement.clientWidth;");
    Number height = (Number) driver.executeScript("return document.documentElement.scrollHeight;");
    Map<String, Object> shot =
        driver.executeCdpCommand(
            "Page.captureScreenshot",
            Map.of(
                "format",
                "png",
                "captureBeyondViewport",
                true,
                "clip",
                Map.of("x", 0, "y", 0, "width", width, "height", height, "scale", 1)));
    Files.write(png, Base64.getDecoder().decode((String) shot.get("data")));
    return png;
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      try (Stream<Path> files = Files.walk(profile)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  @Override
  public String toString() {
    return "browser " + name;
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
