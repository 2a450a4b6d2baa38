package dev.fenced.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each check finds what it is there to find: the default render passes it, and the same render with
 * one object spoiled fails it with a problem naming the object and the field.
 */
class ManifestChecksTest {

  private static List<Manifest> rendered;

  @BeforeAll
  static void render() {
    rendered = ChartProfilesTest.render(null);
  }

  /** The default render with one object, the first of that kind and name, changed. */
  private static List<Manifest> spoil(String id, Consumer<ObjectNode> change) {
    List<Manifest> out = new ArrayList<>();
    boolean found = false;
    for (Manifest m : rendered) {
      if (!found && m.id().equals(id)) {
        ObjectNode tree = m.tree().deepCopy();
        change.accept(tree);
        out.add(ManifestChecks.withTree(m, tree));
        found = true;
      } else {
        out.add(m);
      }
    }
    assertThat(found).as("%s is rendered", id).isTrue();
    return out;
  }

  private static Manifest find(List<Manifest> manifests, String id) {
    return manifests.stream().filter(m -> m.id().equals(id)).findFirst().orElseThrow();
  }

  private static ObjectNode container(ObjectNode deployment) {
    return (ObjectNode)
        deployment.path("spec").path("template").path("spec").path("containers").get(0);
  }

  // typed model

  @Test
  void typedModelFindsAnUnknownField() {
    Manifest ok = find(rendered, "Deployment/fenced-vote-api");
    assertThat(ManifestChecks.typedModel(ok)).isEmpty();

    List<Manifest> bad =
        spoil("Deployment/fenced-vote-api", d -> container(d).putObject("readinesProbe"));
    assertThat(ManifestChecks.typedModel(find(bad, "Deployment/fenced-vote-api")))
        .singleElement()
        .asString()
        .contains("spec.template.spec.containers[0]")
        .contains("unknown field(s) [readinesProbe]");
  }

  @Test
  void typedModelFindsAnUnknownFieldAtTheTop() {
    List<Manifest> bad = spoil("Service/fenced-vote-api", s -> s.put("sepc", "x"));
    assertThat(ManifestChecks.typedModel(find(bad, "Service/fenced-vote-api")))
        .anySatisfy(p -> assertThat(p).contains("unknown field(s) [sepc]"));
  }

  @Test
  void typedModelFindsAValueOfTheWrongType() {
    List<Manifest> bad =
        spoil(
            "StatefulSet/fenced-redis", s -> ((ObjectNode) s.path("spec")).put("replicas", "one"));
    assertThat(ManifestChecks.typedModel(find(bad, "StatefulSet/fenced-redis")))
        .singleElement()
        .asString()
        .contains("does not read into the Kubernetes model");
  }

  @Test
  void typedModelFindsAnUnknownKind() {
    List<Manifest> bad = spoil("Service/fenced-vote-api", s -> s.put("kind", "Servise"));
    assertThat(ManifestChecks.typedModel(find(bad, "Servise/fenced-vote-api")))
        .singleElement()
        .asString()
        .contains("unknown to the typed model");
  }

  @Test
  void lockPoliciesGoThroughTheStrictReaderAndTheValidator() {
    Manifest ok = find(rendered, "LockPolicy/vote-counters");
    assertThat(ManifestChecks.typedModel(ok)).isEmpty();

    List<Manifest> unknownField =
        spoil(
            "LockPolicy/vote-counters",
            p -> ((ObjectNode) p.path("spec").path("backend").path("redis")).put("password", "x"));
    assertThat(ManifestChecks.typedModel(find(unknownField, "LockPolicy/vote-counters")))
        .singleElement()
        .asString()
        .contains("password");

    List<Manifest> invalid =
        spoil(
            "LockPolicy/vote-counters",
            p -> ((ObjectNode) p.path("spec")).put("renewInterval", "30s"));
    assertThat(ManifestChecks.typedModel(find(invalid, "LockPolicy/vote-counters")))
        .singleElement()
        .asString()
        .contains("renewInterval");
  }

  // secrets

  @Test
  void plainTextSecretsPassOnTheRender() {
    assertThat(ManifestChecks.plainTextSecrets(rendered)).isEmpty();
  }

