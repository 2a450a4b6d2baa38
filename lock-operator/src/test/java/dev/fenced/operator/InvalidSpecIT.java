package dev.fenced.operator;

import static dev.fenced.lock.policy.PolicyConditions.READY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.policy.PolicyConditions;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One invalid spec per validation rule of the LockPolicy contract (design §4 and the validator),
 * each checked for {@code Ready=False}, reason {@code InvalidSpec} and a message naming the field.
 * The mock API server enforces no schema, so every one reaches the operator.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class InvalidSpecIT {

  private static final String NS = "invalid";

  @Inject KubernetesClient client;

  /** name -> {spec, the message the Ready condition must contain}. */
  private static Map<String, String[]> cases() {
    String redis = "backend:\n  type: Redis\n  redis: { url: \"redis://127.0.0.1:1\" }\n";
    Map<String, String[]> cases = new LinkedHashMap<>();
    cases.put(
        "no-block",
        new String[] {
          "backend: { type: Redis }", "spec.backend.redis: must be set for type Redis"
        });
    cases.put(
        "two-blocks",
        new String[] {
          "backend:\n  type: Redis\n  redis: { url: \"redis://r:6379\" }\n"
              + "  etcd: { endpoints: [\"http://e:2379\"] }",
          "spec.backend.etcd: must not be set with type Redis"
        });
    cases.put(
        "block-for-inprocess",
        new String[] {
          "backend:\n  type: InProcess\n  redis: { url: \"redis://r:6379\" }",
          "spec.backend.redis: must not be set: type InProcess takes no settings block"
        });
    cases.put(
        "renew-not-shorter",
        new String[] {
          redis + "leaseDuration: 3s\nrenewInterval: 3s",
          "spec.renewInterval: must be shorter than spec.leaseDuration (3s), was 3s"
        });
    cases.put(
        "lease-not-positive",
        new String[] {redis + "leaseDuration: 0s", "spec.leaseDuration: must be positive"});
    cases.put(
        "renew-not-positive",
        new String[] {redis + "renewInterval: 0s", "spec.renewInterval: must be positive"});
    cases.put("max-wait-negative", new String[] {redis + "maxWait: \"-1s\"", "spec.maxWait"});
    cases.put(
        "duration-unreadable", new String[] {redis + "leaseDuration: soon", "spec.leaseDuration"});
    cases.put(
        "no-lock-names",
        new String[] {"lockNames: []\n" + redis, "spec.lockNames: must list at least one"});
    cases.put(
        "password-in-url",
        new String[] {
          "backend:\n  type: Redis\n  redis: { url: \"redis://u:hunter2@r:6379\" }",
          "spec.backend.redis.url: must not carry a password"
        });
    cases.put(
        "none-with-required-fencing",
        new String[] {
          "backend: { type: None }\nfencing: Required",
          "spec.fencing: must be Optional with backend None"
        });
    cases.put(
        "zk-relative-path",
        new String[] {
          "backend:\n  type: ZooKeeper\n  zookeeper: { connectString: \"z:2181\", basePath: locks }",
          "spec.backend.zookeeper.basePath: must be an absolute node path"
        });
    cases.put(
        "etcd-bad-endpoint",
        new String[] {
          "backend:\n  type: Etcd\n  etcd: { endpoints: [\"etcd:2379\"] }",
          "spec.backend.etcd.endpoints[0]: must be an http:// or https:// URL"
        });
    cases.put(
        "postgres-without-mode",
        new String[] {
          "backend:\n  type: Postgres\n  postgres: { host: p, database: d }",
          "spec.backend.postgres.mode: must be set"
        });
    return cases;
  }

  @Test
  void everyRuleIsReportedWithItsFieldAndNothingRetries() throws Exception {
    Policies.namespace(client, NS);
    Map<String, String[]> cases = cases();
    for (var c : cases.entrySet()) {
      String spec = c.getValue()[0];
      String names = spec.startsWith("lockNames") ? null : "\"" + c.getKey() + ":*\"";
      LockPolicy policy =
          names == null
              ? Policies.yaml(NS, c.getKey(), "\"x\"", spec.replace("lockNames: []\n", ""))
              : Policies.yaml(NS, c.getKey(), names, spec);
      if (names == null) {
        policy.getSpec().setLockNames(java.util.List.of());
      }
      client.resource(policy).create();
    }
    for (var c : cases.entrySet()) {
      LockPolicy p =
          await()
              .atMost(Duration.ofSeconds(30))
              .until(
                  () ->
                      client.resources(LockPolicy.class).inNamespace(NS).withName(c.getKey()).get(),
                  x -> x.getStatus() != null && Policies.reason(x, READY) != null);
      assertThat(Policies.status(p, READY)).as(c.getKey()).isEqualTo("False");
      assertThat(Policies.reason(p, READY)).as(c.getKey()).isEqualTo("InvalidSpec");
      assertThat(Policies.condition(p, READY).getMessage())
          .as(c.getKey())
          .contains(c.getValue()[1]);
      assertThat(Policies.condition(p, READY).getMessage()).doesNotContain("hunter2");
      assertThat(p.getStatus().getObservedGeneration()).isEqualTo(1L);
      assertThat(PolicyConditions.isReadyForCurrentGeneration(p)).isFalse();
    }

    // No hot loop: with nothing changed, the status is not written again.
    String version =
        client
            .resources(LockPolicy.class)
            .inNamespace(NS)
            .withName("renew-not-shorter")
            .get()
            .getMetadata()
            .getResourceVersion();
    Thread.sleep(3000); // longer than the test back-off cap (2s)
    assertThat(
            client
                .resources(LockPolicy.class)
                .inNamespace(NS)
                .withName("renew-not-shorter")
                .get()
                .getMetadata()
                .getResourceVersion())
        .isEqualTo(version);

    // Fixing the spec is enough: the next generation is reconciled and becomes Ready.
    LockPolicy fix =
        client
            .resources(LockPolicy.class)
            .inNamespace(NS)
            .withName("none-with-required-fencing")
            .get();
    fix.getSpec().setFencing(dev.fenced.lock.policy.v1alpha1.Fencing.Optional);
    client.resource(fix).update();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                client
                    .resources(LockPolicy.class)
                    .inNamespace(NS)
                    .withName("none-with-required-fencing")
                    .get(),
            PolicyConditions::isReadyForCurrentGeneration);
  }
}
