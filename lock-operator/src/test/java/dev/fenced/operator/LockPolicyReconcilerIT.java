package dev.fenced.operator;

import static dev.fenced.lock.policy.PolicyConditions.BACKEND_REACHABLE;
import static dev.fenced.lock.policy.PolicyConditions.CONFLICTING;
import static dev.fenced.lock.policy.PolicyConditions.PROVISIONED;
import static dev.fenced.lock.policy.PolicyConditions.READY;
import static dev.fenced.operator.Policies.condition;
import static dev.fenced.operator.Policies.reason;
import static dev.fenced.operator.Policies.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.policy.PolicyConditions;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.policy.v1alpha1.LockPolicyStatus;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * The operator against the Fabric8 mock API server (CRUD mode) and the REAL backends of {@code
 * scripts/backends.sh}: what it creates is checked on the servers themselves.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class LockPolicyReconcilerIT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @Inject KubernetesClient client;
  @Inject BackendClients clients;

  private LockPolicy apply(LockPolicy policy) {
    Policies.namespace(client, policy.getMetadata().getNamespace());
    return client.resource(policy).create();
  }

  private LockPolicy get(String namespace, String name) {
    return client.resources(LockPolicy.class).inNamespace(namespace).withName(name).get();
  }

  private LockPolicy awaitPolicy(String namespace, String name, Predicate<LockPolicy> until) {
    return await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> get(namespace, name), p -> p != null && until.test(p));
  }

  private LockPolicy awaitReady(String namespace, String name) {
    return awaitPolicy(namespace, name, PolicyConditions::isReadyForCurrentGeneration);
  }

  private void delete(String namespace, String name) {
    client.resources(LockPolicy.class).inNamespace(namespace).withName(name).delete();
    Policies.awaitGone(() -> get(namespace, name));
  }

  @Test
  void postgresPolicyIsProvisionedUpdatedMovedAndCleanedUp() throws Exception {
    String ns = "pg-life";
    Policies.namespace(client, ns);
    Policies.pgSecret(client, ns);
    Servers.pgDrop("fenced_row_locks");
    apply(Policies.yaml(ns, "counters", "\"life:*\"", Policies.postgres("RowLock")));

    LockPolicy ready = awaitReady(ns, "counters");
    assertThat(Servers.pgTableExists("fenced_row_locks")).isTrue();
    assertThat(Servers.pgTableExists("fenced_fence_seq")).isTrue();
    assertThat(ready.getStatus().getEpoch()).isEqualTo(1L);
    assertThat(ready.getStatus().getBackendIdentity())
        .isEqualTo(
            "Postgres/RowLock "
                + Servers.pgHost()
                + ":"
                + Servers.pgPort()
                + "/"
                + Servers.pgDatabase());
    assertThat(ready.getMetadata().getFinalizers()).isNotEmpty();
    for (String type : List.of(READY, BACKEND_REACHABLE, PROVISIONED)) {
      assertThat(status(ready, type)).as(type).isEqualTo("True");
      assertThat(condition(ready, type).getObservedGeneration()).isEqualTo(1L);
    }
    assertThat(reason(ready, READY)).isEqualTo("Provisioned");
    String since = condition(ready, READY).getLastTransitionTime();

    // A spec edit that keeps the backend: generation follows, time and epoch stay.
    Thread.sleep(1100); // lastTransitionTime has second precision
    LockPolicy edited = get(ns, "counters");
    edited.getSpec().setLeaseDuration("20s");
    client.resource(edited).update();
    LockPolicy updated =
        awaitPolicy(
            ns,
            "counters",
            p ->
                p.getStatus().getObservedGeneration() == 2L
                    && PolicyConditions.isReadyForCurrentGeneration(p));
    assertThat(condition(updated, READY).getObservedGeneration()).isEqualTo(2L);
    assertThat(condition(updated, READY).getLastTransitionTime()).isEqualTo(since);
    assertThat(updated.getStatus().getEpoch()).isEqualTo(1L);

    // Another backend: the epoch rises.
    LockPolicy moved = get(ns, "counters");
    moved
        .getSpec()
        .getBackend()
        .getPostgres()
        .setMode(dev.fenced.lock.policy.v1alpha1.PostgresMode.LockTable);
    client.resource(moved).update();
    LockPolicy afterMove =
        awaitPolicy(
            ns,
            "counters",
            p ->
                p.getStatus().getObservedGeneration() == 3L
                    && PolicyConditions.isReadyForCurrentGeneration(p));
    assertThat(afterMove.getStatus().getEpoch()).isEqualTo(2L);
    assertThat(Servers.pgTableExists("distributed_locks")).isTrue();

    // Delete: the lock table goes, the fence sequence stays, the finalizer is gone.
    delete(ns, "counters");
    assertThat(Servers.pgTableExists("distributed_locks")).isFalse();
    assertThat(Servers.pgTableExists("fenced_fence_seq")).isTrue();
  }

  @Test
  void etcdPolicyWritesItsRecordAndDeleteRemovesThePrefix() throws Exception {
    String ns = "etcd-life";
    String prefix = "/fenced/operator-it/" + System.nanoTime();
    apply(Policies.yaml(ns, "locks", "\"etcd:*\"", Policies.etcd(prefix)));
    LockPolicy ready = awaitReady(ns, "locks");
    assertThat(Servers.etcdGet(prefix + "/.policy")).contains("\"layout\":1");
    assertThat(Servers.etcdGet(prefix + "/.policies/" + ns + "/locks"))
        .contains("\"uid\":\"" + ready.getMetadata().getUid() + "\"")
        .contains("\"epoch\":1");

    delete(ns, "locks");
    assertThat(Servers.etcdCount(prefix + "/")).isZero();
  }

  @Test
  void redisAndZooKeeperPoliciesAreProvisionedAndCleanedUp() throws Exception {
    String ns = "redis-zk";
    String basePath = "/fenced/operator-it/" + System.nanoTime();
    apply(Policies.yaml(ns, "r", "\"r:*\"", Policies.redis()));
    apply(Policies.yaml(ns, "z", "\"z:*\"", Policies.zookeeper(basePath)));
    LockPolicy redis = awaitReady(ns, "r");
    awaitReady(ns, "z");
    assertThat(Servers.redisHget("fenced:policies", ns + "/r"))
        .contains("\"uid\":\"" + redis.getMetadata().getUid() + "\"");
    assertThat(Servers.zkExists(basePath)).isTrue();

    delete(ns, "r");
    delete(ns, "z");
    assertThat(Servers.redisHget("fenced:policies", ns + "/r")).isNull();
    assertThat(Servers.zkExists(basePath)).isFalse();
  }

  @Test
  void deletingOneOfTwoPoliciesOnOneBackendKeepsItsResources() throws Exception {
    String prefix = "/fenced/operator-it/shared-" + System.nanoTime();
    apply(Policies.yaml("share-a", "one", "\"a:*\"", Policies.etcd(prefix)));
    apply(Policies.yaml("share-b", "two", "\"b:*\"", Policies.etcd(prefix)));
    awaitReady("share-a", "one");
    awaitReady("share-b", "two");

    delete("share-a", "one");
    assertThat(Servers.etcdGet(prefix + "/.policy")).isNotNull();
    assertThat(Servers.etcdGet(prefix + "/.policies/share-a/one")).isNull();
    assertThat(Servers.etcdGet(prefix + "/.policies/share-b/two")).isNotNull();

    delete("share-b", "two");
    assertThat(Servers.etcdCount(prefix + "/")).isZero();
  }

  @Test
  void policiesThatTieAreBothConflictingAndRecoverWhenOneGoes() {
    String ns = "conflicts";
    apply(Policies.yaml(ns, "left", "\"tie:*\"", Policies.redis()));
    apply(Policies.yaml(ns, "right", "\"tie:*\"", Policies.redis()));
    LockPolicy left = awaitPolicy(ns, "left", p -> "True".equals(status(p, CONFLICTING)));
    LockPolicy right = awaitPolicy(ns, "right", p -> "True".equals(status(p, CONFLICTING)));
    assertThat(condition(left, CONFLICTING).getMessage()).contains(ns + "/right");
    assertThat(condition(right, CONFLICTING).getMessage()).contains(ns + "/left");
    assertThat(status(left, READY)).isEqualTo("False");
    assertThat(reason(left, READY)).isEqualTo("Conflicting");
    assertThat(reason(right, READY)).isEqualTo("Conflicting");

    delete(ns, "right");
    LockPolicy recovered = awaitReady(ns, "left");
    assertThat(status(recovered, CONFLICTING)).isEqualTo("False");
  }

  @Test
  void missingSecretIsReportedAndRecoversOnceItExists() {
    String ns = "secrets";
    Policies.namespace(client, ns);
    apply(Policies.yaml(ns, "pg", "\"s:*\"", Policies.postgres("Advisory")));
    LockPolicy waiting = awaitPolicy(ns, "pg", p -> "SecretNotFound".equals(reason(p, READY)));
    assertThat(condition(waiting, READY).getMessage())
        .contains("Secret \"pg\" not found")
        .contains("key \"username\"")
        .contains("namespace " + ns);
    Policies.pgSecret(client, ns);
    awaitReady(ns, "pg");
    delete(ns, "pg");
  }

  @Test
  void restartedOperatorConvergesFromAHalfWrittenStatus() throws Exception {
    // As a crash between adding the finalizer and provisioning leaves it: the finalizer is there,
    // the status names an epoch but no backend and conditions of an older generation.
    String ns = "restart";
    String prefix = "/fenced/operator-it/restart-" + System.nanoTime();
    LockPolicy policy = Policies.yaml(ns, "half", "\"h:*\"", Policies.etcd(prefix));
    policy.getMetadata().setFinalizers(List.of("lockpolicies.locks.fenced.dev/finalizer"));
    LockPolicyStatus half = new LockPolicyStatus();
    half.setEpoch(3L);
    half.setConditions(
        List.of(
            new ConditionBuilder()
                .withType(READY)
                .withStatus("Unknown")
                .withReason("Pending")
                .withObservedGeneration(0L)
                .withLastTransitionTime("2026-01-01T00:00:00Z")
                .build()));
    policy.setStatus(half);
    // The mock API server keeps a status given at create, so the operator's first look at this
    // policy is the state a crash left behind.
    LockPolicy created = apply(policy);
    assertThat(created.getStatus().getEpoch()).isEqualTo(3L);

    LockPolicy ready = awaitReady(ns, "half");
    // An epoch without a recorded backend is raised: never smaller, maybe one larger.
    assertThat(ready.getStatus().getEpoch()).isEqualTo(4L);
    assertThat(Servers.etcdGet(prefix + "/.policy")).isNotNull();
    delete(ns, "half");
    assertThat(Servers.etcdCount(prefix + "/")).isZero();
  }

  @Test
  void inProcessAndNoneHaveNothingToProvision() {
    String ns = "local";
    apply(
        Policies.yaml(
            ns, "one-room", "\"one:*\"", "backend: { type: InProcess }\nfencing: Required"));
    apply(Policies.yaml(ns, "race", "\"race:*\"", "backend: { type: None }\nfencing: Optional"));
    LockPolicy inProcess = awaitReady(ns, "one-room");
    LockPolicy none = awaitReady(ns, "race");
    assertThat(reason(inProcess, READY)).isEqualTo("NothingToProvision");
    assertThat(reason(none, PROVISIONED)).isEqualTo("NothingToProvision");
    assertThat(inProcess.getStatus().getEpoch()).isEqualTo(1L);
  }

  /** Conditions are compared without their times, to show nothing else moved. */
  static List<String> summary(LockPolicy p) {
    return p.getStatus().getConditions().stream()
        .map((Condition c) -> c.getType() + "=" + c.getStatus() + "/" + c.getReason())
        .toList();
  }
}
