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
       "ambiguous":%s}
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
    List<String> args =
        new java.util.ArrayList<>(List.of("--summary", summary.toString(), "--wait-seconds", "5"));
    args.addAll(List.of(extra));
    return Checker.run(Checker.parse(args.toArray(String[]::new)));
  }

  @Test
  void waitsForTheTallyThenPasses() throws Exception {
    answers.add(CAUGHT_UP.formatted(60, 100, 20, 60));
    answers.add(CAUGHT_UP.formatted(60, 100, 60, 100));
    Path row = dir.resolve("rows.tsv");

    assertThat(check(summary(0, "[]"), "--policy", "Redis", "--row", row.toString())).isZero();
    assertThat(Files.readString(row)).isEqualTo("Redis\t50\t-\t-\t100\t100\t0\tPASS\n");
  }

  @Test
  void lostVotesFailUnlessThePolicyIsNone() throws Exception {
    answers.add(CAUGHT_UP.formatted(52, 100, 60, 100));
    Path row = dir.resolve("rows.tsv");

    assertThat(check(summary(0, "[]"), "--policy", "Redis")).isEqualTo(1);
    assertThat(check(summary(0, "[]"), "--policy", "None", "--row", row.toString())).isZero();
    assertThat(Files.readString(row)).endsWith("\t92\t8\tFAIL(expected)\n");
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
  void usageErrorsNameTheArgument() {
    assertThatThrownBy(() -> Checker.parse(new String[] {"--policy", "Redis"}))
        .hasMessageContaining("--summary");
    assertThatThrownBy(() -> Checker.parse(new String[] {"--summary"}))
        .hasMessageContaining("--summary needs a value");
    assertThat(Checker.parse(new String[] {"--summary", "f", "--resolve-ambiguous"}))
        .isEqualTo(Map.of("summary", "f", "resolve-ambiguous", "true"));
  }
}