  @Test
  void plainTextSecretsFindALiteralPasswordInAnEnvVar() {
    List<Manifest> bad =
        spoil(
            "Deployment/fenced-tally-worker",
            d -> {
              ArrayNode env = (ArrayNode) container(d).path("env");
              for (int i = 0; i < env.size(); i++) {
                if (env.get(i).path("name").asText().equals("FENCED_PG_PASSWORD")) {
                  ObjectNode literal =
                      env.objectNode().put("name", "FENCED_PG_PASSWORD").put("value", "fenced");
                  env.set(i, literal);
                }
              }
            });
    assertThat(ManifestChecks.plainTextSecrets(bad))
        .singleElement()
        .asString()
        .contains("Deployment/fenced-tally-worker")
        .contains("FENCED_PG_PASSWORD has a literal value");
  }

  @Test
  void plainTextSecretsFindASecretValueCopiedElsewhere() {
    Manifest secret = find(rendered, "Secret/fenced-postgresql");
    String password =
        new String(
            Base64.getDecoder().decode(secret.tree().path("data").path("password").asText()));
    List<Manifest> bad =
        spoil(
            "ConfigMap/fenced-test",
            c -> ((ObjectNode) c.path("data")).put("extra.txt", "connect with " + password));
    assertThat(ManifestChecks.plainTextSecrets(bad))
        .singleElement()
        .asString()
        .isEqualTo("ConfigMap/fenced-test: holds the value of a Secret");
  }

  @Test
  void plainTextSecretsFindStringDataAPasswordAssignmentAndAUrlWithAPassword() {
    List<Manifest> stringData =
        spoil("Secret/fenced-redis", s -> s.putObject("stringData").put("password", "hunter2"));
    assertThat(ManifestChecks.plainTextSecrets(stringData))
        .anySatisfy(p -> assertThat(p).contains("stringData"));

    List<Manifest> assignment =
        spoil(
            "ConfigMap/fenced-test",
            c ->
                ((ObjectNode) c.path("data")).put("application.properties", "db.password=hunter2"));
    assertThat(ManifestChecks.plainTextSecrets(assignment))
        .singleElement()
        .asString()
        .contains("application.properties assigns a credential");

    List<Manifest> url =
        spoil(
            "LockPolicy/vote-counters",
            p ->
                ((ObjectNode) p.path("spec").path("backend").path("redis"))
                    .put("url", "redis://:hunter2@fenced-redis:6379"));
    assertThat(ManifestChecks.plainTextSecrets(url))
        .singleElement()
        .asString()
        .contains("a URL carries a password");
  }

  // security contexts

  @Test
  void securityContextsPassOnTheRender() {
    assertThat(ManifestChecks.securityContexts(rendered)).isEmpty();
  }

  @Test
  void securityContextsFindAMissingOrWeakContext() {
    List<Manifest> missing =
        spoil("StatefulSet/fenced-postgresql", s -> container(s).remove("securityContext"));
    assertThat(ManifestChecks.securityContexts(missing))
        .containsExactly(
            "StatefulSet/fenced-postgresql: container postgresql has no securityContext");

    List<Manifest> writable =
        spoil(
            "Deployment/fenced-lock-operator",
            d -> {
              ObjectNode sc = (ObjectNode) container(d).path("securityContext");
              sc.put("readOnlyRootFilesystem", false);
              sc.put("allowPrivilegeEscalation", true);
              ((ObjectNode) sc.path("capabilities")).putArray("drop").add("NET_RAW");
            });
    assertThat(ManifestChecks.securityContexts(writable))
        .containsExactly(
            "Deployment/fenced-lock-operator: container lock-operator: readOnlyRootFilesystem is not true",
            "Deployment/fenced-lock-operator: container lock-operator: allowPrivilegeEscalation is not false",
            "Deployment/fenced-lock-operator: container lock-operator: capabilities.drop does not hold ALL");

    List<Manifest> root =
        spoil(
            "Pod/fenced-test",
            p -> {
              ObjectNode c = (ObjectNode) p.path("spec").path("containers").get(0);
              ((ObjectNode) c.path("securityContext"))
                  .put("runAsNonRoot", false)
                  .put("runAsUser", 0);
            });
    assertThat(ManifestChecks.securityContexts(root))
        .containsExactly(
            "Pod/fenced-test: container vote-test: runAsNonRoot is not true",
            "Pod/fenced-test: container vote-test: runAsUser is 0");
  }

  // network policies

  @Test
  void networkPoliciesPassOnTheRender() {
    assertThat(ManifestChecks.networkPolicies(rendered)).isEmpty();
  }

  @Test
  void networkPoliciesFindTheirAbsence() {
    List<Manifest> none = rendered.stream().filter(m -> !m.kind().equals("NetworkPolicy")).toList();
    assertThat(ManifestChecks.networkPolicies(none))
        .containsExactly("no NetworkPolicy is rendered");
  }

