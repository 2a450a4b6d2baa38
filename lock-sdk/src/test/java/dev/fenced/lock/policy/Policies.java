package dev.fenced.lock.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.policy.v1alpha1.LockPolicySpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.List;

/** Test policies, built from YAML the way users write them. */
final class Policies {

  private Policies() {}

  static String yaml(String name, String backendType, String block, String... lockNames) {
    return """
        apiVersion: locks.fenced.dev/v1alpha1
        kind: LockPolicy
        metadata:
          name: %s
          namespace: voting
        spec:
          lockNames: [%s]
          backend:
            type: %s
        %s
        """
        .formatted(
            name,
            String.join(", ", List.of(lockNames).stream().map(n -> "\"" + n + "\"").toList()),
            backendType,
            block.isEmpty() ? "" : block.indent(4).stripTrailing());
  }

  static String redisYaml(String name, String... lockNames) {
    return yaml(name, "Redis", "redis:\n  url: redis://127.0.0.1:16379", lockNames);
  }

  static LockPolicy read(String yaml) {
    LockPolicyYaml.Result result = LockPolicyYaml.read("test.yaml", yaml);
    assertThat(result.problems()).isEmpty();
    assertThat(result.policies()).hasSize(1);
    return result.policies().get(0);
  }

  static LockPolicy redis(String name, String... lockNames) {
    return read(redisYaml(name, lockNames));
  }

  /** A policy with only what the resolver looks at. */
  static LockPolicy named(String namespace, String name, String... lockNames) {
    LockPolicy policy = new LockPolicy();
    policy.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    LockPolicySpec spec = new LockPolicySpec();
    spec.setLockNames(List.of(lockNames));
    policy.setSpec(spec);
    return policy;
  }
}
