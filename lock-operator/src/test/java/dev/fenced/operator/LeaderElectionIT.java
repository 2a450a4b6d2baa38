package dev.fenced.operator;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.policy.PolicyConditions;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Two operator instances against one mock API server (CRUD mode) and the real backends: the
 * application (instance A, leader election configured as in production, with short timings) and an
 * {@link OperatorReplica} (instance B). Only the leader reconciles; when it stops, the other takes
 * the Lease once it expires and converges a policy that was edited while nobody led. The hand-over
 * time is printed and written to {@code target/leader-election-handover.txt}.
 */
@QuarkusTest
@TestProfile(LeaderElectionIT.TwoReplicas.class)
@WithKubernetesTestServer(crud = true, setup = OperatorRoleRules.class)
class LeaderElectionIT {

  /** Production settings but for the timings: a 6 s lease keeps the test short. */
  public static class TwoReplicas implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "fenced.operator.leader-election.enabled", "true",
          "fenced.operator.leader-election.identity", "operator-a",
          "fenced.operator.leader-election.lease-duration", "6s",
          "fenced.operator.leader-election.renew-deadline", "4s",
          "fenced.operator.leader-election.retry-period", "1s");
    }
  }

  private static final String NS = "ha";
  private static final String LEASE = "fenced-lock-operator";
  private static final Duration WAIT = Duration.ofSeconds(60);

  /** Slack for a loaded 2-core machine on top of what the election itself may take. */
  private static final Duration MARGIN = Duration.ofSeconds(5);

  @KubernetesTestServer KubernetesServer server;
  @Inject Operator operator;
  @Inject OperatorWiring wiring;
  @Inject LeaderElectionSettings settings;

  @Test
  void onlyTheLeaderReconcilesAndTheFollowerTakesOverWithinTheLease() throws Exception {
    KubernetesClient client = server.getClient();
    String leaseNamespace = client.getNamespace();
    String prefix = "/fenced/operator-it/ha-" + System.nanoTime();

    // A, the application, takes the Lease at start.
    await().atMost(WAIT).until(() -> wiring.leadership().leading());
    assertThat(lease(client, leaseNamespace).getSpec().getHolderIdentity()).isEqualTo("operator-a");
    assertThat(scrape("fenced_operator_leader", Map.of())).isEqualTo(1.0);

    try (OperatorReplica b = new OperatorReplica(server, settings, "operator-b")) {
      assertThat(b.leadership.leading()).isFalse();
      assertThat(b.leaderGauge()).isZero();

      // 1. Only the leader reconciles.
      double aBefore = scrapeReconciles();
      Policies.namespace(client, NS);
      client.resource(Policies.yaml(NS, "counters", "\"ha:*\"", Policies.redis())).create();
      LockPolicy ready = awaitPolicy(client, PolicyConditions::isReadyForCurrentGeneration);
      // A new policy starts above every epoch the shared Redis's ledger records.
      long epoch = ready.getStatus().getEpoch();
      assertThat(epoch).isPositive();
      // A goes on probing the Ready policy (recheck-interval 1 s in tests); B never reconciles.
      await().atMost(WAIT).until(() -> scrapeReconciles() >= aBefore + 3);
      assertThat(b.reconciles("success") + b.reconciles("failure")).isZero();
      assertThat(b.writes)
          .as("the follower's writes: only the RBAC review JOSDK sends before it joins")
          .containsExactly("POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews");
      assertThat(b.backends.openClients()).as("backend clients the follower opened").isZero();
      // The follower still reports the policies' status, read from its own informer cache.
      awaitGauge(b, OperatorMetrics.POLICY_READY, 1.0);
      awaitGauge(b, OperatorMetrics.POLICY_EPOCH, epoch);

      // 2. A stops as Quarkus's shutdown stops it; B takes over once the Lease expires.
      long stopAt = System.nanoTime();
      wiring.onShutdown(null);
      operator.stop();
      long stoppedAt = System.nanoTime();
      Lease lastByA = lease(client, leaseNamespace);
      assertThat(lastByA.getSpec().getHolderIdentity()).isEqualTo("operator-a");

      // 3. The policy is edited twice while nobody leads: another backend, then a lease timing.
      LockPolicy moved = get(client);
      moved
          .getSpec()
          .setBackend(
              Policies.yaml(NS, "x", "\"x\"", Policies.etcd(prefix)).getSpec().getBackend());
      client.resource(moved).update();
      LockPolicy retimed = get(client);
      retimed.getSpec().setLeaseDuration("20s");
      client.resource(retimed).update();
      assertThat(b.leadership.leading()).as("B leads before both edits are made").isFalse();
      assertThat(get(client).getMetadata().getGeneration()).isEqualTo(3L);

      await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> b.leadership.leading());
      long ledAt = System.nanoTime();
      Duration handOver = Duration.ofNanos(ledAt - stoppedAt);
      Duration bound =
          settings
              .leaseDuration()
              .plus(scale(settings.retryPeriod(), 1 + OperatorLeadership.RETRY_JITTER))
              .plus(MARGIN);

      Lease takenByB = lease(client, leaseNamespace);
      assertThat(takenByB.getSpec().getHolderIdentity()).isEqualTo("operator-b");
      assertThat(takenByB.getSpec().getLeaseTransitions())
          .isEqualTo(lastByA.getSpec().getLeaseTransitions() + 1);
      // The Lease held: B sent its write of the Lease no earlier than A's last renewal plus the
      // lease duration. The acquireTime it wrote is no witness of that: Fabric8's LeaderElector
      // reads its clock for acquireTime before it GETs the Lease and judges expiry on a second
      // reading after, so acquireTime may precede the expiry by one GET (2 ms in one CI run).
      Instant renewedByA = lastByA.getSpec().getRenewTime().toInstant();
      Instant acquiredByB = takenByB.getSpec().getAcquireTime().toInstant();
      assertThat(b.firstLeaseWrite)
          .as("when B sent its first write of the Lease")
          .isNotNull()
          .isAfterOrEqualTo(renewedByA.plus(settings.leaseDuration()))
          .isAfterOrEqualTo(acquiredByB);
      assertThat(scrape("fenced_operator_leader", Map.of())).as("A's leader gauge").isZero();
      assertThat(b.leaderGauge()).as("B's leader gauge").isEqualTo(1.0);

      // 4. The edited policy converges on its last generation, provisioned by B on etcd.
      LockPolicy converged =
          awaitPolicy(
              client,
              p ->
                  p.getStatus() != null
                      && p.getStatus().getObservedGeneration() == 3L
                      && PolicyConditions.isReadyForCurrentGeneration(p));
      Duration convergedAfter = Duration.ofNanos(System.nanoTime() - stoppedAt);
      assertThat(converged.getStatus().getEpoch()).as("one move, one rise").isEqualTo(epoch + 1);
      assertThat(converged.getStatus().getBackendIdentity()).startsWith("Etcd ");
      assertThat(Servers.etcdGet(prefix + "/.ledger"))
          .containsPattern(
              "\""
                  + NS
                  + "/counters\":\\{[^}]*\"generation\":3,[^}]*\"epoch\":"
                  + (epoch + 1)
                  + "[,}]");
      assertThat(b.reconciles("success")).isPositive();
      assertThat(b.writes)
          .as("what B wrote once it led, so the empty list before shows something")
          .contains(
              "PATCH /apis/locks.fenced.dev/v1alpha1/namespaces/ha/lockpolicies/counters/status");
      assertThat(b.backends.openClients()).isEqualTo(1);
      awaitGauge(b, OperatorMetrics.POLICY_EPOCH, epoch + 1);

      String report =
          String.format(
              "leader stopped in %d ms; Lease taken by the follower %d ms after"
                  + " (bound: lease %s + retry %s x %.1f + margin %s = %d ms); policy edited"
                  + " during the hand-over Ready on generation 3 %d ms after the stop%n",
              Duration.ofNanos(stoppedAt - stopAt).toMillis(),
              handOver.toMillis(),
              settings.leaseDuration(),
              settings.retryPeriod(),
              1 + OperatorLeadership.RETRY_JITTER,
              MARGIN,
              bound.toMillis(),
              convergedAfter.toMillis());
      System.out.print("[leader-election] " + report);
      Files.writeString(Path.of("target/leader-election-handover.txt"), report);
      assertThat(handOver).as("hand-over time").isLessThanOrEqualTo(bound);

      // 5. The new leader runs the finalizer too: delete cleans up etcd, all but the ledger.
      client.resources(LockPolicy.class).inNamespace(NS).withName("counters").delete();
      Policies.awaitGone(() -> get(client));
      assertThat(Servers.etcdCount(prefix + "/")).as("only the ledger is left").isEqualTo(1);
      assertThat(Servers.etcdGet(prefix + "/.ledger"))
          .containsPattern("\"" + NS + "/counters\":\\{[^}]*\"retired\":true");
      assertThat(b.exits).as("exits asked by B's leadership").isEmpty();
    }
  }

  /** B's gauge for the policy, as its informer cache catches up with what A wrote. */
  private static void awaitGauge(OperatorReplica b, String name, double value) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(b.policyGauge(name, NS, "counters")).as(name).isEqualTo(value));
  }

  private static Duration scale(Duration d, double factor) {
    return Duration.ofMillis((long) Math.ceil(d.toMillis() * factor));
  }

  private static Lease lease(KubernetesClient client, String namespace) {
    return client.resources(Lease.class).inNamespace(namespace).withName(LEASE).get();
  }

  private static LockPolicy get(KubernetesClient client) {
    return client.resources(LockPolicy.class).inNamespace(NS).withName("counters").get();
  }

  private static LockPolicy awaitPolicy(KubernetesClient client, Predicate<LockPolicy> until) {
    return await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> get(client), p -> p != null && until.test(p));
  }

  private static double scrapeReconciles() {
    Double v = scrape("fenced_operator_reconciles_total", Map.of("outcome", "success"));
    return v == null ? 0 : v;
  }

  private static Double scrape(String name, Map<String, String> labels) {
    return PrometheusText.value(given().get("/q/metrics").asString(), name, labels);
  }
}
