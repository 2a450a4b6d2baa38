package dev.fenced.vote.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fenced.lock.FencingTokens;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;

/**
 * The page as a person meets it: through the ingress of a running system (nginx in front of several
 * vote-api replicas, round robin, and real tally-workers), in two headless Chromium sessions. Not a
 * unit of {@code mvn verify}: {@code scripts/e2e.sh} runs it against {@code scripts/local-run.sh}
 * with
 *
 * <pre>
 * mvn test -pl vote-api -Dtest=PageThroughIngressCheck -Dfenced.page.url=http://127.0.0.1:18100/ \
 *     -Dfenced.page.switch-to=&lt;policy file of another backend, at a higher epoch&gt;
 * </pre>
 *
 * Each session's vote reaches the other's results without a reload, whichever replica answered
 * either; the exact tally that tally-workers fold arrives the same way; a second vote shows the
 * API's 409; a vote cast with the keyboard alone counts; no screen is wider than the phone; and the
 * locks view follows {@code local-run.sh up <switch-to>} to the other backend and a higher epoch.
 * Screenshots go to {@code target/screenshots/ingress-*.png}.
 */
class PageThroughIngressCheck {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final String base = required("fenced.page.url").replaceAll("/+$", "") + "/";
  private final Path switchTo = Path.of(required("fenced.page.switch-to"));

  @Test
  void voteWatchTheTallyAndFollowAPolicySwitchThroughTheIngress() throws Exception {
    assertThat(switchTo).as("the policy file to switch to").isRegularFile();
    String poll = "page-ingress-" + Long.toString(System.currentTimeMillis(), 36);
    List<String> overflow = new ArrayList<>();
    try (Browser desk = Browser.desktop("ingress-desktop", 1280, 900);
        Browser phone = Browser.phone("ingress-phone", 390, 844)) {
      try {
        run(poll, desk, phone, overflow);
      } catch (RuntimeException | AssertionError e) {
        // What each page showed when it failed, beside the error.
        desk.screenshot("ingress-failed-desktop");
        phone.screenshot("ingress-failed-phone");
        throw e;
      }
    }
    assertThat(overflow).as("screens wider than the phone").isEmpty();
  }

  private void run(String poll, Browser desk, Browser phone, List<String> overflow)
      throws Exception {
    // Create the poll through the form.
    desk.open(base + "#/new");
    desk.find(By.id("id")).sendKeys(poll);
    desk.find(By.id("title")).sendKeys("Cats or dogs, through the ingress?");
    desk.find(By.id("options")).sendKeys("cat\ndog");
    desk.find(By.cssSelector("form.new-poll button[type=submit]")).click();
    desk.until(d -> d.getCurrentUrl().endsWith("#/polls/" + poll));

    // The phone watches the results, live over the stream location of the ingress.
    phone.open(base + "#/polls/" + poll + "/results");
    phone.waitForText(By.id("results-state"), "live");
    phone.until(d -> "0".equals(phone.count("cat")) ? true : null);
    fitsThePhone(phone, "results", overflow);
    desk.vote("cat");
    desk.waitForText(By.id("vote-status"), "Counted: cat now has 1 vote");
    phone.until(d -> "1".equals(phone.count("cat")) ? true : null);
    assertThat(phone.sameDocument()).as("the phone's results arrived without a reload").isTrue();

    // The desktop watches; the phone votes for dog with the keyboard alone.
    desk.find(By.linkText("See the live results")).click();
    desk.waitForText(By.id("results-state"), "live");
    phone.find(By.linkText("Vote")).click();
    WebElement dog = phone.find(By.cssSelector("button.option[data-option='dog']"));
    phone.until(d -> dog.isEnabled() ? true : null);
    fitsThePhone(phone, "vote", overflow);
    tabTo(phone, dog);
    new Actions(phone.driver()).sendKeys(Keys.ENTER).perform();
    phone.waitForText(By.id("vote-status"), "Counted: dog now has 1 vote");
    desk.until(d -> "1".equals(desk.count("dog")) ? true : null);
    assertThat(desk.sameDocument()).as("the desktop's results arrived without a reload").isTrue();

    // The exact tally, folded by the tally-workers from the ballots, arrives on both pages.
    desk.until(d -> "tally 1".equals(desk.tally("cat")) && "tally 1".equals(desk.tally("dog")));
    desk.waitForText(By.id("tallied"), "2");
    desk.screenshot("ingress-01-results-tallied-desktop");
    phone.find(By.linkText("Results")).click();
    phone.until(d -> "tally 1".equals(phone.tally("dog")) ? true : null);
    phone.waitForText(By.id("tallied"), "2");
    assertThat(phone.text(By.id("ballots"))).isEqualTo("2");
    phone.screenshot("ingress-02-results-tallied-phone");

    // A second vote by the same voter: the API's 409.
    desk.find(By.linkText("Vote")).click();
    desk.vote("dog");
    assertThat(desk.waitForText(By.id("vote-error"), "409")).contains("has already voted");
    desk.screenshot("ingress-03-second-vote-409-desktop");

    // The locks view, then a switch of the running system to another backend.
    String before = policyOf(poll).path("backend").asText();
    long epochBefore = policyOf(poll).path("epoch").asLong();
    desk.find(By.linkText("Locks")).click();
    desk.waitForText(By.id("locks-state"), "live");
    assertThat(desk.waitForText(By.id("backend"), before)).isEqualTo(before);
    desk.screenshot("ingress-04-locks-before-desktop");
    phone.find(By.linkText("Locks")).click();
    phone.waitForText(By.id("backend"), before);
    fitsThePhone(phone, "locks", overflow);

    switchPolicy(epochBefore + 1);
    String after =
        await()
            .atMost(WAIT)
            .until(() -> policyOf(poll).path("backend").asText(), b -> !b.equals(before));
    desk.waitForText(By.id("backend"), after);
    assertThat(desk.sameDocument()).as("the switch arrived without a reload").isTrue();
    long epochAfter = Long.parseLong(desk.text(By.id("epoch")));
    assertThat(epochAfter).as("the epoch after the switch").isGreaterThan(epochBefore);
    // A vote after the switch is fenced by a token of the new epoch, which the page shows.
    await().atMost(WAIT).until(() -> voteByApi(poll, "after-switch", "cat") == 201);
    long fence = fenceOf(poll, "cat");
    assertThat(FencingTokens.epoch(fence)).isGreaterThanOrEqualTo(epochAfter);
    desk.waitForText(By.cssSelector("[data-fence='cat']"), "epoch " + FencingTokens.epoch(fence));
    desk.screenshot("ingress-05-locks-after-switch-desktop");
    phone.waitForText(By.id("backend"), after);
    phone.screenshot("ingress-06-locks-after-switch-phone");
    System.out.printf(
        "[page] %s: votes and tally live through %s; locks %s epoch %d -> %s epoch %d%n",
        poll, base, before, epochBefore, after, epochAfter);
  }