  @Test
  void networkPoliciesFindAPodNoPolicySelects() {
    // Without the release-wide default deny, a pod whose own policy is gone is open.
    List<Manifest> open =
        rendered.stream()
            .filter(
                m ->
                    !m.id().equals("NetworkPolicy/fenced-default-deny")
                        && !m.id().equals("NetworkPolicy/fenced-tally-worker"))
            .toList();
    assertThat(ManifestChecks.networkPolicies(open))
        .containsExactly(
            "Deployment/fenced-tally-worker: no NetworkPolicy restricts the ingress of its pods",
            "Deployment/fenced-tally-worker: no NetworkPolicy restricts the egress of its pods");
  }

  // cross references

  @Test
  void crossReferencesPassOnTheRenderAndFindBrokenOnes() {
    assertThat(ManifestChecks.crossReferences(rendered)).isEmpty();

    List<Manifest> bad =
        spoil(
            "Ingress/fenced-vote-api",
            i ->
                ((ObjectNode) i.path("metadata").path("annotations"))
                    .put(
                        "nginx.ingress.kubernetes.io/proxy-next-upstream",
                        "error timeout non_idempotent"));
    assertThat(ManifestChecks.crossReferences(bad))
        .containsExactly(
            "Ingress/fenced-vote-api: nginx may replay a POST on another replica (proxy-next-upstream not off)");

    List<Manifest> selector =
        spoil(
            "Service/fenced-vote-api",
            s ->
                ((ObjectNode) s.path("spec").path("selector"))
                    .put("app.kubernetes.io/component", "vote-ap"));
    assertThat(ManifestChecks.crossReferences(selector))
        .containsExactly("Service/fenced-vote-api: its selector matches no rendered pod");
  }

  // secret access

  @Test
  void secretAccessFindsAnUnnamedRuleADisagreementAndAnUnreadableReference() {
    assertThat(ManifestChecks.secretAccess(rendered)).isEmpty();

    List<Manifest> unnamed =
        spoil(
            "Role/fenced-lock-operator",
            r -> ((ObjectNode) r.path("rules").get(3)).remove("resourceNames"));
    assertThat(ManifestChecks.secretAccess(unnamed))
        .containsExactly(
            "Role/fenced-lock-operator: reads every Secret; list them by name (resourceNames)");

    List<Manifest> wider =
        spoil(
            "Role/fenced-lock-operator",
            r -> ((ArrayNode) r.path("rules").get(3).path("resourceNames")).add("postgres-admin"));
    assertThat(ManifestChecks.secretAccess(wider))
        .singleElement()
        .asString()
        .contains("the operator may read Secrets [fenced-postgresql, fenced-redis, postgres-admin]")
        .contains("a policy could be Ready with credentials the services are refused");

    List<Manifest> elsewhere =
        spoil(
            "LockPolicy/vote-counters",
            p ->
                ((ObjectNode)
                        p.path("spec").path("backend").path("redis").path("passwordSecretRef"))
                    .put("name", "team-redis"));
    assertThat(ManifestChecks.secretAccess(elsewhere))
        .containsExactly(
            "LockPolicy/vote-counters: references Secret team-redis, which the services may not"
                + " read");
  }

  // monitoring

  @Test
  void monitoringFindsAServiceMonitorThatMissesAServiceOrAPort() {
    List<Manifest> forced =
        ChartProfilesTest.render(Helm.CHART.resolve("ci/monitoring-values.yaml"));
    assertThat(ManifestChecks.monitoring(forced)).isEmpty();

    List<Manifest> narrow = new ArrayList<>();
    for (Manifest m : forced) {
      if (m.id().equals("ServiceMonitor/fenced")) {
        ObjectNode tree = m.tree().deepCopy();
        ArrayNode values =
            (ArrayNode)
                tree.path("spec").path("selector").path("matchExpressions").get(0).path("values");
        values.removeAll().add("vote-api");
        ((ObjectNode) tree.path("spec").path("endpoints").get(0)).put("port", "metrics");
        narrow.add(ManifestChecks.withTree(m, tree));
      } else {
        narrow.add(m);
      }
    }
    assertThat(ManifestChecks.monitoring(narrow))
        .containsExactlyInAnyOrder(
            "ServiceMonitor/fenced: scrapes port \"metrics\" that Service/fenced-vote-api lacks",
            "ServiceMonitor/fenced: selects the Services of [vote-api], not [lock-operator,"
                + " tally-worker, vote-api]");
  }
}
