package dev.fenced.operator;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The operator's own metrics as Prometheus scrapes them from {@code /q/metrics}, each shown to
 * move: a reconcile raises the counter, a policy going Ready sets its gauge from 0 to 1, a backend
 * change raises the epoch gauge and moves the series to the new backend, a reconcile that throws
 * counts as a failure. (The leader gauge's flip is in {@link LeaderElectionIT}.)
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class OperatorMetricsIT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @Inject KubernetesClient client;
  @KubernetesTestServer KubernetesServer server;

  @Test
  void withoutLeaderElectionTheOneInstanceLeads() {
    assertThat(scrape("fenced_operator_leader", Map.of())).isEqualTo(1.0);
  }

  @Test
  void reconcilesReadinessAndEpochMove() {
    String ns = "metrics";
    Map<String, String> pg = Map.of("namespace", ns, "name", "m", "backend", "Postgres");
    Map<String, String> redis = Map.of("namespace", ns, "name", "m", "backend", "Redis");
    Map<String, String> policy = Map.of("namespace", ns, "name", "m");
    double before = reconciles("success");
    assertThat(scrape("fenced_operator_policy_ready", policy)).isNull();

    // No Secret yet: reconciled, not Ready.
    Policies.namespace(client, ns);
    client.resource(Policies.yaml(ns, "m", "\"m:*\"", Policies.postgres("Advisory"))).create();
    await().atMost(WAIT).until(() -> "SecretNotFound".equals(Policies.reason(get(ns), "Ready")));
    assertThat(scrape("fenced_operator_policy_ready", pg)).isEqualTo(0.0);
    assertThat(reconciles("success")).isGreaterThan(before);
    awaitScrape("fenced_operator_policy_epoch", policy, 1.0);
    // JOSDK's own metrics are still exported next to these.
    assertThat(
            scrape(
                "reconciliations_started_total",
                Map.of("controller_name", LockPolicyReconciler.NAME)))
        .isPositive();

    // The Secret appears: Ready.
    Policies.pgSecret(client, ns);
    awaitScrape("fenced_operator_policy_ready", pg, 1.0);

    // Another backend: the epoch rises, the series moves to the new backend.
    LockPolicy moved = get(ns);
    moved
        .getSpec()
        .setBackend(Policies.yaml(ns, "x", "\"x\"", Policies.redis()).getSpec().getBackend());
    client.resource(moved).update();
    awaitScrape("fenced_operator_policy_epoch", policy, 2.0);
    awaitScrape("fenced_operator_policy_ready", redis, 1.0);
    assertThat(scrape("fenced_operator_policy_ready", pg)).isNull();

    // Deleted: its series go.
    client.resources(LockPolicy.class).inNamespace(ns).withName("m").delete();
    Policies.awaitGone(() -> get(ns));
    await().atMost(WAIT).until(() -> scrape("fenced_operator_policy_epoch", policy) == null);
    assertThat(scrape("fenced_operator_policy_ready", redis)).isNull();
  }

  @Test
  void aReconcileThatThrowsCountsAsAFailure() {
    String ns = "metrics-refused";
    // The API server refuses the first status write of this policy; JOSDK retries the pass.
    server
        .expect()
        .patch()
        .withPath("/apis/locks.fenced.dev/v1alpha1/namespaces/" + ns + "/lockpolicies/r/status")
        .andReturn(
            422,
            new StatusBuilder()
                .withStatus("Failure")
                .withCode(422)
                .withReason("Invalid")
                .withMessage("refused by the test")
                .build())
        .once();
    double before = reconciles("failure");
    Policies.namespace(client, ns);
    client
        .resource(
            Policies.yaml(ns, "r", "\"r:*\"", "backend: { type: InProcess }\nfencing: Required"))
        .create();
    await().atMost(WAIT).until(() -> reconciles("failure") >= before + 1);
    awaitScrape(
        "fenced_operator_policy_ready",
        Map.of("namespace", ns, "name", "r", "backend", "InProcess"),
        1.0);
  }

  private LockPolicy get(String ns) {
    return client.resources(LockPolicy.class).inNamespace(ns).withName("m").get();
  }

  private static double reconciles(String outcome) {
    Double v = scrape("fenced_operator_reconciles_total", Map.of("outcome", outcome));
    return v == null ? 0 : v;
  }

  private static void awaitScrape(String name, Map<String, String> labels, double value) {
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(() -> assertThat(scrape(name, labels)).as(name + labels).isEqualTo(value));
  }

  static Double scrape(String name, Map<String, String> labels) {
    return PrometheusText.value(given().get("/q/metrics").asString(), name, labels);
  }
}
