package dev.fenced.lock.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.policy.v1alpha1.BackendType;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.policy.v1alpha1.LockPolicyStatus;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link KubernetesPolicySource} and {@link KubernetesSecretResolver} against the Fabric8 mock API
 * server in CRUD mode, with the committed CRD installed. The test writes the status the operator
 * would write (observedGeneration, Ready, epoch).
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesPolicySourceIT {

  private static final String NS = "voting";
  private static final Duration WAIT = Duration.ofSeconds(10);

  static {
    // The mock server logs every request at INFO.
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver")
        .setLevel(java.util.logging.Level.WARNING);
  }

  static KubernetesMockServer server;
  static KubernetesClient client;

  private KubernetesPolicySource source;
  private final List<List<LockPolicy>> heard = new CopyOnWriteArrayList<>();

  @BeforeEach
  void installCrd() throws Exception {
    try (InputStream in =
        Files.newInputStream(
            Path.of("..", "k8s", "crds", "lockpolicies.locks.fenced.dev-v1.yml"))) {
      CustomResourceDefinition crd =
          client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
      client
          .apiextensions()
          .v1()
          .customResourceDefinitions()
          .resource(crd)
          .createOr(c -> c.update());
    }
    client.resources(LockPolicy.class).inNamespace(NS).delete();
  }

  @AfterEach
  void close() {
    if (source != null) {
      source.close();
    }
  }

  private KubernetesPolicySource start() {
    source = new KubernetesPolicySource(client, NS);
    source.addListener(heard::add);
    return source;
  }

  @Test
  void aPolicyIsOfferedOnlyOnceReadyForItsGeneration() {
    start();
    create(Policies.redis("counters", "vote:*"));

    await().atMost(WAIT).until(() -> !source.problems().isEmpty());
    assertThat(source.policies()).as("not yet reconciled: not offered").isEmpty();
    assertThat(source.problems().get(0).toString())
        .contains("LockPolicy voting/counters")
        .contains("not Ready for generation 1")
        .contains("has not reported on it yet");

    markReady("counters", 0);

    await().atMost(WAIT).until(() -> source.policies().size() == 1);
    assertThat(source.problems()).isEmpty();
    assertThat(heard).as("listener told").isNotEmpty();
    assertThat(heard.get(heard.size() - 1)).hasSize(1);
  }

  @Test
  void aNewGenerationReplacesTheOldOnlyWhenReady() {
    create(Policies.redis("counters", "vote:*"));
    markReady("counters", 0);
    start();
    assertThat(source.policies()).as("offered from the first list").hasSize(1);

    // Spec change: generation 2, status still describes generation 1.
    LockPolicy changed = get("counters");
    changed.getSpec().setBackend(postgresBackend());
    LockPolicy updated = client.resource(changed).update();
    assertThat(updated.getMetadata().getGeneration()).isEqualTo(2L);

    await()
        .atMost(WAIT)
        .until(
            () -> source.problems().stream().anyMatch(p -> p.message().contains("generation 2")));
    assertThat(source.problems().get(0).message())
        .contains("status describes generation 1")
        .contains("generation 1 stays in force");
    assertThat(source.policies().get(0).getSpec().getBackend().getType())
        .as("the last Ready version stays in force")
        .isEqualTo(BackendType.Redis);

    markReady("counters", 1);

    await()
        .atMost(WAIT)
        .until(
            () ->
                source.policies().get(0).getSpec().getBackend().getType() == BackendType.Postgres);
    assertThat(source.policies().get(0).getStatus().getEpoch()).isEqualTo(1L);
    assertThat(LockPolicyValidator.toSettings(source.policies().get(0)).epoch())
        .as("the epoch reaches the lock settings from status.epoch")
        .isEqualTo(1L);
    assertThat(source.problems()).isEmpty();

    client.resource(get("counters")).delete();
    await().atMost(WAIT).until(() -> source.policies().isEmpty());
    assertThat(heard.get(heard.size() - 1)).isEmpty();
  }

  @Test
  void aReadyButInvalidPolicyIsReportedAndNotOffered() {
    start();
    LockPolicy bad = Policies.redis("bad-timing", "vote:*");
    bad.getSpec().setLeaseDuration("2s");
    bad.getSpec().setRenewInterval("5s");
    create(bad);
    markReady("bad-timing", 0);

    await()
        .atMost(WAIT)
        .until(
            () -> source.problems().stream().anyMatch(p -> "spec.renewInterval".equals(p.field())));
    assertThat(source.policies()).isEmpty();
    assertThat(source.problems().get(0).source()).isEqualTo("LockPolicy voting/bad-timing");
  }

  @Test
  void aNotReadyOrConflictingStatusIsReported() {
    start();
    create(Policies.redis("tied", "vote:*"));
    LockPolicy p = get("tied");
    LockPolicyStatus status = new LockPolicyStatus();
    status.setObservedGeneration(1L);
    status.setEpoch(0L);
    status.setConditions(
        List.of(
            condition(PolicyConditions.READY, "False", "Conflicting", 1L),
            condition(PolicyConditions.CONFLICTING, "True", "SamePrefix", 1L)));
    p.setStatus(status);
    client.resource(p).updateStatus();

    await().atMost(WAIT).until(() -> source.problems().size() == 2);
    assertThat(source.problems())
        .extracting(PolicyProblem::message)
        .anySatisfy(m -> assertThat(m).contains("Ready is False (Conflicting)"))
        .anySatisfy(m -> assertThat(m).contains("True (SamePrefix)"));
    assertThat(source.policies()).isEmpty();
  }

  /**
   * Fabric8's serializer fails on an enum constant it does not know; the source converts each
   * object on its own, so such a policy is a problem and the watch goes on for the others.
   */
  @Test
  void anUnknownBackendTypeIsAProblemAndTheWatchGoesOn() {
    start();
    GenericKubernetesResource raw =
        client
            .getKubernetesSerialization()
            .unmarshal(
                """
                {"apiVersion": "locks.fenced.dev/v1alpha1", "kind": "LockPolicy",
                 "metadata": {"name": "future", "namespace": "voting"},
                 "spec": {"lockNames": ["vote:*"], "backend": {"type": "Quantum", "quantum": {}}},
                 "status": {"observedGeneration": 1, "epoch": 0,
                            "conditions": [{"type": "Ready", "status": "True", "reason": "Provisioned"}]}}
                """,
                GenericKubernetesResource.class);
    client
        .genericKubernetesResources(KubernetesPolicySource.LOCK_POLICIES)
        .inNamespace(NS)
        .resource(raw)
        .create();

    await().atMost(WAIT).until(() -> !source.problems().isEmpty());
    assertThat(source.problems().get(0).source()).isEqualTo("LockPolicy voting/future");
    assertThat(source.problems().get(0).message())
        .contains("cannot be read by this version")
        .contains("Quantum");

    create(Policies.redis("counters", "vote:*"));
    markReady("counters", 0);
    await().atMost(WAIT).until(() -> source.policies().size() == 1);
    assertThat(source.policies().get(0).getMetadata().getName()).isEqualTo("counters");
  }

  @Test
  void secretsAreReadFromTheNamespace() {
    client
        .secrets()
        .inNamespace(NS)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("postgres")
                .endMetadata()
                .withData(Map.of("password", "czNjcjN0")) // s3cr3t
                .build())
        .create();
    KubernetesSecretResolver secrets = new KubernetesSecretResolver(client, NS);

    assertThat(secrets.find("postgres", "password")).contains("s3cr3t");
    assertThat(secrets.find("postgres", "username")).isEmpty();
    assertThat(secrets.find("missing", "password")).isEmpty();
    assertThatThrownBy(() -> secrets.require("postgres", "username"))
        .hasMessageContaining("Secret \"postgres\" has no key \"username\"")
        .hasMessageNotContaining("s3cr3t");
    assertThatThrownBy(() -> secrets.find("Not_A_Name", "k"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("secret name");
  }

  private static io.fabric8.kubernetes.api.model.Condition condition(
      String type, String status, String reason, Long generation) {
    return new ConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withObservedGeneration(generation)
        .withLastTransitionTime("2026-01-01T00:00:00Z")
        .build();
  }

  private static dev.fenced.lock.policy.v1alpha1.Backend postgresBackend() {
    return Policies.read(
            Policies.yaml(
                "x",
                "Postgres",
                "postgres:\n  host: 127.0.0.1\n  database: fenced\n  mode: LockTable",
                "vote:*"))
        .getSpec()
        .getBackend();
  }

  private static void create(LockPolicy policy) {
    policy.getMetadata().setNamespace(NS);
    client.resource(policy).create();
  }

  private static LockPolicy get(String name) {
    return client.resources(LockPolicy.class).inNamespace(NS).withName(name).get();
  }

  /** What the operator does once it has reconciled the current generation. */
  private static void markReady(String name, long epoch) {
    LockPolicy p = get(name);
    long generation = p.getMetadata().getGeneration();
    LockPolicyStatus status = new LockPolicyStatus();
    status.setObservedGeneration(generation);
    status.setEpoch(epoch);
    status.setConditions(
        List.of(condition(PolicyConditions.READY, "True", "Provisioned", generation)));
    p.setStatus(status);
    client.resource(p).updateStatus();
  }
}
