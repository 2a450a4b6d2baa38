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
