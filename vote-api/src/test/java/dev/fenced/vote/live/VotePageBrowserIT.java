package dev.fenced.vote.live;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.FencingTokens;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockService;
import dev.fenced.vote.FencedTestServers;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The page in a real headless Chromium, two sessions at once (a desktop window and a phone-sized
 * one, each with its own voter id): the 404 of an unknown poll, the 400 of a refused form field, a
 * poll created through the form, each session's vote arriving in the other's results without a
 * reload, the 409 of a second vote, the 503 of a vote whose lock is held elsewhere and its retry,
 * and the locks view following a policy switch from Redis to PostgreSQL with a higher epoch.
 * Screenshots of every screen go to {@code target/screenshots/}.
 */
@QuarkusTest
@WithTestResource(FencedTestServers.class)
class VotePageBrowserIT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @TestHTTPResource("/")
  URI base;

  @Inject Vertx vertx;

  @Test
  void twoPeopleVoteWatchResultsAndLocksChange() throws Exception {
    String prefix = "page-" + UUID.randomUUID().toString().substring(0, 6) + "-";
    String poll = prefix + "pets";
    try (PolicyFiles policy = new PolicyFiles(prefix);
        Browser desk = Browser.desktop("desktop", 1280, 900);
        Browser phone = Browser.phone("phone", 390, 844)) {
      // A short maxWait, so a vote whose lock is held elsewhere answers 503 soon.
      policy.write(1, PolicyFiles.REDIS, "500ms");

      // An unknown poll: the API's 404, shown as it gives it.
      phone.open(base + "#/polls/" + prefix + "nothing");
      assertThat(phone.waitForText(By.id("vote-error"), "404")).contains("no poll");

      // Create the poll through the form; a refused field is named and marked first.
      desk.open(base + "#/new");
      desk.find(By.id("id")).sendKeys(poll);
      desk.find(By.id("title")).sendKeys("Cats or dogs?");
      desk.find(By.id("options")).sendKeys("cat\ncat");
      desk.find(By.cssSelector("form.new-poll button[type=submit]")).click();
      assertThat(desk.waitForText(By.id("form-error"), "400")).contains("options");
      WebElement options = desk.find(By.id("options"));
      assertThat(options.getAttribute("aria-invalid")).isEqualTo("true");
      desk.screenshot("01-new-poll-400-desktop");
      options.clear();
      options.sendKeys("cat\ndog");
      desk.find(By.cssSelector("form.new-poll button[type=submit]")).click();
      desk.until(d -> d.getCurrentUrl().endsWith("#/polls/" + poll));
      desk.waitForText(By.tagName("h1"), "Cats or dogs?");

      // It is in the list.
      phone.open(base.toString());
      phone.waitForText(By.id("polls"), "Cats or dogs?");
      phone.screenshot("02-polls-phone");

      // The phone watches the results; the desktop votes for cat.
      phone.open(base + "#/polls/" + poll + "/results");
      phone.waitForText(By.id("results-state"), "live");
      phone.until(d -> "0".equals(phone.count("cat")) ? true : null);
      awaitGovernedByTestPolicy(poll, policy);
      desk.vote("cat");
      desk.waitForText(By.id("vote-status"), "Counted: cat now has 1 vote");
      desk.screenshot("03-voted-desktop");
      phone.until(d -> "1".equals(phone.count("cat")) ? true : null);
      assertThat(phone.sameDocument()).as("the phone's results arrived without a reload").isTrue();
      phone.screenshot("04-results-phone");

      // The other way round: the desktop watches, the phone votes for dog.
      desk.find(By.linkText("See the live results")).click();
      desk.waitForText(By.id("results-state"), "live");
      phone.find(By.linkText("Vote")).click();
      phone.vote("dog");
      phone.waitForText(By.id("vote-status"), "Counted: dog now has 1 vote");
      desk.until(d -> "1".equals(desk.count("dog")) ? true : null);
      assertThat(desk.sameDocument()).as("the desktop's results arrived without a reload").isTrue();
      desk.waitForText(By.id("ballots"), "2");
      desk.screenshot("05-results-desktop");

      // A second vote by the same voter: the API's 409, shown as it says it.
      desk.find(By.linkText("Vote")).click();
      desk.vote("dog");
      String conflict = desk.waitForText(By.id("vote-error"), "409");
      assertThat(conflict).contains("has already voted");
      desk.screenshot("06-second-vote-409-desktop");

      // The lock of cat held elsewhere past maxWait: 503, try again, nothing recorded; then retry.
      try (LockService elsewhere = FencedTestServers.otherReplica(vertx)) {
        LockHandle held = elsewhere.acquireBlocking("vote:" + poll + ":cat", Duration.ofSeconds(2));
        try {
          phone.find(By.xpath("//button[normalize-space()='Vote as someone new']")).click();
          phone.vote("cat");
          String busy = phone.waitForText(By.id("vote-error"), "503");
          assertThat(busy).contains("Nothing was recorded").contains("Try again");
          phone.screenshot("07-lock-busy-503-phone");
        } finally {
          LockService.await(held.release());
        }
      }
      phone.vote("cat");
      phone.waitForText(By.id("vote-status"), "Counted: cat now has 2 votes");

      // The locks view: the test's policy on Redis at the epoch in force (the file's 1, or above
      // it when the shared Redis's ledger records a higher one), cat's fence from that epoch.
      long onRedis = FencingTokens.epoch(fenceOf(poll));
      assertThat(onRedis).isGreaterThanOrEqualTo(1);
      desk.find(By.linkText("Locks")).click();
      desk.waitForText(By.id("locks-state"), "live");
      assertThat(desk.waitForText(By.id("backend"), "Redis")).isEqualTo("Redis");
      assertThat(desk.text(By.id("epoch"))).isEqualTo(Long.toString(onRedis));
      desk.waitForText(By.cssSelector("[data-fence='cat']"), "epoch " + onRedis);
      desk.until(
          d ->
              d.findElement(By.cssSelector("[data-policy='voting/" + policy.name() + "']"))
                  .isDisplayed());
      assertThat(desk.text(By.cssSelector("[data-metric='wait']"))).contains("ms");
      assertThat(desk.text(By.id("replica"))).isNotBlank().isNotEqualTo("—");
      desk.screenshot("08-locks-redis-desktop");
      phone.find(By.linkText("Locks")).click();
      phone.waitForText(By.id("backend"), "Redis");
      phone.screenshot("09-locks-redis-phone");

      // Switch the policy: PostgreSQL's lock table, at an epoch above the one in force. The open
      // page follows.
      policy.write(onRedis + 1, PolicyFiles.POSTGRES_LOCK_TABLE, "2s");
      desk.waitForText(By.id("backend"), "Postgres/LockTable");
      assertThat(desk.sameDocument()).as("the switch arrived without a reload").isTrue();
      // The next vote for cat is fenced by a token of the higher epoch, which the page shows.
      await().atMost(WAIT).until(() -> voteByApi(poll, "v-after-switch", "cat") == 201);
      long onPostgres = FencingTokens.epoch(fenceOf(poll));
      assertThat(onPostgres).isGreaterThan(onRedis);
      desk.waitForText(By.cssSelector("[data-fence='cat']"), "epoch " + onPostgres);
      desk.until(d -> Long.toString(onPostgres).equals(desk.text(By.id("epoch"))) ? true : null);
      desk.screenshot("10-locks-after-switch-desktop");
      phone.waitForText(By.cssSelector("[data-fence='cat']"), "epoch " + onPostgres);
      phone.screenshot("11-locks-after-switch-phone");
    }
  }

  /** Waits until the service has read the test's policy file, so votes go through it. */
  private static void awaitGovernedByTestPolicy(String poll, PolicyFiles policy) {
    await()
        .atMost(WAIT)
        .until(
            () ->
                ("voting/" + policy.name())
                    .equals(
                        given()
                            .get("/api/polls/{id}/locks", poll)
                            .then()
                            .extract()
                            .jsonPath()
                            .getString("locks[0].policy")));
  }

  /** The fence of cat's lock, as the API's locks view reports it. */
  private static long fenceOf(String poll) {
    return given()
        .get("/api/polls/{id}/locks", poll)
        .then()
        .statusCode(200)
        .extract()
        .jsonPath()
        .getLong("locks.find { it.lock.endsWith(':cat') }.fence");
  }

  private static int voteByApi(String poll, String voter, String option) {
    return given()
        .contentType(ContentType.JSON)
        .body(Map.of("voter", voter, "option", option))
        .post("/api/polls/{id}/votes", poll)
        .statusCode();
  }
}