  /** Presses Tab until {@code target} has the focus; fails if it is not in the tab order. */
  private static void tabTo(Browser browser, WebElement target) {
    JavascriptExecutor js = (JavascriptExecutor) browser.driver();
    js.executeScript("document.activeElement && document.activeElement.blur(); window.focus();");
    for (int i = 0; i < 40; i++) {
      new Actions(browser.driver()).sendKeys(Keys.TAB).perform();
      if (Boolean.TRUE.equals(
          js.executeScript("return document.activeElement === arguments[0];", target))) {
        return;
      }
    }
    throw new AssertionError("40 presses of Tab never reached " + target.getText());
  }

  /** Records the screen if the page is wider than the phone (a horizontal scroll). */
  private static void fitsThePhone(Browser phone, String screen, List<String> overflow) {
    Object widths =
        ((JavascriptExecutor) phone.driver())
            .executeScript(
                "const e = document.documentElement; return [e.scrollWidth, e.clientWidth];");
    List<?> w = (List<?>) widths;
    if (((Number) w.get(0)).intValue() > ((Number) w.get(1)).intValue()) {
      overflow.add(screen + ": " + w.get(0) + " px wide in " + w.get(1));
    }
  }

  /**
   * {@code local-run.sh up} of the switch-to file at {@code epoch}: a move to another backend needs
   * an epoch above the one in force, which the shared Redis's ledger may have raised past the
   * file's own (docs/lockpolicy.md), so the file's {@code locks.fenced.dev/epoch} is set as a
   * person would set it.
   */
  private void switchPolicy(long epoch) throws IOException, InterruptedException {
    Path root = Path.of(System.getProperty("fenced.root", "..")).toAbsolutePath().normalize();
    String text = Files.readString(switchTo);
    String raised =
        text.replaceAll(
            "locks\\.fenced\\.dev/epoch: \"\\d+\"", "locks.fenced.dev/epoch: \"" + epoch + "\"");
    assertThat(raised)
        .as("%s has a locks.fenced.dev/epoch annotation", switchTo)
        .isNotEqualTo(text);
    Path file = Path.of("target", "page-switch-policy.yaml").toAbsolutePath();
    Files.writeString(file, raised);
    Process p =
        new ProcessBuilder(root.resolve("scripts/local-run.sh").toString(), "up", file.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as("local-run.sh up %s:%n%s", file, out).isZero();
  }

  private JsonNode locks(String poll) throws IOException, InterruptedException {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(base + "api/polls/" + poll + "/locks"))
                .timeout(Duration.ofSeconds(5))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET locks: %s", r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  /** The policy the answering replica reports for the poll's vote locks. */
  private JsonNode policyOf(String poll) throws IOException, InterruptedException {
    JsonNode policies = locks(poll).path("policies");
    assertThat(policies.isArray() && policies.size() > 0).as("policies of %s", poll).isTrue();
    return policies.get(0);
  }

  private long fenceOf(String poll, String option) throws IOException, InterruptedException {
    for (JsonNode lock : locks(poll).path("locks")) {
      if (lock.path("lock").asText().endsWith(":" + option)) {
        return lock.path("fence").asLong();
      }
    }
    throw new AssertionError("no lock of " + option + " in the locks view of " + poll);
  }

  private int voteByApi(String poll, String voter, String option)
      throws IOException, InterruptedException {
    String body = JSON.writeValueAsString(Map.of("voter", voter, "option", option));
    return HTTP.send(
            HttpRequest.newBuilder(URI.create(base + "api/polls/" + poll + "/votes"))
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  private static String required(String property) {
    String value = System.getProperty(property);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          "-D"
              + property
              + " is required: this check runs against a running system (scripts/e2e.sh runs it)");
    }
    return value;
  }
}
