package dev.fenced.vote.kubernetes;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.FencingTokens;
import dev.fenced.lock.policy.PolicyLocks;
import dev.fenced.lock.policy.v1alpha1.RedisBackend;
import dev.fenced.vote.FencedTestServers;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A LockPolicy moved from Postgres to Redis under load, with policies from the Kubernetes API (the
 * Fabric8 mock API server in CRUD mode) and the real PostgreSQL and Redis of scripts/backends.sh.
 *
 * <p>No operator runs here: the test plays its part. It writes each policy's status itself ({@code
 * observedGeneration}, {@code Ready=True} for that generation, and {@code epoch}, raised by one
 * with the backend change), as the operator does once it has reconciled a generation; between the
 * spec change and that status the service keeps the previous generation in force.
 *
 * <p>What must hold across the switch: every 201 is one ballot and one count (no vote lost), and
 * per option the fencing tokens of the accepted writes, in the order of the counts they wrote,
 * never decrease (the votes of one hold's batch share its token; each later hold's is larger) — so
 * no two holders ever wrote the counter out of order, and the new backend's tokens (epoch 2) are
 * above the old one's (epoch 1). That the check can fail is shown twice: a move whose epoch is not
 * raised is refused here, and the run with policy {@code None} in {@code
 * ConcurrentVotesIT#withoutALockCountsFallShortOfBallots} loses counts under the same kind of load.
 */
@QuarkusTest
@TestProfile(KubernetesSourceProfile.class)
@WithKubernetesTestServer(crud = true)
class PolicySwitchUnderLoadIT {

  private static final int CLIENTS = 16;
  private static final int VOTES = 480;
  private static final List<String> OPTIONS = List.of("cat", "dog");

  @Inject KubernetesClient client;
  @Inject PolicyLocks locks;

  @TestHTTPResource("/")
  URI base;

  private PolicyOperator operator;

  /** One accepted vote, as the service answered it. */
  record Accepted(String option, long count, long fence) {}

  @BeforeEach
  void setUp() {
    operator = new PolicyOperator(client, KubernetesSourceProfile.NAMESPACE);
    operator.installCrd();
    operator.secret("postgres", Map.of("username", "fenced", "password", "fenced"));
  }

  @Test
  void aMoveFromPostgresToRedisUnderLoadLosesNoVoteAndTokensKeepRising() throws Exception {
    operator.create(postgresPolicy("switch", "vote:switch-*"));
    operator.markReady("switch", 1);
    String poll = "switch-" + UUID.randomUUID().toString().substring(0, 8);
    awaitBackend("vote:" + poll + ":cat", "Postgres/LockTable");
    createPoll(poll);

    ConcurrentLinkedQueue<Accepted> accepted = new ConcurrentLinkedQueue<>();
    Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
    AtomicInteger answered = new AtomicInteger();
    ExecutorService load = Executors.newSingleThreadExecutor();
    Future<?> votes =
        load.submit(
            () -> {
              vote(poll, accepted, statuses, answered);
              return null;
            });

    // Mid-load: the spec moves to Redis (generation 2); then the "operator" marks generation 2
    // Ready with the epoch raised.
    await().atMost(Duration.ofMinutes(2)).until(() -> answered.get() >= VOTES / 3);
    operator.editSpec("switch", p -> p.getSpec().setBackend(redisBackend()));
    operator.markReady("switch", 2);
    int answeredAtSwitch = answered.get();
    awaitBackend("vote:" + poll + ":cat", "Redis");

    votes.get(5, TimeUnit.MINUTES);
    load.shutdown();

    JsonPath results =
        given().get("/api/polls/{id}/results", poll).then().statusCode(200).extract().jsonPath();
    int recorded = statuses.getOrDefault(201, 0);
    System.out.printf(
        "switch under load: answers %s (switch after %d), ballots %d, counts %s, writes by epoch"
            + " %s%n",
        statuses,
        answeredAtSwitch,
        results.getLong("ballots"),
        results.getMap("counts"),
        accepted.stream()
            .collect(
                java.util.stream.Collectors.groupingBy(
                    a -> FencingTokens.epoch(a.fence()),
                    java.util.TreeMap::new,
                    java.util.stream.Collectors.counting())));

    assertThat(statuses.keySet()).as("answers %s", statuses).isSubsetOf(201, 503);
    assertThat(recorded).as("most votes accepted").isGreaterThan(VOTES / 2);
    assertThat(results.getLong("ballots")).as("ballots = 201 answers").isEqualTo(recorded);
    assertThat(results.getLong("counts.cat") + results.getLong("counts.dog"))
        .as("sum of counts = ballots: no vote lost across the switch")
        .isEqualTo(recorded);
    for (String option : OPTIONS) {
      List<Accepted> writes =
          accepted.stream()
              .filter(a -> a.option().equals(option))
              .sorted(Comparator.comparingLong(Accepted::count))
              .toList();
      assertThat(writes).extracting(Accepted::count).doesNotHaveDuplicates();
      // One hold serves a batch of votes, whose counts share its token: in count order the
      // tokens never fall, and a token once left behind never comes back (each hold's batch is
      // one run of counts, each later hold's token larger).
      for (int i = 1; i < writes.size(); i++) {
        assertThat(writes.get(i).fence())
            .as(
                "%s: the write of count %d carries a token no smaller than count %d's",
                option, writes.get(i).count(), writes.get(i - 1).count())
            .isGreaterThanOrEqualTo(writes.get(i - 1).fence());
      }
      List<Long> epochs = writes.stream().map(a -> FencingTokens.epoch(a.fence())).toList();
      assertThat(epochs)
          .as("%s: Postgres writes (epoch 1), then only Redis writes (epoch 2)", option)
          .containsOnly(1L, 2L)
          .contains(1L, 2L)
          .isSorted();
    }
  }

  /**
   * The same move with the epoch left as it was: PolicyLocks refuses it, reports it, and the old
   * backend stays in force, so tokens could not fall below the ones already written.
   */
  @Test
  void aMoveWithoutARaisedEpochIsRefusedAndTheOldBackendStays() {
    operator.create(postgresPolicy("refuse", "vote:refuse-*"));
    operator.markReady("refuse", 1);
    String poll = "refuse-" + UUID.randomUUID().toString().substring(0, 8);
    awaitBackend("vote:" + poll + ":cat", "Postgres/LockTable");
    createPoll(poll);
    long before = voteOnce(poll, "v-1");

    operator.editSpec("refuse", p -> p.getSpec().setBackend(redisBackend()));
    operator.markReady("refuse", 1);

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(locks.problems())
                    .anySatisfy(
                        p -> {
                          assertThat(p.source()).isEqualTo("voting/refuse");
                          assertThat(p.field()).isEqualTo("status.epoch");
                          assertThat(p.message()).contains("fencing epoch above 1");
                        }));
    assertThat(locks.resolve("vote:" + poll + ":cat").orElseThrow().service().backend())
        .isEqualTo("Postgres/LockTable");
    long after = voteOnce(poll, "v-2");
    assertThat(FencingTokens.epoch(after)).isEqualTo(1L);
    assertThat(after).isGreaterThan(before);
  }

  private void vote(
      String poll,
      ConcurrentLinkedQueue<Accepted> accepted,
      Map<Integer, Integer> statuses,
      AtomicInteger answered)
      throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
    AtomicInteger next = new AtomicInteger();
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int w = 0; w < CLIENTS; w++) {
        workers.add(
            pool.submit(
                () -> {
                  for (int i = next.getAndIncrement(); i < VOTES; i = next.getAndIncrement()) {
                    String option = OPTIONS.get(i % OPTIONS.size());
                    HttpRequest request =
                        HttpRequest.newBuilder(base.resolve("/api/polls/" + poll + "/votes"))
                            .header("Content-Type", "application/json")
                            .POST(
                                HttpRequest.BodyPublishers.ofString(
                                    "{\"voter\":\"v-" + i + "\",\"option\":\"" + option + "\"}"))
                            .build();
                    HttpResponse<String> response =
                        http.send(request, HttpResponse.BodyHandlers.ofString());
                    statuses.merge(response.statusCode(), 1, Integer::sum);
                    if (response.statusCode() == 201) {
                      JsonPath body = JsonPath.from(response.body());
                      accepted.add(
                          new Accepted(
                              body.getString("option"),
                              body.getLong("count"),
                              body.getLong("fence")));
                    }
                    answered.incrementAndGet();
                  }
                  return null;
                }));
      }
      for (Future<?> worker : workers) {
        worker.get(5, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private void awaitBackend(String lockName, String backend) {
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(locks.resolve(lockName))
                    .hasValueSatisfying(a -> assertThat(a.service().backend()).isEqualTo(backend)));
  }

  private static void createPoll(String poll) {
    given()
        .contentType(ContentType.JSON)
        .body(Map.of("id", poll, "title", "Poll " + poll, "options", OPTIONS))
        .post("/api/polls")
        .then()
        .statusCode(201);
  }

  private static long voteOnce(String poll, String voter) {
    return given()
        .contentType(ContentType.JSON)
        .body(Map.of("voter", voter, "option", "cat"))
        .post("/api/polls/{id}/votes", poll)
        .then()
        .statusCode(201)
        .extract()
        .jsonPath()
        .getLong("fence");
  }

  private static String postgresPolicy(String name, String pattern) {
    return """
        apiVersion: locks.fenced.dev/v1alpha1
        kind: LockPolicy
        metadata: { name: %s }
        spec:
          lockNames: ["%s"]
          backend:
            type: Postgres
            postgres:
              host: 127.0.0.1
              port: %s
              database: fenced
              mode: LockTable
              credentialsSecretRef: { name: postgres }
          leaseDuration: 10s
          renewInterval: 3s
          maxWait: 5s
          fencing: Required
        """
        .formatted(name, pattern, FencedTestServers.PG_PORT);
  }

  private static dev.fenced.lock.policy.v1alpha1.Backend redisBackend() {
    dev.fenced.lock.policy.v1alpha1.Backend backend = new dev.fenced.lock.policy.v1alpha1.Backend();
    backend.setType(dev.fenced.lock.policy.v1alpha1.BackendType.Redis);
    RedisBackend redis = new RedisBackend();
    redis.setUrl(FencedTestServers.REDIS_URL);
    backend.setRedis(redis);
    return backend;
  }
}
