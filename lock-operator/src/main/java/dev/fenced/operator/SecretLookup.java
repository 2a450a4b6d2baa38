package dev.fenced.operator;

import dev.fenced.lock.policy.SecretResolver;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reads the Secrets a LockPolicy references from the Kubernetes API, in the policy's namespace,
 * with one {@code get} per lookup (no informer, so the operator needs no list/watch on Secrets).
 * Values are never logged; messages name the Secret and the key only.
 */
final class SecretLookup implements SecretResolver {

  private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
  private static final Pattern KEY = Pattern.compile("[-._a-zA-Z0-9]{1,253}");

  private final KubernetesClient client;
  private final String namespace;

  SecretLookup(KubernetesClient client, String namespace) {
    this.client = Objects.requireNonNull(client, "client");
    this.namespace = Objects.requireNonNull(namespace, "namespace");
  }

  /** Whether the Secret itself exists; for a message that says which part is missing. */
  boolean exists(String name) {
    return secret(name) != null;
  }

  @Override
  public Optional<String> find(String name, String key) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "secret name must be a DNS subdomain (lower-case letters, digits, '-' and '.'), was \""
              + name
              + "\"");
    }
    if (key == null || !KEY.matcher(key).matches()) {
      throw new IllegalArgumentException(
          "secret key must consist of letters, digits, '-', '_' and '.', was \"" + key + "\"");
    }
    Secret secret = secret(name);
    if (secret == null) {
      return Optional.empty();
    }
    Map<String, String> data = secret.getData();
    if (data != null && data.get(key) != null) {
      return Optional.of(
          new String(Base64.getDecoder().decode(data.get(key)), StandardCharsets.UTF_8));
    }
    // stringData is write-only on a real API server; a mock server may keep it.
    Map<String, String> plain = secret.getStringData();
    return Optional.ofNullable(plain == null ? null : plain.get(key));
  }

  private Secret secret(String name) {
    return client.secrets().inNamespace(namespace).withName(name).get();
  }

  @Override
  public String toString() {
    return "Secrets in namespace " + namespace;
  }
}
