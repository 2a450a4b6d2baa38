package dev.fenced.lock.policy;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Secrets read from the Kubernetes API, in one namespace, on every lookup (a rotated value is seen
 * at once). Needs RBAC {@code get} on {@code secrets} in that namespace. Values are never logged;
 * messages name the Secret and key only.
 */
public final class KubernetesSecretResolver implements SecretResolver {

  private final KubernetesClient client;
  private final String namespace;

  /**
   * @param client owned by the caller
   * @param namespace where the Secrets are; the policies' own namespace
   */
  public KubernetesSecretResolver(KubernetesClient client, String namespace) {
    this.client = Objects.requireNonNull(client, "client");
    this.namespace = Objects.requireNonNull(namespace, "namespace");
  }

  @Override
  public Optional<String> find(String name, String key) {
    SecretNames.check(name, key);
    Secret secret = client.secrets().inNamespace(namespace).withName(name).get();
    if (secret == null) {
      return Optional.empty();
    }
    Map<String, String> data = secret.getData();
    if (data != null && data.containsKey(key)) {
      String encoded = data.get(key);
      try {
        return Optional.of(
            encoded == null
                ? ""
                : new String(Base64.getMimeDecoder().decode(encoded), StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException(
            "key \"" + key + "\" of Secret \"" + name + "\" in " + namespace + " is not base64");
      }
    }
    // stringData is write-only on a real API server; the mock server may hand it back.
    Map<String, String> plain = secret.getStringData();
    return plain == null ? Optional.empty() : Optional.ofNullable(plain.get(key));
  }

  /** Whether the Secret itself exists, to tell a missing Secret from a missing key. */
  public boolean exists(String name) {
    SecretNames.check(name, "x");
    return client.secrets().inNamespace(namespace).withName(name).get() != null;
  }

  @Override
  public String toString() {
    return "Secrets in namespace " + namespace;
  }
}
