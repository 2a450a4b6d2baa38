package dev.fenced.operator;

import dev.fenced.lock.policy.PolicyConditions;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import org.awaitility.Awaitility;

/** LockPolicies for tests, written as YAML the way users write them. */
final class Policies {

  private Policies() {}

  static LockPolicy yaml(String namespace, String name, String lockNames, String spec) {
    return Serialization.unmarshal(
        """
        apiVersion: locks.fenced.dev/v1alpha1
        kind: LockPolicy
        metadata:
          name: %s
          namespace: %s
        spec:
          lockNames: [%s]
        %s
        """
            .formatted(name, namespace, lockNames, spec.indent(2).stripTrailing()),
        LockPolicy.class);
  }

  static String redis() {
    return """
        backend:
          type: Redis
          redis: { url: "%s" }
        """
        .formatted(Servers.redisUrl());
  }

  static String postgres(String mode) {
    return """
        backend:
          type: Postgres
          postgres:
            host: %s
            port: %d
            database: %s
            mode: %s
            credentialsSecretRef: { name: pg }
        """
        .formatted(Servers.pgHost(), Servers.pgPort(), Servers.pgDatabase(), mode);
  }

  static String etcd(String prefix) {
    return """
        backend:
          type: Etcd
          etcd: { endpoints: ["%s"], keyPrefix: "%s" }
        """
        .formatted(Servers.etcdEndpoint(), prefix);
  }

  static String zookeeper(String basePath) {
    return """
        backend:
          type: ZooKeeper
          zookeeper: { connectString: "%s", basePath: "%s" }
        """
        .formatted(Servers.zkConnect(), basePath);
  }

  static void namespace(KubernetesClient client, String namespace) {
    client
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
        .createOr(existing -> existing.update());
  }

  static void pgSecret(KubernetesClient client, String namespace) {
    client
        .secrets()
        .inNamespace(namespace)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("pg")
                .endMetadata()
                .withData(
                    Map.of(
                        "username", b64(Servers.pgUser()),
                        "password", b64(Servers.pgPassword())))
                .build())
        .createOr(existing -> existing.update());
  }

  /**
   * Waits for a deleted policy to go. JOSDK's retry timer can race the delete event (after the mock
   * server's answer to the finalizer removal trips JOSDK's cache update) and throw on its own
   * thread; that is JOSDK's, so this wait does not fail on other threads' exceptions.
   */
  static void awaitGone(Callable<LockPolicy> get) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .dontCatchUncaughtExceptions()
        .until(() -> get.call() == null);
  }

  static String b64(String value) {
    return java.util.Base64.getEncoder().encodeToString(value.getBytes());
  }

  static Condition condition(LockPolicy policy, String type) {
    return PolicyConditions.find(policy, type).orElse(null);
  }

  static String status(LockPolicy policy, String type) {
    Condition c = condition(policy, type);
    return c == null ? null : c.getStatus();
  }

  static String reason(LockPolicy policy, String type) {
    Condition c = condition(policy, type);
    return c == null ? null : c.getReason();
  }
}
