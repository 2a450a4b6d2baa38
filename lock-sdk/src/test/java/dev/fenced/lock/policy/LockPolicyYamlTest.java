package dev.fenced.lock.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fenced.lock.policy.v1alpha1.BackendType;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

class LockPolicyYamlTest {

  @Test
  void readsSeveralDocumentsAndSkipsOtherKinds() {
    String yaml =
        Policies.redisYaml("votes", "vote:*")
            + "---\n"
            + "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unrelated\ndata:\n  x: y\n"
            + "---\n"
            + Policies.yaml("tallies", "InProcess", "", "tally:*")
            + "---\n";
    LockPolicyYaml.Result result = LockPolicyYaml.read("both.yaml", yaml);
    assertThat(result.problems()).isEmpty();
    assertThat(result.policies())
        .extracting(p -> p.getMetadata().getName(), p -> p.getSpec().getBackend().getType())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("votes", BackendType.Redis),
            org.assertj.core.groups.Tuple.tuple("tallies", BackendType.InProcess));
  }

  @Test
  void anUnknownFieldIsNamedWithItsPathAndLine() {
    String yaml = Policies.redisYaml("votes", "vote:*").replace("url:", "uri:");
    LockPolicyYaml.Result result = LockPolicyYaml.read("votes.yaml", yaml);
    assertThat(result.policies()).isEmpty();
    assertThat(result.problems())
        .containsExactly(
            new PolicyProblem(
                "votes.yaml",
                11,
                "spec.backend.redis.uri",
                "unknown field; known fields are passwordSecretRef, sentinel, url"));
  }

  @Test
  void anUnknownFieldInMetadataIsNamedToo() {
    String yaml =
        Policies.redisYaml("votes", "vote:*").replace("  namespace: voting", "  namespce: voting");
    assertThat(LockPolicyYaml.read("votes.yaml", yaml).problems())
        .containsExactly(
            new PolicyProblem("votes.yaml", null, "metadata.namespce", "unknown field"));
  }

  @Test
  void anUnknownBackendTypeListsTheKnownOnes() {
    String yaml = Policies.yaml("votes", "Memcached", "", "vote:*");
    assertThat(LockPolicyYaml.read("votes.yaml", yaml).problems())
        .containsExactly(
            new PolicyProblem(
                "votes.yaml",
                9,
                "spec.backend.type",
                "\"Memcached\" is not one of Redis, Postgres, Etcd, ZooKeeper, KubernetesLease,"
                    + " InProcess, None"));
  }

  @Test
  void aValueOfTheWrongShapeIsNamed() {
    String yaml =
        Policies.yaml(
            "pg",
            "Postgres",
            "postgres:\n  host: h\n  database: d\n  mode: LockTable\n  port: many",
            "vote:*");
    assertThat(LockPolicyYaml.read("pg.yaml", yaml).problems())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.field()).isEqualTo("spec.backend.postgres.port");
              assertThat(p.line()).isEqualTo(14);
              assertThat(p.message()).contains("many");
            });
  }

  @Test
  void aDuplicatedKeyIsAnError() {
    String yaml = Policies.redisYaml("votes", "vote:*") + "  maxWait: 1s\n  maxWait: 2s\n";
    assertThat(LockPolicyYaml.read("votes.yaml", yaml).problems())
        .singleElement()
        .satisfies(p -> assertThat(p.message()).contains("Duplicate field 'maxWait'"));
  }

  @Test
  void aSyntaxErrorGivesTheLine() {
    String yaml =
        "apiVersion: locks.fenced.dev/v1alpha1\nkind: LockPolicy\nspec:\n  lockNames: [\"vote:*\"\n  backend: {}\n";
    assertThat(LockPolicyYaml.read("broken.yaml", yaml).problems())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.field()).isNull();
              assertThat(p.line()).isNotNull();
              assertThat(p.message()).startsWith("is not valid YAML: ");
              assertThat(p.toString())
                  .startsWith("broken.yaml:" + p.line() + ": is not valid YAML");
            });
  }

  @Test
  void aMissingKindOrAWrongVersionIsAnError() {
    assertThat(LockPolicyYaml.read("x.yaml", "metadata:\n  name: x\n").problems())
        .containsExactly(new PolicyProblem("x.yaml", null, "kind", "document 1: must be set"));
    String yaml = Policies.redisYaml("votes", "vote:*").replace("v1alpha1", "v1");
    assertThat(LockPolicyYaml.read("x.yaml", yaml).problems())
        .containsExactly(
            new PolicyProblem(
                "x.yaml",
                null,
                "apiVersion",
                "document 1: must be locks.fenced.dev/v1alpha1, was locks.fenced.dev/v1"));
  }

  @Test
  void oneBrokenDocumentMakesTheWholeFileUnusable() {
    String yaml =
        Policies.redisYaml("votes", "vote:*")
            + "---\n"
            + Policies.redisYaml("tallies", "tally:*").replace("url:", "uri:");
    LockPolicyYaml.Result result = LockPolicyYaml.read("x.yaml", yaml);
    assertThat(result.policies()).isEmpty();
    assertThat(result.problems())
        .extracting(PolicyProblem::field)
        .containsExactly("spec.backend.redis.uri");
  }

  @Test
  void whatTheKubernetesClientWritesReadsBackStrictly() {
    // Guards against helper getters leaking into the wire format (and so into the CRD).
    LockPolicy policy =
        Policies.read(
            Policies.yaml(
                "pg",
                "Postgres",
                "postgres:\n  host: h\n  database: d\n  mode: Advisory\n"
                    + "  credentialsSecretRef: { name: pg }",
                "vote:*"));
    String written = new KubernetesSerialization().asYaml(policy);
    assertThat(written)
        .contains("apiVersion: \"locks.fenced.dev/v1alpha1\"")
        .contains("kind: \"LockPolicy\"")
        .doesNotContain("jdbcUrl")
        .doesNotContain("redis");
    LockPolicy back = Policies.read(written);
    assertThat(new KubernetesSerialization().asYaml(back)).isEqualTo(written);
  }
}
