package dev.fenced.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checker against canned results answers served on a loopback port. */
class CheckerTest {

  private static final String SUMMARY =
      """
      {"poll":"p","baseUrl":"%s","voters":100,"concurrency":4,"durationMillis":2000,
       "votes":{"created":100,"conflict":0,"unavailable":3,"other":%d},
       "revotes":{"created":0,"conflict":9,"unavailable":0,"other":0},
       "latency":{"n":103,"p50":12,"p99":80,"max":95},
       "ambiguous":%s}
      """;
  private static final String ALL_REFUSED =
      """
      {"poll":"p","baseUrl":"%s","voters":100,"concurrency":4,"durationMillis":2000,
       "votes":{"created":0,"conflict":0,"unavailable":400,"other":0},"refused":100}
      """;
  private static final String CAUGHT_UP =
      """
      {"poll":"p","counts":{"cat":%d,"dog":40},"ballots":%d,"tally":{"cat":%d,"dog":40},"tallied":%d}
      """;

  @TempDir Path dir;
  private HttpServer server;
  private final Deque<String> answers = new ArrayDeque<>();
  private final AtomicInteger votes = new AtomicInteger();
  private volatile int voteStatus = 409;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/api/polls/p/results",
        exchange -> {
          String body;
          synchronized (answers) {
            body = answers.size() > 1 ? answers.poll() : answers.peek();
          }
          send(exchange, 200, body);
        });
    server.createContext(
        "/api/polls/p/votes",
        exchange -> {
          votes.incrementAndGet();
          send(exchange, voteStatus, "{}");
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private static void send(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  private String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private Path summary(int other, String ambiguous) throws IOException {
    Path file = dir.resolve("summary.json");
    Files.writeString(file, SUMMARY.formatted(url(), other, ambiguous));
    return file;
  }

  private int check(Path summary, String... extra) throws Exception {
    List<String> args = new java.util.ArrayList<>(List.of("--summary", summary.toString()));
    if (!List.of(extra).contains("--wait-seconds")) {
      args.addAll(List.of("--wait-seconds", "5"));
    }
    args.addAll(List.of(extra));
    return Checker.run(Checker.parse(args.toArray(String[]::new)));
  }

  @Test
  void waitsForTheTallyThenPasses() throws Exception {
    answers.add(CAUGHT_UP.formatted(60, 100, 20, 60));
    answers.add(CAUGHT_UP.formatted(60, 100, 60, 100));
    Path row = dir.resolve("rows.tsv");

    assertThat(check(summary(0, "[]"), "--policy", "Redis", "--row", row.toString())).isZero();
    Row written = Row.readAll(row).get(0);
    assertThat(written.label()).isEqualTo("Redis");
    assertThat(written.verdict()).isEqualTo("PASS");
    assertThat(written.votesPerSecond()).isEqualTo(50.0);
    assertThat(written.p99()).isEqualTo(80);
    assertThat(written.acknowledged()).isEqualTo(100);
    assertThat(written.lost()).isZero();
  }

  @Test
  void aRunWhoseVotesWereAllRefusedFailsEvenWithoutALock() throws Exception {
    answers.add("{\"poll\":\"p\",\"counts\":{\"cat\":0,\"dog\":0},\"ballots\":0,\"tallied\":0}");
    Path summary = dir.resolve("refused.json");
    Files.writeString(summary, ALL_REFUSED.formatted(url()));
    Path row = dir.resolve("rows.jsonl");

    assertThat(check(summary, "--policy", "Redis", "--row", row.toString())).isEqualTo(1);
    // Without a lock too: refusing every vote is not the race.
    assertThat(check(summary, "--policy", "None", "--row", row.toString())).isEqualTo(1);
    assertThat(Row.readAll(row))
        .extracting(Row::verdict, Row::refused)
        .containsOnly(org.assertj.core.groups.Tuple.tuple("FAIL", 100L));
    assertThat(Row.readAll(row).get(0).problems())
        .anyMatch(p -> p.startsWith("only 0 of 100 voters acknowledged"));
  }

  @Test
  void lostVotesFailUnlessThePolicyIsNone() throws Exception {
    answers.add(CAUGHT_UP.formatted(52, 100, 60, 100));
    Path row = dir.resolve("rows.tsv");

    assertThat(check(summary(0, "[]"), "--policy", "Redis")).isEqualTo(1);
    assertThat(check(summary(0, "[]"), "--policy", "None", "--row", row.toString())).isZero();
    Row none = Row.readAll(row).get(0);
    assertThat(none.verdict()).isEqualTo("FAIL(expected)");
    assertThat(none.counted()).isEqualTo(92);
    assertThat(none.lost()).isEqualTo(8);
  }

  @Test
  void anAnswerThatMixesBeforeAndAfterAFoldIsReadAgain() throws Exception {
    // Tally read before a fold, watermark after it: a second read no longer shows it.
    answers.add(CAUGHT_UP.formatted(60, 100, 53, 100));
    answers.add(CAUGHT_UP.formatted(60, 100, 60, 100));
    assertThat(check(summary(0, "[]"), "--policy", "Redis")).isZero();
  }

  @Test
  void aMismatchThatStaysFails() throws Exception {
    answers.add(CAUGHT_UP.formatted(60, 100, 53, 100));
    assertThat(check(summary(0, "[]"), "--policy", "Redis", "--wait-seconds", "2")).isEqualTo(1);
  }

  @Test
  void aTallyThatNeverCatchesUpFails() throws Exception {
    answers.add(CAUGHT_UP.formatted(60, 100, 20, 60));
    assertThat(check(summary(0, "[]"), "--wait-seconds", "1")).isEqualTo(1);
  }

  @Test
  void ambiguousVotesFailUnlessResolved() throws Exception {
    // Two votes got no answer; one of them was recorded (101 ballots for 100 answers 201).
    answers.add(CAUGHT_UP.formatted(61, 101, 61, 101));
    String ambiguous =
        "[{\"voter\":\"v-1\",\"option\":\"cat\"},{\"voter\":\"v-2\",\"option\":\"cat\"}]";

    assertThat(check(summary(2, ambiguous))).isEqualTo(1);
    assertThat(votes).hasValue(0);

    // v-1 answers 409 (it was recorded), v-2 would be recorded now: the test server answers 409
    // to both, so both count as acknowledged; ballots must then be 102.
    answers.clear();
    answers.add(CAUGHT_UP.formatted(62, 102, 62, 102));
    assertThat(check(summary(2, ambiguous), "--resolve-ambiguous")).isZero();
    assertThat(votes).hasValue(2);
  }

  @Test
  void unreachableResolutionStaysUnresolved() throws Exception {
    voteStatus = 500;
    answers.add(CAUGHT_UP.formatted(61, 101, 61, 101));
    String ambiguous = "[{\"voter\":\"v-1\",\"option\":\"cat\"}]";
    assertThat(check(summary(1, ambiguous), "--resolve-ambiguous")).isEqualTo(1);
  }

  @Test
  void usageErrorsNameTheArgument() throws Exception {
    assertThatThrownBy(() -> Checker.parse(new String[] {"--policy", "Redis"}))
        .hasMessageContaining("--summary");
    assertThatThrownBy(() -> Checker.parse(new String[] {"--summary"}))
        .hasMessageContaining("--summary needs a value");
    assertThatThrownBy(() -> Checker.parse(new String[] {"--summary", "f", "--wait", "3"}))
        .hasMessage("unknown option --wait");
    assertThatThrownBy(() -> Checker.parse(new String[] {"--summary", "f", "--summary", "g"}))
        .hasMessage("--summary given twice");
    assertThat(
            Checker.parse(
                new String[] {
                  "--summary", "f", "--resolve-ambiguous", "--tag", "a=1", "--tag", "b=2"
                }))
        .isEqualTo(
            Map.of(
                "summary", List.of("f"),
                "resolve-ambiguous", List.of("true"),
                "tag", List.of("a=1", "b=2")));
    Path summary = summary(0, "[]");
    assertThatThrownBy(() -> check(summary, "--min-acknowledged", "90"))
        .hasMessageContaining("--min-acknowledged must be a share between 0 and 1");
    assertThatThrownBy(() -> check(summary, "--tag", "replicas"))
        .hasMessageContaining("--tag must be KEY=VALUE");
  }

  @Test
  void tagsAndLabelGoIntoTheRow() throws Exception {
    answers.add(CAUGHT_UP.formatted(60, 100, 60, 100));
    Path row = dir.resolve("rows.jsonl");
    check(
        summary(0, "[]"),
        "--policy",
        "Redis",
        "--label",
        "Redis, 2 replicas",
        "--tag",
        "replicas=2",
        "--row",
        row.toString());
    Row written = Row.readAll(row).get(0);
    assertThat(written.label()).isEqualTo("Redis, 2 replicas");
    assertThat(written.policy()).isEqualTo("Redis");
    assertThat(written.tags()).isEqualTo(Map.of("replicas", "2"));
  }
}
