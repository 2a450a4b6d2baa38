package dev.fenced.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.policy.PolicyConditions;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A LockPolicy deleted and created again, then moved to another namespace, pointing at the same
 * backend each time: the epoch never goes back, because the backend's ledger keeps the epochs of
 * policies that are gone and a new policy starts above them. One run per backend, on the real
 * servers (the Lease backend on the mock API server).
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class PolicyRecreationIT {

  private static final Duration WAIT = Duration.ofSeconds(60);

  @Inject KubernetesClient client;

  @Test
  void redis() {
    recreate("redis", Policies.redis());
  }

  @Test
  void postgres() {
    recreate("pg", Policies.postgres("Advisory"));
  }

  @Test
  void etcd() {
    recreate("etcd", Policies.etcd("/fenced/recreation-it/" + System.nanoTime()));
  }

  @Test
  void zooKeeper() {
    recreate("zk", Policies.zookeeper("/fenced/recreation-it/" + System.nanoTime()));
  }

  @Test
  void kubernetesLease() {
    String leases = "recreation-leases-" + Long.toHexString(System.nanoTime());
    Policies.namespace(client, leases);
    recreate(
        "lease",
        """
        backend:
          type: KubernetesLease
          kubernetesLease: { namespace: %s }
        """
            .formatted(leases));
  }

  /** Created, deleted, created again; deleted, created in another namespace. */
  private void recreate(String prefix, String spec) {
    String first = prefix + "-recreate-a-" + Long.toHexString(System.nanoTime());
    String second = prefix + "-recreate-b-" + Long.toHexString(System.nanoTime());
    List<Long> epochs = new ArrayList<>();
    epochs.add(createAndDelete(first, spec, true));
    epochs.add(createAndDelete(first, spec, true));
    epochs.add(createAndDelete(second, spec, false));
    System.out.printf(
        "%s: epochs of the same lock family across re-creations %s%n", prefix, epochs);
    assertThat(epochs)
        .as("each new policy starts above the epoch its predecessor left in the ledger")
        .isSortedAccordingTo(Long::compare)
        .doesNotHaveDuplicates();
  }

  private long createAndDelete(String namespace, String spec, boolean raiseFirst) {
    Policies.namespace(client, namespace);
    Policies.pgSecret(client, namespace);
    client.resource(Policies.yaml(namespace, "family", "\"family:*\"", spec)).create();
    LockPolicy ready = awaitReady(namespace);
    long epoch = ready.getStatus().getEpoch();
    if (raiseFirst) {
      // A move to another identity and back raises the epoch twice: what is recorded is the last.
      epoch = move(namespace, ready, epoch);
    }
    client.resources(LockPolicy.class).inNamespace(namespace).withName("family").delete();
    await()
        .atMost(WAIT)
        .until(
            () ->
                client.resources(LockPolicy.class).inNamespace(namespace).withName("family").get()
                    == null);
    return epoch;
  }

  /** Lease timing is not part of the identity; the fencing mode is not either: a move is needed. */
  private long move(String namespace, LockPolicy ready, long epoch) {
    client
        .resources(LockPolicy.class)
        .inNamespace(namespace)
        .withName("family")
        .edit(
            p -> {
              p.getSpec()
                  .setBackend(
                      Policies.yaml(namespace, "x", "\"x\"", "backend: { type: InProcess }")
                          .getSpec()
                          .getBackend());
              return p;
            });
    LockPolicy inProcess = awaitEpoch(namespace, epoch + 1);
    client
        .resources(LockPolicy.class)
        .inNamespace(namespace)
        .withName("family")
        .edit(
            p -> {
              p.getSpec().setBackend(ready.getSpec().getBackend());
              return p;
            });
    return awaitEpoch(namespace, inProcess.getStatus().getEpoch() + 1).getStatus().getEpoch();
  }

  private LockPolicy awaitReady(String namespace) {
    return await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                client.resources(LockPolicy.class).inNamespace(namespace).withName("family").get(),
            p -> p != null && PolicyConditions.isReadyForCurrentGeneration(p));
  }

  private LockPolicy awaitEpoch(String namespace, long epoch) {
    return await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                client.resources(LockPolicy.class).inNamespace(namespace).withName("family").get(),
            p ->
                p != null
                    && PolicyConditions.isReadyForCurrentGeneration(p)
                    && p.getStatus().getEpoch() != null
                    && p.getStatus().getEpoch() >= epoch);
  }
}
