package dev.fenced.tally;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.matchesRegex;

import dev.fenced.lock.policy.PolicyConditions;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.policy.v1alpha1.LockPolicyStatus;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The service following a LockPolicy from the Kubernetes API (the Fabric8 mock API server in CRUD
 * mode). No operator runs here: the test writes the status the operator would (Ready for the
 * current generation, epoch). Until then the policy is not used and readiness says so.
 */
@QuarkusTest
@TestProfile(KubernetesPolicySourceIT.Profile.class)
@WithKubernetesTestServer(crud = true)
class KubernetesPolicySourceIT {

  static final String NAMESPACE = "voting";

  /** Policies from the API server of namespace {@value #NAMESPACE}. */
  public static class Profile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "fenced.policies.source", "kubernetes",
          "fenced.policies.namespace", NAMESPACE,
          "tally.fold-interval", "100ms",
          "tally.heartbeat-interval", "250ms",
          "tally.member-expiry", "1s");
    }
  }

  @Inject KubernetesClient client;

  @Test
  void aTallyPolicyIsUsedOnceTheOperatorMarksItReady() throws Exception {
    try (InputStream in =
        Files.newInputStream(
            Path.of("..", "k8s", "crds", "lockpolicies.locks.fenced.dev-v1.yml"))) {
      client
          .apiextensions()
          .v1()
          .customResourceDefinitions()
          .resource(
              client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class))
          .createOr(c -> c.update());
    }
    String yaml =
        Files.readString(
            Replica.redisPolicy(Files.createTempDirectory("tally-k8s"), Duration.ofSeconds(2))
                .resolve("tally.yaml"));
    LockPolicy policy = client.getKubernetesSerialization().unmarshal(yaml, LockPolicy.class);
    policy.getMetadata().setNamespace(NAMESPACE);
    client.resource(policy).create();

    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () ->
                given()
                    .get("/q/health/ready")
                    .then()
                    .statusCode(503)
                    .body(
                        "checks[0].data.tallyLocks",
                        equalTo("no Ready LockPolicy governs tally:*")));

    LockPolicy created =
        client.resources(LockPolicy.class).inNamespace(NAMESPACE).withName("tally-locks").get();
    long generation = created.getMetadata().getGeneration();
    LockPolicyStatus status = new LockPolicyStatus();
    status.setObservedGeneration(generation);
    status.setEpoch(3L);
    status.setConditions(
        List.of(
            new ConditionBuilder()
                .withType(PolicyConditions.READY)
                .withStatus(PolicyConditions.TRUE)
                .withReason("Provisioned")
                .withObservedGeneration(generation)
                .withLastTransitionTime("2026-01-01T00:00:00Z")
                .build()));
    created.setStatus(status);
    client.resource(created).updateStatus();

    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () ->
                given()
                    .get("/q/health/ready")
                    .then()
                    .statusCode(200)
                    .body("checks[0].data.tallyLocks", equalTo("governed"))
                    .body(
                        "checks[0].data.'voting/tally-locks'",
                        matchesRegex("Redis epoch \\d+ up in .*")));
  }
}
