package dev.fenced.operator;

import static dev.fenced.lock.policy.PolicyConditions.BACKEND_REACHABLE;
import static dev.fenced.lock.policy.PolicyConditions.READY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.policy.PolicyConditions;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** The real Redis stopped and started under a Ready policy; an address nobody answers on. */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class BackendOutageIT {

  private static final String NS = "outage";

  @Inject KubernetesClient client;

  private LockPolicy awaitPolicy(String name, Predicate<LockPolicy> until) {
    return await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> client.resources(LockPolicy.class).inNamespace(NS).withName(name).get(),
            p -> p != null && p.getStatus() != null && until.test(p));
  }

  /**
   * The restart also gives the server a new run_id. With AOF (appendfsync everysec, as {@code
   * scripts/backends.sh} runs it) a crash can lose the last second of fence increments, so the
   * restarted server is another incarnation and the epoch rises by one.
   */
  @Test
  void redisGoingAwayIsReportedAndRecoveredWithoutHelp() throws Exception {
    Policies.namespace(client, NS);
    client.resource(Policies.yaml(NS, "counters", "\"down:*\"", Policies.redis())).create();
    LockPolicy ready = awaitPolicy("counters", PolicyConditions::isReadyForCurrentGeneration);
    String since = Policies.condition(ready, READY).getLastTransitionTime();
    long epoch = ready.getStatus().getEpoch();
    try {
      Servers.backends("down", "redis");
      LockPolicy down =
          awaitPolicy("counters", p -> "False".equals(Policies.status(p, BACKEND_REACHABLE)));
      assertThat(Policies.reason(down, BACKEND_REACHABLE)).isEqualTo("Unreachable");
      String host = Servers.redisUrl().replace("redis://", "");
      assertThat(Policies.condition(down, BACKEND_REACHABLE).getMessage()).contains(host);
      assertThat(Policies.status(down, READY)).isEqualTo("False");
      assertThat(Policies.reason(down, READY)).isEqualTo("Unreachable");
      assertThat(down.getStatus().getEpoch()).isEqualTo(epoch);
    } finally {
      Servers.backends("up", "redis");
    }
    // Nobody touches the policy: the back-off brings the operator back to it.
    LockPolicy back = awaitPolicy("counters", PolicyConditions::isReadyForCurrentGeneration);
    assertThat(Policies.status(back, BACKEND_REACHABLE)).isEqualTo("True");
    assertThat(Policies.condition(back, READY).getLastTransitionTime()).isNotEqualTo(since);
    assertThat(back.getStatus().getEpoch()).isEqualTo(epoch + 1);
    assertThat(back.getStatus().getBackendIncarnation())
        .startsWith("redis run_id=")
        .isNotEqualTo(ready.getStatus().getBackendIncarnation());
  }

  @Test
  void unreachableMessageNamesTheEndpointButNeverThePassword() {
    Policies.namespace(client, NS);
    client
        .secrets()
        .inNamespace(NS)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("redis")
                .endMetadata()
                .withData(Map.of("password", Policies.b64("hunter2-never-shown")))
                .build())
        .create();
    String spec =
        """
        backend:
          type: Redis
          redis:
            url: "redis://127.0.0.1:1"
            passwordSecretRef: { name: redis, key: password }
        """;
    client.resource(Policies.yaml(NS, "nowhere", "\"nowhere:*\"", spec)).create();
    LockPolicy p =
        awaitPolicy("nowhere", x -> "False".equals(Policies.status(x, BACKEND_REACHABLE)));
    assertThat(Policies.condition(p, BACKEND_REACHABLE).getMessage()).contains("127.0.0.1:1");
    assertThat(p.getStatus().getConditions())
        .allSatisfy(c -> assertThat(c.getMessage()).doesNotContain("hunter2"));
    // Never provisioned: no epoch and no identity yet (the epoch needs the backend's ledger).
    assertThat(p.getStatus().getEpoch()).isNull();
    assertThat(p.getStatus().getBackendIdentity()).isNull();
    assertThat(Serialization.asJson(p.getStatus())).doesNotContain("hunter2");
  }
}
