package dev.fenced.operator;

import dev.fenced.lock.policy.v1alpha1.Backend;
import dev.fenced.lock.policy.v1alpha1.CredentialsSecretRef;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.policy.v1alpha1.SecretKeyRef;
import java.util.ArrayList;
import java.util.List;

/** The Secret keys a valid policy references, in the order the backend needs them. */
final class SecretRefs {

  /** One key of one Secret. */
  record Ref(String name, String key) {}

  private SecretRefs() {}

  static List<Ref> of(LockPolicy policy) {
    Backend backend = policy.getSpec().getBackend();
    List<Ref> refs = new ArrayList<>();
    if (backend.getRedis() != null && backend.getRedis().getPasswordSecretRef() != null) {
      SecretKeyRef ref = backend.getRedis().getPasswordSecretRef();
      refs.add(new Ref(ref.getName(), ref.getKey()));
    }
    if (backend.getPostgres() != null && backend.getPostgres().getCredentialsSecretRef() != null) {
      CredentialsSecretRef creds = backend.getPostgres().getCredentialsSecretRef();
      refs.add(new Ref(creds.getName(), creds.getUsernameKey()));
      refs.add(new Ref(creds.getName(), creds.getPasswordKey()));
    }
    return refs;
  }
}
