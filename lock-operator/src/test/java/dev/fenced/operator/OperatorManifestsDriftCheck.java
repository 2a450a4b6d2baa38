package dev.fenced.operator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fails when the committed operator manifests (k8s/operator/lock-operator.yml) differ from what the
 * build renders (target/kubernetes/kubernetes.yml). Runs in the {@code verify} phase, after {@code
 * quarkus:build} has rendered them; to accept a change, copy the rendered file over the committed
 * one. Documents are compared as data: the renderer orders labels differently from run to run. The
 * annotations that name the source commit are left out of the comparison: they change with every
 * commit (and are absent outside a git checkout), not with the manifests.
 */
class OperatorManifestsDriftCheck {

  private static final List<String> VCS_ANNOTATIONS =
      List.of("app.quarkus.io/commit-id", "app.quarkus.io/vcs-uri", "app.quarkus.io/vcs-url");

  @Test
  void committedManifestsMatchTheBuild() throws Exception {
    Path rendered = Path.of("target/kubernetes/kubernetes.yml");
    Path committed = Servers.repoRoot().resolve("k8s/operator/lock-operator.yml");
    assertThat(rendered).as("rendered by quarkus:build in the package phase").exists();
    assertThat(documents(committed))
        .as(
            "k8s/operator/lock-operator.yml is out of date; run"
                + " `cp lock-operator/target/kubernetes/kubernetes.yml"
                + " k8s/operator/lock-operator.yml` after `mvn -pl lock-operator package`")
        .isEqualTo(documents(rendered));
  }

  private static List<JsonNode> documents(Path file) throws Exception {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    try (var parser = yaml.getFactory().createParser(Files.readString(file))) {
      List<JsonNode> documents = yaml.readValues(parser, JsonNode.class).readAll();
      documents.forEach(OperatorManifestsDriftCheck::dropCommitAnnotations);
      return documents;
    }
  }

  private static void dropCommitAnnotations(JsonNode node) {
    if (node instanceof ObjectNode object) {
      if (object.get("annotations") instanceof ObjectNode annotations) {
        VCS_ANNOTATIONS.forEach(annotations::remove);
        if (annotations.isEmpty()) {
          object.remove("annotations");
        }
      }
      object.elements().forEachRemaining(OperatorManifestsDriftCheck::dropCommitAnnotations);
    } else if (node != null && node.isArray()) {
      node.elements().forEachRemaining(OperatorManifestsDriftCheck::dropCommitAnnotations);
    }
  }
}
