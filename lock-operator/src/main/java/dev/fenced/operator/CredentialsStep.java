package dev.fenced.operator;

import dev.fenced.lock.policy.KubernetesSecretResolver;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The Secret keys the policy references, read from the API in the policy's namespace (one get per
 * Secret; Secrets are not watched, so one created later is found by the retry). A missing Secret or
 * key: Ready False, reason SecretNotFound naming Secret, key and namespace; retried with back-off.
 */
final class CredentialsStep implements ReconcileStep {

  private final KubernetesClient client;

  CredentialsStep(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public Outcome run(Pass pass) {
    String namespace = pass.policy.getMetadata().getNamespace();
    KubernetesSecretResolver secrets = new KubernetesSecretResolver(client, namespace);
    List<String> credentials = new ArrayList<>();
    for (SecretRefs.Ref ref : SecretRefs.of(pass.policy)) {
      String missing;
      try {
        Optional<String> value = secrets.find(ref.name(), ref.key());
        if (value.isPresent()) {
          credentials.add(value.get());
          continue;
        }
        missing =
            secrets.exists(ref.name())
                ? "Secret \"" + ref.name() + "\" has no key \"" + ref.key() + "\""
                : "Secret \"" + ref.name() + "\" not found (key \"" + ref.key() + "\")";
      } catch (RuntimeException e) {
        missing =
            "Secret \"" + ref.name() + "\" key \"" + ref.key() + "\" unreadable: " + e.getMessage();
      }
      String message = missing + " in namespace " + namespace;
      pass.notChecked(Reasons.SECRET_NOT_FOUND, message, Reasons.SECRET_NOT_FOUND, message);
      return pass.failed();
    }
    pass.secrets = secrets;
    pass.credentials = credentials;
    return Outcome.NEXT;
  }
}
