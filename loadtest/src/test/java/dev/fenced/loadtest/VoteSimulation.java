package dev.fenced.loadtest;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.bodyString;
import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.doIf;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.responseTimeInMillis;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.core.CoreDsl.stopLoadGeneratorIf;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import dev.fenced.loadtest.VoteSummary.Answers;
import dev.fenced.loadtest.VoteSummary.Ballot;
import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.PopulationBuilder;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * Cats vs dogs under load, in phases that run one after the other in one Gatling run:
 *
 * <ol>
 *   <li><b>warm-up</b> ({@code warmupSeconds}, default 0: none): the closed loop below on a poll of
 *       its own ({@code <poll>-warmup}), so that freshly started services have compiled their hot
 *       paths and filled their pools before anything is measured. Not counted.
 *   <li><b>closed loop</b>, the measured phase: {@code voters} distinct voters vote once each (cat
 *       or dog at random) from {@code concurrency} virtual users, and a share of them ({@code
 *       retryShare}) vote a second time, which must be refused with 409. A 503 (lock not had in
 *       time, nothing recorded) is retried a few times, honouring a short {@code Retry-After}.
 *       Around it the vote-api replicas' lock meters are read ({@code metricsUrls}) to tell how
 *       many votes each lock hold served.
 *   <li><b>tally lag</b> ({@code tallyWaitSeconds}, default 30; 0: not measured): how long after
 *       the closed loop's last answer the poll's tally has folded every ballot.
 *   <li><b>capacity</b> ({@code capacityRates}, e.g. {@code 50,100,200}; default: none): an open
 *       model, fresh voters arriving at each constant rate for {@code levelSeconds}, one level
 *       after the other (each starts when the previous one's votes are all answered), on the same
 *       poll; each level is judged by the {@link Slo} ({@code sloP99Millis}, {@code
 *       sloMaxRefusedShare}) and the run stops after two levels in a row missed it ({@link
 *       VoteSummary.Capacity#MISSES_TO_STOP}).
 * </ol>
 *
 * <p>Every answer is counted by status, every 201's count and fence kept, into the JSON summary the
 * checker reads ({@code summary}). Other system properties: {@code baseUrl}, {@code poll} (default:
 * a fresh id), {@code retries503} (default 3), {@code thinkMillis} (pause between one user's votes,
 * default 0), {@code closedLoopSeconds} (the closed loop starts no new voter after this long, so
 * that its length, not its number of voters, is fixed; default 0: no limit), {@code maxSeconds}.
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
  private static final String WARMUP_POLL = POLL + "-warmup";
  private static final int VOTERS = intProp("voters", 1000, 1);
  private static final int CONCURRENCY = intProp("concurrency", 16, 1);
  private static final double RETRY_SHARE = Double.parseDouble(prop("retryShare", "0.1"));
  private static final int RETRIES_503 = intProp("retries503", 3, 0);
  private static final long THINK_MILLIS = intProp("thinkMillis", 0, 0);
  private static final long MAX_SECONDS = intProp("maxSeconds", 600, 1);
  private static final long CLOSED_LOOP_SECONDS = intProp("closedLoopSeconds", 0, 0);
  private static final int WARMUP_SECONDS = intProp("warmupSeconds", 0, 0);
  private static final int TALLY_WAIT_SECONDS = intProp("tallyWaitSeconds", 30, 0);
  private static final List<String> METRICS_URLS = list(prop("metricsUrls", ""));
  private static final List<Double> CAPACITY_RATES = rates(prop("capacityRates", ""));
  private static final int LEVEL_SECONDS = intProp("levelSeconds", 4, 1);
  private static final Slo SLO =
      new Slo(
          intProp("sloP99Millis", 100, 1),
          Double.parseDouble(prop("sloMaxRefusedShare", Double.toString(0.01))));
  private static final Path SUMMARY = Path.of(prop("summary", "target/vote-summary.json"));
  private static final String[] OPTIONS = {"cat", "dog"};

  private final AtomicInteger nextVoter = new AtomicInteger();
  private final AtomicInteger nextWarmVoter = new AtomicInteger();
  private final Tally warm = new Tally(false);
  private final Tally first = new Tally(true);
  private final Tally second = new Tally(true);
  private final AtomicLong refused = new AtomicLong();
  private final Latencies latency = new Latencies();
  private final Queue<Ballot> ambiguous = new ConcurrentLinkedQueue<>();
  private final Map<String, Queue<long[]>> acks = new ConcurrentHashMap<>();
  private final AtomicLong firstSent = new AtomicLong(Long.MAX_VALUE);
  private final AtomicLong lastAnswer = new AtomicLong();
  private final AtomicReference<LockStats> locksBefore = new AtomicReference<>();
  private final AtomicReference<LockStats> locksAfter = new AtomicReference<>();
  private final AtomicReference<Long> tallyLag = new AtomicReference<>();
  private final List<LevelState> levels = new ArrayList<>();
  private final Queue<Ballot> capacityAmbiguous = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean capacityStopped = new AtomicBoolean();
  private final AtomicInteger missesInARow = new AtomicInteger();

  private static String prop(String name, String fallback) {
    String value = System.getProperty(name);
    return value == null || value.isBlank() ? fallback : value.trim();
  }

  private static int intProp(String name, int fallback, int min) {
    String value = prop(name, Integer.toString(fallback));
    try {
      int n = Integer.parseInt(value);
      if (n < min) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "-D" + name + " must be a whole number of at least " + min + ", was '" + value + "'");
    }
  }

  private static List<String> list(String csv) {
    return Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  private static List<Double> rates(String csv) {
    List<Double> rates = new ArrayList<>();
    for (String s : list(csv)) {
      double rate;
      try {
        rate = Double.parseDouble(s);
      } catch (NumberFormatException e) {
        rate = Double.NaN;
      }
      if (!(rate > 0) || (!rates.isEmpty() && rate <= rates.get(rates.size() - 1))) {
        throw new IllegalArgumentException(
            "-DcapacityRates must be rising positive rates (votes/s), e.g. 50,100,200; was '"
                + csv
                + "'");
      }
      rates.add(rate);
    }
    return rates;
  }

  /** The measured phases' answers that were neither 201, 409 nor 503, by status. */
  private static final Map<String, AtomicLong> OTHER_STATUSES = new ConcurrentHashMap<>();

  /** Answers by status, shared by all virtual users. */
  private static final class Tally {
    final AtomicLong created = new AtomicLong();
    final AtomicLong conflict = new AtomicLong();
    final AtomicLong unavailable = new AtomicLong();
    final AtomicLong other = new AtomicLong();
    final boolean measured;

    Tally(boolean measured) {
      this.measured = measured;
    }

    void record(int status) {
      switch (status) {
        case 201 -> created.incrementAndGet();
        case 409 -> conflict.incrementAndGet();
        case 503 -> unavailable.incrementAndGet();
        default -> {
          other.incrementAndGet();
          if (measured) {
            OTHER_STATUSES
                .computeIfAbsent(
                    status < 0 ? "none" : Integer.toString(status), k -> new AtomicLong())
                .incrementAndGet();
          }
        }
      }
    }

    Answers answers() {
      return new Answers(created.get(), conflict.get(), unavailable.get(), other.get());
    }
  }

  /** One capacity level while it runs. */
  private static final class LevelState {
    final double rate;
    final AtomicLong sent = new AtomicLong();
    final Tally answers = new Tally(true);
    final Latencies latency = new Latencies();

    LevelState(double rate) {
      this.rate = rate;
    }

    VoteSummary.Level result() {
      Latencies.Percentiles p = latency.percentiles();
      Answers a = answers.answers();
      return new VoteSummary.Level(rate, sent.get(), a, p, SLO.miss(sent.get(), a, p).orElse(null));
    }
  }

  private static int statusOf(Session session) {
    return session.contains("status") ? session.getInt("status") : -1;
  }

  /** Statuses after which the vote may or may not have been recorded. */
  private static boolean definite(int status) {
    return status == 201 || status == 409 || status == 503 || status == 400 || status == 404;
  }

  /**
   * One vote of {@code #{voter}} for {@code #{option}} in {@code poll}: its status into {@code
   * tally}, its response time into {@code times} and its time into {@code answeredAt} (when given),
   * its count and fence into the acknowledgements (when {@code measured}).
   */
  private ChainBuilder vote(
      String requestName,
      String poll,
      Tally tally,
      Latencies times,
      AtomicLong answeredAt,
      boolean measured) {
    return exec(session ->
            session
                .removeAll("status", "retryAfter", "rt", "count", "fence")
                .set("sentAt", System.currentTimeMillis()))
        .exec(
            http(requestName)
                .post("/api/polls/" + poll + "/votes")
                .body(StringBody("{\"voter\":\"#{voter}\",\"option\":\"#{option}\"}"))
                // Record the status whatever it is: the checker, not Gatling, judges the answers.
                .check(
                    status().saveAs("status"),
                    responseTimeInMillis().saveAs("rt"),
                    header("Retry-After").optional().saveAs("retryAfter"))
                .checkIf((response, session) -> response.status().code() == 201)
                .then(
                    jsonPath("$.count").ofLong().optional().saveAs("count"),
                    jsonPath("$.fence").ofLong().optional().saveAs("fence")))
        .exec(
            session -> {
              int status = statusOf(session);
              tally.record(status);
              long now = System.currentTimeMillis();
              if (times != null) {
                times.record(
                    session.contains("rt")
                        ? session.getInt("rt")
                        : now - session.getLong("sentAt"));
              }
              if (answeredAt != null) {
                answeredAt.accumulateAndGet(now, Math::max);
              }
              if (measured
                  && status == 201
                  && session.contains("count")
                  && session.contains("fence")) {
                acks.computeIfAbsent(
                        session.getString("option"), o -> new ConcurrentLinkedQueue<>())
                    .add(new long[] {session.getLong("count"), session.getLong("fence")});
              }
              return session;
            });
  }

  private ChainBuilder firstVote() {
    return exec(session -> session.set("tries", 0))
        .asLongAs(
            session ->
                session.getInt("tries") == 0
                    || (statusOf(session) == 503 && session.getInt("tries") <= RETRIES_503))
        .on(
            doIf(session -> session.getInt("tries") > 0)
                .then(pause(VoteSimulation::retryPause))
                .exec(session -> session.set("tries", session.getInt("tries") + 1))
                .exec(vote("vote", POLL, first, latency, lastAnswer, true)))
        .exec(
            session -> {
              int status = statusOf(session);
              if (status == 503) {
                refused.incrementAndGet();
              } else if (!definite(status)) {
                ambiguous.add(new Ballot(session.getString("voter"), session.getString("option")));
              }
              return session;
            });
  }

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

  private ChainBuilder secondVote() {
    return doIf(session ->
            statusOf(session) == 201 && ThreadLocalRandom.current().nextDouble() < RETRY_SHARE)
        .then(
            exec(session -> session.set("option", randomOption()))
                .exec(vote("revote", POLL, second, null, lastAnswer, true)));
  }

  private ScenarioBuilder closedLoop() {
    return scenario("voters")
        .asLongAs(session -> nextVoter.get() < VOTERS && !closedLoopOver())
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
                .then(firstVote().exec(secondVote()))
                .doIf(session -> THINK_MILLIS > 0)
                .then(pause(Duration.ofMillis(Math.max(THINK_MILLIS, 1)))));
  }

  /**
   * Past {@code closedLoopSeconds} from the first vote, no new voter starts; the voters under way
   * finish, so every vote sent gets its answer (unlike {@code maxSeconds}, which cuts them off).
   */
  private boolean closedLoopOver() {
    long started = firstSent.get();
    return CLOSED_LOOP_SECONDS > 0
        && started != Long.MAX_VALUE
        && System.currentTimeMillis() - started >= CLOSED_LOOP_SECONDS * 1000;
  }

  private ScenarioBuilder warmUp() {
    return scenario("warm-up")
        .during(Duration.ofSeconds(WARMUP_SECONDS))
        .on(
            exec(session ->
                    session
                        .set("voter", "w-" + nextWarmVoter.getAndIncrement())
                        .set("option", randomOption()))
                .exec(vote("warm-up", WARMUP_POLL, warm, null, null, false)));
  }

  /** One user reading every replica's lock meters; the sum goes into {@code into}. */
  private ScenarioBuilder lockMeters(String name, AtomicReference<LockStats> into) {
    AtomicReference<LockStats> sum = new AtomicReference<>(LockStats.EMPTY);
    AtomicBoolean complete = new AtomicBoolean(true);
    return scenario(name)
        .foreach(METRICS_URLS, "url")
        .on(
            exec(session -> session.removeAll("status", "body"))
                .exec(
                    http("lock meters")
                        .get("#{url}")
                        // The Prometheus text format; /q/metrics answers 406 to JSON.
                        .header("Accept", "text/plain")
                        .check(status().saveAs("status"), bodyString().saveAs("body")))
                .exec(
                    session -> {
                      if (statusOf(session) == 200) {
                        sum.accumulateAndGet(
                            LockStats.parse(session.getString("body")), LockStats::plus);
                      } else {
                        complete.set(false);
                        System.out.printf(
                            "[loadtest] %s answered %d: no votes per hold this run%n",
                            session.getString("url"), statusOf(session));
                      }
                      return session.remove("body");
                    }))
        .exec(
            session -> {
              // A replica that did not answer makes the difference meaningless: none then.
              if (complete.get()) {
                into.set(sum.get());
              }
              return session;
            });
  }

  private ScenarioBuilder tallyLag() {
    return scenario("tally lag")
        .exec(session -> session.set("caughtUp", false))
        .asLongAs(
            session ->
                !session.getBoolean("caughtUp")
                    && System.currentTimeMillis() - lastAnswer.get() < TALLY_WAIT_SECONDS * 1000L)
        .on(
            exec(session -> session.removeAll("status", "ballots", "tallied"))
                .exec(
                    http("results")
                        .get("/api/polls/" + POLL + "/results")
                        .check(status().saveAs("status"))
                        .checkIf((response, session) -> response.status().code() == 200)
                        .then(
                            jsonPath("$.ballots").ofLong().saveAs("ballots"),
                            jsonPath("$.tallied").ofLong().saveAs("tallied")))
                .exec(
                    session -> {
                      if (session.contains("ballots")
                          && session.contains("tallied")
                          && session.getLong("ballots") >= first.created.get()
                          && session.getLong("tallied") >= session.getLong("ballots")) {
                        tallyLag.set(Math.max(0, System.currentTimeMillis() - lastAnswer.get()));
                        return session.set("caughtUp", true);
                      }
                      return session;
                    })
                .doIf(session -> !session.getBoolean("caughtUp"))
                .then(pause(Duration.ofMillis(100))))
        .exec(
            session -> {
              tallyLag.compareAndSet(null, -1L);
              return session;
            });
  }

  /**
   * Level {@code index}: its first user judges the level before, and stops the run when it is the
   * {@link VoteSummary.Capacity#MISSES_TO_STOP}th miss in a row. No user of a stopped level sends a
   * vote: one sent while the load generator stops would be recorded by the service without its
   * answer ever reaching the load test.
   */
  private ScenarioBuilder capacityLevel(int index) {
    LevelState level = levels.get(index);
    AtomicBoolean judged = new AtomicBoolean(index == 0);
    AtomicInteger nextCapacityVoter = new AtomicInteger();
    return scenario(String.format(Locale.ROOT, "capacity %.0f/s", level.rate))
        .exec(session -> session.set("levelOpen", levelOpen(index, judged)))
        .exec(
            stopLoadGeneratorIf(
                session ->
                    "the capacity ladder ends after "
                        + VoteSummary.Capacity.MISSES_TO_STOP
                        + " levels in a row missed",
                session -> !session.getBoolean("levelOpen")))
        .exitHereIf(session -> !session.getBoolean("levelOpen"))
        .exec(
            session -> {
              level.sent.incrementAndGet();
              return session
                  .set("voter", "c" + index + "-" + nextCapacityVoter.getAndIncrement())
                  .set("option", randomOption());
            })
        .exec(vote("capacity", POLL, level.answers, level.latency, null, true))
        .exec(
            session -> {
              if (!definite(statusOf(session))) {
                capacityAmbiguous.add(
                    new Ballot(session.getString("voter"), session.getString("option")));
              }
              return session;
            });
  }

  /**
   * Whether level {@code index} runs: the first of its users to ask judges the level before, and
   * {@link VoteSummary.Capacity#MISSES_TO_STOP} misses in a row stop the ladder. One at a time, so
   * that no user of a level passes before its judgment.
   */
  private synchronized boolean levelOpen(int index, AtomicBoolean judged) {
    if (judged.compareAndSet(false, true)) {
      VoteSummary.Level before = levels.get(index - 1).result();
      System.out.printf(
          Locale.ROOT,
          "[loadtest] capacity %.0f/s: %s%n",
          before.rate(),
          before.miss() == null ? "met" : "missed, " + before.miss());
      if (before.miss() == null) {
        missesInARow.set(0);
      } else if (missesInARow.incrementAndGet() >= VoteSummary.Capacity.MISSES_TO_STOP) {
        capacityStopped.set(true);
      }
    }
    return !capacityStopped.get();
  }

  private static String randomOption() {
    return OPTIONS[ThreadLocalRandom.current().nextInt(OPTIONS.length)];
  }

  private final HttpProtocolBuilder protocol =
      http.baseUrl(BASE_URL)
          .contentTypeHeader("application/json")
          .acceptHeader("application/json")
          .disableCaching();

  {
    // Open-model users are many and short: they share a pool of keep-alive connections, as
    // clients behind an ingress do, instead of opening one connection each.
    HttpProtocolBuilder shared = protocol.shareConnections();
    List<PopulationBuilder> phases = new ArrayList<>();
    if (WARMUP_SECONDS > 0) {
      phases.add(warmUp().injectOpen(atOnceUsers(CONCURRENCY)));
    }
    if (!METRICS_URLS.isEmpty()) {
      phases.add(lockMeters("lock meters before", locksBefore).injectOpen(atOnceUsers(1)));
    }
    phases.add(closedLoop().injectOpen(atOnceUsers(CONCURRENCY)));
    if (!METRICS_URLS.isEmpty()) {
      phases.add(lockMeters("lock meters after", locksAfter).injectOpen(atOnceUsers(1)));
    }
    if (TALLY_WAIT_SECONDS > 0) {
      phases.add(tallyLag().injectOpen(atOnceUsers(1)));
    }
    for (int i = 0; i < CAPACITY_RATES.size(); i++) {
      levels.add(new LevelState(CAPACITY_RATES.get(i)));
      phases.add(
          capacityLevel(i)
              .injectOpen(
                  constantUsersPerSec(CAPACITY_RATES.get(i))
                      .during(Duration.ofSeconds(LEVEL_SECONDS)))
              .protocols(shared));
    }
    PopulationBuilder chain = phases.get(phases.size() - 1);
    for (int i = phases.size() - 2; i >= 0; i--) {
      chain = phases.get(i).andThen(chain);
    }
    setUp(chain).protocols(protocol).maxDuration(Duration.ofSeconds(MAX_SECONDS));
  }

  @Override
  public void before() {
    System.out.printf(
        Locale.ROOT,
        "[loadtest] poll %s at %s: %d voters, %d at a time, %.0f%% vote twice; warm-up %d s;"
            + " capacity levels %s votes/s, %d s each%n",
        POLL,
        BASE_URL,
        VOTERS,
        CONCURRENCY,
        RETRY_SHARE * 100,
        WARMUP_SECONDS,
        CAPACITY_RATES.isEmpty() ? "none" : CAPACITY_RATES,
        LEVEL_SECONDS);
    createPoll(POLL);
    if (WARMUP_SECONDS > 0) {
      createPoll(WARMUP_POLL);
    }
  }

  /** Creates the poll; a 5xx or no answer is retried for a while (services just started). */
  private static void createPoll(String id) {
    String body =
        "{\"id\":\"" + id + "\",\"title\":\"Cats or dogs?\",\"options\":[\"cat\",\"dog\"]}";
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(BASE_URL + "/api/polls"))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    HttpClient client = HttpClient.newHttpClient();
    String last = "";
    try {
      for (int attempt = 1; attempt <= 10; attempt++) {
        try {
          HttpResponse<String> response =
              client.send(request, HttpResponse.BodyHandlers.ofString());
          if (response.statusCode() == 201 || response.statusCode() == 200) {
            return;
          }
          last = "answered " + response.statusCode() + ": " + response.body();
          if (response.statusCode() < 500) {
            break;
          }
        } catch (IOException e) {
          last = "failed: " + e;
        }
        System.out.printf("[loadtest] creating poll %s %s; again in 3 s%n", id, last);
        Thread.sleep(3000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    throw new IllegalStateException("creating poll " + id + " at " + BASE_URL + " " + last);
  }

  @Override
  public void after() {
    long start = firstSent.get();
    long end = lastAnswer.get();
    long duration = start == Long.MAX_VALUE ? 0 : Math.max(0, end - start);
    LockStats before = locksBefore.get();
    LockStats after = locksAfter.get();
    Map<String, List<long[]>> acknowledged = new LinkedHashMap<>();
    acks.forEach((option, pairs) -> acknowledged.put(option, List.copyOf(pairs)));
    VoteSummary.Capacity capacity = null;
    if (!levels.isEmpty()) {
      List<VoteSummary.Level> run = new ArrayList<>();
      for (LevelState level : levels) {
        if (level.sent.get() > 0) {
          run.add(level.result());
        }
      }
      capacity = new VoteSummary.Capacity(SLO, LEVEL_SECONDS, run, List.copyOf(capacityAmbiguous));
    }
    VoteSummary summary =
        new VoteSummary(
            POLL,
            BASE_URL,
            Math.min(nextVoter.get(), VOTERS),
            CONCURRENCY,
            start == Long.MAX_VALUE ? 0 : start,
            end,
            duration,
            first.answers(),
            second.answers(),
            refused.get(),
            latency.percentiles(),
            List.copyOf(ambiguous),
            acknowledged,
            tallyLag.get(),
            before != null && after != null ? after.since(before) : null,
            capacity,
            OTHER_STATUSES.entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().get())));
    try {
      summary.write(SUMMARY);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + SUMMARY, e);
    }
    System.out.printf(
        "[loadtest] poll %s: warm-up %s; first votes %s, second votes %s, %d refused, %d"
            + " ambiguous, other answers %s, %d ms, %s; summary %s%n",
        POLL,
        warm.answers(),
        summary.votes(),
        summary.revotes(),
        summary.refused(),
        ambiguous.size(),
        summary.otherStatuses(),
        duration,
        summary.latency(),
        SUMMARY);
  }
}
