package dev.fenced.lock.policy;

import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import io.fabric8.kubernetes.api.model.ObjectMeta;

/**
 * Names one LockPolicy as {@code namespace/name}, the way messages and maps refer to it.
 *
 * @param namespace the policy's namespace; may be null for a policy that has none
 * @param name the policy's name; may be null only for a policy that fails validation
 */
public record PolicyRef(String namespace, String name) {

  public static PolicyRef of(LockPolicy policy) {
    ObjectMeta meta = policy.getMetadata();
    return meta == null
        ? new PolicyRef(null, null)
        : new PolicyRef(meta.getNamespace(), meta.getName());
  }

  @Override
  public String toString() {
    String n = name == null ? "<unnamed>" : name;
    return namespace == null ? n : namespace + "/" + n;
  }
}
