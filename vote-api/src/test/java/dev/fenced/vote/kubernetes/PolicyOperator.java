package dev.fenced.vote.kubernetes;

import dev.fenced.lock.policy.PolicyConditions;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.lock.policy.v1alpha1.LockPolicyStatus;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What the tests do in the operator's place on the mock API server: install the CRD, write
 * LockPolicies and Secrets, and mark a policy Ready for its current generation with an epoch — the
 * status the real operator writes once it has reconciled a generation.
 */
public final class PolicyOperator {

  private final KubernetesClient client;
  private final String namespace;

  public PolicyOperator(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  /** Installs the committed CRD, so the mock server serves LockPolicy with a status subresource. */
  public void installCrd() {
    Path crd = Path.of("..", "k8s", "crds", "lockpolicies.locks.fenced.dev-v1.yml");
    try (InputStream in = Files.newInputStream(crd)) {
      CustomResourceDefinition definition =
          client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
      client
          .apiextensions()
          .v1()
          .customResourceDefinitions()
          .resource(definition)
          .createOr(c -> c.update());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public void secret(String name, Map<String, String> values) {
    client
        .secrets()
        .inNamespace(namespace)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withStringData(values)
                .build())
        .createOr(c -> c.update());
  }

  /** Creates a policy from YAML; it is not Ready until {@link #markReady}. */
  public LockPolicy create(String yaml) {
    LockPolicy policy = client.getKubernetesSerialization().unmarshal(yaml, LockPolicy.class);
    policy.getMetadata().setNamespace(namespace);
    return client.resource(policy).create();
  }

  public LockPolicy get(String name) {
    return client.resources(LockPolicy.class).inNamespace(namespace).withName(name).get();
  }

  /** Changes the spec; the API server raises the generation, the status stays as it was. */
  public LockPolicy editSpec(String name, Consumer<LockPolicy> change) {
    LockPolicy policy = get(name);
    change.accept(policy);
    return client.resource(policy).update();
  }

  /** Ready for the current generation, with {@code epoch}. */
  public LockPolicy markReady(String name, long epoch) {
    LockPolicy policy = get(name);
    long generation = policy.getMetadata().getGeneration();
    LockPolicyStatus status = new LockPolicyStatus();
    status.setObservedGeneration(generation);
    status.setEpoch(epoch);
    status.setConditions(
        List.of(
            new ConditionBuilder()
                .withType(PolicyConditions.READY)
                .withStatus(PolicyConditions.TRUE)
                .withReason("Provisioned")
                .withObservedGeneration(generation)
                .withLastTransitionTime(Instant.now().toString())
                .build()));
    policy.setStatus(status);
    return client.resource(policy).updateStatus();
  }
}
