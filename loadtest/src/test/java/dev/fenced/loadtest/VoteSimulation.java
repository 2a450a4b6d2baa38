package dev.fenced.loadtest;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.doIf;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import dev.fenced.loadtest.VoteSummary.Answers;
import dev.fenced.loadtest.VoteSummary.Ballot;
import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Cats vs dogs under load: creates a fresh poll, then {@code voters} distinct voters vote once each
 * (cat or dog at random) from {@code concurrency} virtual users, and a share of them ({@code
 * retryShare}) vote a second time, which must be refused with 409. A 503 (lock not had in time,
 * nothing recorded) is retried a few times, honouring a short {@code Retry-After}. Every answer is
 * counted by status into the JSON summary the checker reads.
 *
 * <p>System properties: {@code baseUrl}, {@code poll} (default: a fresh id), {@code voters}, {@code
 * concurrency}, {@code retryShare}, {@code retries503} (default 3), {@code thinkMillis} (pause
 * between one user's votes, default 0), {@code summary} (the JSON file), {@code maxSeconds}.
 */
public class VoteSimulation extends Simulation {

  private static final String BASE_URL = prop("baseUrl", "http://127.0.0.1:18100");
  private static final String POLL =
      prop(
          "poll",
          "cats-vs-dogs-"
              + System.currentTimeMillis()
              + "-"
              + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000)));
  private static final int VOTERS = Integer.parseInt(prop("voters", "1000"));
  private static final int CONCURRENCY = Integer.parseInt(prop("concurrency", "16"));
  private static final double RETRY_SHARE = Double.parseDouble(prop("retryShare", "0.1"));
  private static final int RETRIES_503 = Integer.parseInt(prop("retries503", "3"));
  private static final long THINK_MILLIS = Long.parseLong(prop("thinkMillis", "0"));
  private static final long MAX_SECONDS = Long.parseLong(prop("maxSeconds", "600"));
  private static final Path SUMMARY = Path.of(prop("summary", "target/vote-summary.json"));
  private static final String[] OPTIONS = {"cat", "dog"};

  private final AtomicInteger nextVoter = new AtomicInteger();
  private final Tally first = new Tally();
  private final Tally second = new Tally();
  private final Queue<Ballot> ambiguous = new ConcurrentLinkedQueue<>();
  private final AtomicLong firstSent = new AtomicLong(Long.MAX_VALUE);
  private final AtomicLong lastAnswer = new AtomicLong();

  private static String prop(String name, String fallback) {
    String value = System.getProperty(name);
    return value == null || value.isBlank() ? fallback : value;
  }

  /** Answers by status, shared by all virtual users. */
  private static final class Tally {
    final AtomicLong created = new AtomicLong();
    final AtomicLong conflict = new AtomicLong();
    final AtomicLong unavailable = new AtomicLong();
    final AtomicLong other = new AtomicLong();

    void record(int status) {
      switch (status) {
        case 201 -> created.incrementAndGet();
        case 409 -> conflict.incrementAndGet();
        case 503 -> unavailable.incrementAndGet();
        default -> other.incrementAndGet();
      }
    }

    Answers answers() {
      return new Answers(created.get(), conflict.get(), unavailable.get(), other.get());
    }
  }

  private static int statusOf(Session session) {
    return session.contains("status") ? session.getInt("status") : -1;
  }

  /** Statuses after which the vote may or may not have been recorded. */
  private static boolean definite(int status) {
    return status == 201 || status == 409 || status == 503 || status == 400 || status == 404;
  }

  private ChainBuilder vote(String requestName, Tally tally) {
    return exec(session -> session.remove("status").remove("retryAfter"))
        .exec(
            http(requestName)
                .post("/api/polls/" + POLL + "/votes")
                .body(StringBody("{\"voter\":\"#{voter}\",\"option\":\"#{option}\"}"))
                // Record the status whatever it is: the checker, not Gatling, judges the answers.
                .check(
                    status().saveAs("status"),
                    header("Retry-After").optional().saveAs("retryAfter")))
        .exec(
            session -> {
              tally.record(statusOf(session));
              lastAnswer.accumulateAndGet(System.currentTimeMillis(), Math::max);
              return session;
            });
  }

  private final ChainBuilder firstVote =
      exec(session -> session.set("tries", 0))
          .asLongAs(
              session ->
                  session.getInt("tries") == 0
                      || (statusOf(session) == 503 && session.getInt("tries") <= RETRIES_503))
          .on(
              doIf(session -> session.getInt("tries") > 0)
                  .then(pause(session -> retryPause(session)))
                  .exec(session -> session.set("tries", session.getInt("tries") + 1))
                  .exec(vote("vote", first)))
          .exec(
              session -> {
                if (!definite(statusOf(session))) {
                  ambiguous.add(
                      new Ballot(session.getString("voter"), session.getString("option")));
                }
                return session;
              });

  private static Duration retryPause(Session session) {
    long seconds = 0;
    if (session.contains("retryAfter")) {
      try {
        seconds = Long.parseLong(session.getString("retryAfter").trim());
      } catch (NumberFormatException e) {
        seconds = 0;
      }
    }
    // Retry-After is in whole seconds; a load test waits a little less, never more than a second.
    return Duration.ofMillis(Math.min(1000, Math.max(50, seconds * 1000 / 4)));
  }

  private final ChainBuilder secondVote =
      doIf(session ->
              statusOf(session) == 201 && ThreadLocalRandom.current().nextDouble() < RETRY_SHARE)
          .then(
              exec(session -> session.set("option", randomOption()).set("tries", 1))
                  .exec(vote("revote", second)));

  private final ScenarioBuilder voters =
      scenario("voters")
          .asLongAs(session -> nextVoter.get() < VOTERS)
          .on(
              exec(session -> {
                    int index = nextVoter.getAndIncrement();
                    firstSent.accumulateAndGet(System.currentTimeMillis(), Math::min);
                    return session
                        .set("index", index)
                        .set("voter", "v-" + index)
                        .set("option", randomOption());
                  })
                  .doIf(session -> session.getInt("index") < VOTERS)
                  .then(firstVote.exec(secondVote))
                  .doIf(session -> THINK_MILLIS > 0)
                  .then(pause(Duration.ofMillis(Math.max(THINK_MILLIS, 1)))));

  private static String randomOption() {
    return OPTIONS[ThreadLocalRandom.current().nextInt(OPTIONS.length)];
  }

  private final HttpProtocolBuilder protocol =
      http.baseUrl(BASE_URL)
          .contentTypeHeader("application/json")
          .acceptHeader("application/json")
          .disableCaching();

  {
    setUp(voters.injectOpen(atOnceUsers(CONCURRENCY)))
        .protocols(protocol)
        .maxDuration(Duration.ofSeconds(MAX_SECONDS));
  }

  @Override
  public void before() {
    System.out.printf(
        "[loadtest] poll %s at %s: %d voters, %d at a time, %.0f%% vote twice%n",
        POLL, BASE_URL, VOTERS, CONCURRENCY, RETRY_SHARE * 100);
    String body =
        "{\"id\":\"" + POLL + "\",\"title\":\"Cats or dogs?\",\"options\":[\"cat\",\"dog\"]}";
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(BASE_URL + "/api/polls"))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    try {
      HttpResponse<String> response =
          HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 201 && response.statusCode() != 200) {
        throw new IllegalStateException(
            "creating poll "
                + POLL
                + " answered "
                + response.statusCode()
                + ": "
                + response.body());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create poll " + POLL + " at " + BASE_URL, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void after() {
    long start = firstSent.get();
    long duration = start == Long.MAX_VALUE ? 0 : Math.max(0, lastAnswer.get() - start);
    VoteSummary summary =
        new VoteSummary(
            POLL,
            BASE_URL,
            Math.min(nextVoter.get(), VOTERS),
            CONCURRENCY,
            duration,
            first.answers(),
            second.answers(),
            List.copyOf(ambiguous));
    try {
      summary.write(SUMMARY);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + SUMMARY, e);
    }
    System.out.printf(
        "[loadtest] poll %s: first votes %s, second votes %s, %d ambiguous, %d ms; summary %s%n",
        POLL, summary.votes(), summary.revotes(), ambiguous.size(), duration, SUMMARY);
  }
}
