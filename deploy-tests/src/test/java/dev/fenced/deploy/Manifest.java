package dev.fenced.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** One rendered object: its YAML text and its JSON tree. */
record Manifest(String source, String yaml, ObjectNode tree) {

  private static final YAMLMapper YAML = new YAMLMapper();

  String kind() {
    return tree.path("kind").asText();
  }

  String name() {
    return tree.path("metadata").path("name").asText();
  }

  String apiVersion() {
    return tree.path("apiVersion").asText();
  }

  /** {@code Kind/name}, how problems and listings name the object. */
  String id() {
    return kind() + "/" + name();
  }

  /**
   * The objects as they reach the cluster. With the CRD in the release the default LockPolicies
   * travel in a ConfigMap (label app.kubernetes.io/component: lockpolicy) that a Job applies: each
   * of them is added as an object of its own, so that every check sees it.
   */
  static List<Manifest> withAppliedPolicies(List<Manifest> manifests) {
    List<Manifest> out = new ArrayList<>(manifests);
    for (Manifest m : manifests) {
      if (m.kind().equals("ConfigMap")
          && m.tree()
              .path("metadata")
              .path("labels")
              .path("app.kubernetes.io/component")
              .asText()
              .equals("lockpolicy")) {
        m.tree()
            .path("data")
            .fields()
            .forEachRemaining(
                f ->
                    parseAll(f.getValue().asText())
                        .forEach(
                            p ->
                                out.add(
                                    new Manifest(
                                        m.id() + " data." + f.getKey(), p.yaml(), p.tree()))));
      }
    }
    return out;
  }

  /** Splits a multi-document YAML stream (helm template's output) into objects. */
  static List<Manifest> parseAll(String yamlStream) {
    List<Manifest> out = new ArrayList<>();
    // The text of each document is kept for LockPolicyYaml, which reads YAML itself.
    String[] texts = yamlStream.split("(?m)^---\\s*$");
    for (String text : texts) {
      try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(text)) {
        while (it.hasNext()) {
          JsonNode node = it.next();
          if (node == null || node.isNull() || node.isMissingNode() || node.isEmpty()) {
            continue;
          }
          if (!(node instanceof ObjectNode object)) {
            throw new IllegalArgumentException("a rendered document is not a mapping: " + text);
          }
          String source =
              text.lines()
                  .filter(l -> l.startsWith("# Source: "))
                  .findFirst()
                  .map(l -> l.substring("# Source: ".length()))
                  .orElse("?");
          out.add(new Manifest(source, text, object));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("rendered YAML does not parse:\n" + text, e);
      }
    }
    return out;
  }
}
