package dev.fenced.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.policy.v1alpha1.LockPolicyStatus;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class EpochAndIdentityTest {

  private static LockPolicy redis(String url) {
    return Policies.yaml(
        "ns", "p", "\"a:*\"", "backend:\n  type: Redis\n  redis: { url: \"" + url + "\" }");
  }

  @Test
  void identityNamesTheEndpointWithoutCredentials() {
    assertThat(BackendIdentity.of(redis("redis://user@cache:6379/2")))
        .isEqualTo("Redis redis://cache:6379/2 prefix=fenced");
    LockPolicy sentinel =
        Policies.yaml(
            "ns",
            "p",
            "\"a:*\"",
            "backend:\n  type: Redis\n  redis:\n    sentinel: { masterName: cache, nodes:"
                + " [\"s-1:26379\", \"s-0:26379\"] }");
    assertThat(BackendIdentity.of(sentinel))
        .isEqualTo("Redis sentinel=cache@s-0:26379,s-1:26379 prefix=fenced");
    LockPolicy etcd =
        Policies.yaml(
            "ns",
            "p",
            "\"a:*\"",
            "backend:\n  type: Etcd\n  etcd: { endpoints: [\"http://b:2379\", \"http://a:2379\"],"
                + " keyPrefix: /x/ }");
    assertThat(BackendIdentity.of(etcd)).isEqualTo("Etcd http://a:2379,http://b:2379 prefix=/x");
    LockPolicy pg =
        Policies.yaml(
            "ns",
            "p",
            "\"a:*\"",
            "backend:\n  type: Postgres\n  postgres: { jdbcUrl: \"jdbc:postgresql://db:5433/app?user=u\","
                + " mode: Advisory }");
    assertThat(BackendIdentity.of(pg)).isEqualTo("Postgres/Advisory db:5433/app");
    LockPolicy lease =
        Policies.yaml(
            "voting", "p", "\"a:*\"", "backend:\n  type: KubernetesLease\n  kubernetesLease: {}");
    assertThat(BackendIdentity.of(lease)).isEqualTo("KubernetesLease namespace=voting");
  }

  @Test
  void withoutALedgerEpochStartsAtOneAndRisesOnlyWithTheBackend() {
    LockPolicyStatus status = new LockPolicyStatus();
    assertThat(EpochStep.withoutBackend(status, "Redis a")).isEqualTo(1);
    status.setEpoch(1L);
    status.setBackendIdentity("Redis a");
    assertThat(EpochStep.withoutBackend(status, "Redis a")).isEqualTo(1);
    assertThat(EpochStep.withoutBackend(status, "Etcd b")).isEqualTo(2);
    status.setBackendIdentity(null);
    assertThat(EpochStep.withoutBackend(status, "Redis a")).isEqualTo(2);
  }

  @Test
  void transitionTimeMovesOnlyWhenTheStatusFlips() {
    Condition old =
        new ConditionBuilder()
            .withType("Ready")
            .withStatus("True")
            .withReason("Provisioned")
            .withLastTransitionTime("2026-01-01T00:00:00Z")
            .withObservedGeneration(1L)
            .build();
    ConditionSet same = new ConditionSet(List.of(old), 2).set("Ready", "True", "Provisioned", "m");
    assertThat(same.conditions().get(0).getLastTransitionTime()).isEqualTo("2026-01-01T00:00:00Z");
    assertThat(same.conditions().get(0).getObservedGeneration()).isEqualTo(2L);
    assertThat(same.transitions()).isEmpty();
    ConditionSet flipped =
        new ConditionSet(List.of(old), 2).set("Ready", "False", "Unreachable", "m");
    assertThat(flipped.conditions().get(0).getLastTransitionTime())
        .isNotEqualTo("2026-01-01T00:00:00Z");
    assertThat(flipped.transitions()).hasSize(1);
  }

  @Test
  void conflictsAreFoundOnlyWithinANamespace() {
    LockPolicy a = Policies.yaml("one", "a", "\"tie:*\"", "backend: { type: InProcess }");
    LockPolicy b = Policies.yaml("one", "b", "\"tie:*\"", "backend: { type: InProcess }");
    LockPolicy c = Policies.yaml("two", "c", "\"tie:*\"", "backend: { type: InProcess }");
    assertThat(Conflicts.of(a, List.of(a, b, c)))
        .singleElement()
        .satisfies(
            x -> assertThat(x.other(dev.fenced.lock.policy.PolicyRef.of(a)).name()).isEqualTo("b"));
    assertThat(Conflicts.of(c, List.of(a, b, c))).isEmpty();
  }
}
