package dev.fenced.operator;

import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRule;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRuleBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Before the operator starts, makes the mock API server answer a {@code SelfSubjectRulesReview}
 * (which JOSDK sends before it joins a leader election, and refuses to start without create, update
 * and get on leases) with the rules of the Role the build renders into {@code
 * k8s/operator/lock-operator.yml}, as a real API server would for the operator's ServiceAccount.
 * The mock server does not evaluate RBAC by itself, so this is what shows the shipped Role lets the
 * operator elect a leader.
 */
public class OperatorRoleRules implements Consumer<KubernetesServer> {

  @Override
  public void accept(KubernetesServer server) {
    server
        .expect()
        .post()
        .withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReturn(201, review())
        .always();
  }

  static SelfSubjectRulesReview review() {
    return new SelfSubjectRulesReviewBuilder()
        .withNewStatus()
        .withIncomplete(false)
        .withResourceRules(rules())
        .endStatus()
        .build();
  }

  /**
   * The rules of the Role in the committed operator manifests (drift-checked against the build).
   */
  static List<ResourceRule> rules() {
    try {
      String manifests =
          Files.readString(Servers.repoRoot().resolve("k8s/operator/lock-operator.yml"));
      Role role =
          Arrays.stream(manifests.split("(?m)^---\\s*$"))
              .filter(doc -> doc.contains("kind: Role\n"))
              .map(doc -> Serialization.unmarshal(doc, Role.class))
              .findFirst()
              .orElseThrow(() -> new IllegalStateException("no Role in lock-operator.yml"));
      return role.getRules().stream()
          .map(
              r ->
                  new ResourceRuleBuilder()
                      .withApiGroups(r.getApiGroups())
                      .withResources(r.getResources())
                      .withResourceNames(r.getResourceNames())
                      .withVerbs(r.getVerbs())
                      .build())
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
