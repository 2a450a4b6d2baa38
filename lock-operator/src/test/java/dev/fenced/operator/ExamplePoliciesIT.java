package dev.fenced.operator;

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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Applies every example of k8s/examples/ (each file in a namespace of its own, the chart's Service
 * addresses pointed at the servers of scripts/backends.sh), waits until the operator has reconciled
 * its policies against the real backends, and writes what {@code kubectl get lp -A -o yaml} would
 * show to target/example-policies-status.yaml (and to the test output).
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class ExamplePoliciesIT {

  @Inject KubernetesClient client;

  @Test
  void everyExampleBecomesReadyAgainstTheRealBackends() throws Exception {
    Path dir = Servers.repoRoot().resolve("k8s/examples");
    List<Path> files;
    try (Stream<Path> list = Files.list(dir)) {
      files = list.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(files).hasSizeGreaterThanOrEqualTo(7);
    List<String[]> applied = new ArrayList<>();
    for (Path file : files) {
      String namespace =
          "example-"
              + file.getFileName().toString().replace("lockpolicy-", "").replace(".yaml", "");
      String yaml =
          Files.readString(file)
              .replace("redis://fenced-redis:6379", Servers.redisUrl())
              // The local Redis has no password.
              .replaceAll("(?m)^ *passwordSecretRef: .*\n", "")
              .replace("host: fenced-postgresql", "host: " + Servers.pgHost())
              .replace("port: 5432", "port: " + Servers.pgPort())
              .replace("database: fenced", "database: " + Servers.pgDatabase())
              .replace("http://fenced-etcd:2379", Servers.etcdEndpoint())
              .replace("connectString: zookeeper:2181", "connectString: " + Servers.zkConnect())
              .replaceAll("(?m)^  namespace: voting$", "  namespace: " + namespace);
      Policies.namespace(client, namespace);
      Policies.namespace(client, "voting"); // the KubernetesLease example keeps its Leases there
      client
          .secrets()
          .inNamespace(namespace)
          .resource(
              new SecretBuilder()
                  .withNewMetadata()
                  .withName("fenced-postgresql")
                  .endMetadata()
                  .withData(
                      Map.of(
                          "username", Policies.b64(Servers.pgUser()),
                          "password", Policies.b64(Servers.pgPassword())))
                  .build())
          .createOr(existing -> existing.update());
      for (String doc : yaml.split("(?m)^---$")) {
        LockPolicy policy = Serialization.unmarshal(doc, LockPolicy.class);
        client.resource(policy).create();
        applied.add(new String[] {namespace, policy.getMetadata().getName()});
      }
    }
    StringBuilder out = new StringBuilder();
    for (String[] ref : applied) {
      LockPolicy p =
          await()
              .atMost(Duration.ofSeconds(60))
              .until(
                  () ->
                      client.resources(LockPolicy.class).inNamespace(ref[0]).withName(ref[1]).get(),
                  PolicyConditions::isReadyForCurrentGeneration);
      p.getMetadata().setManagedFields(null);
      out.append(Serialization.asYaml(p));
    }
    Path report = Path.of("target/example-policies-status.yaml");
    Files.writeString(report, out.toString());
    System.out.println(out);
  }
}
