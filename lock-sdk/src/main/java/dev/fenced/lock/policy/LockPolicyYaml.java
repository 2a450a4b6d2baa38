package dev.fenced.lock.policy;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads LockPolicy documents from YAML, the same files {@code kubectl apply -f} takes: several
 * documents per file, other kinds skipped with a log line. Reading is strict: an unknown or
 * duplicated field, a value of the wrong type or an unknown enum value is a problem naming the
 * field and the line. Binding only; {@link LockPolicyValidator} judges the values.
 */
public final class LockPolicyYaml {

  private static final Logger LOG = LoggerFactory.getLogger(LockPolicyYaml.class);

  private static final YAMLMapper MAPPER =
      YAMLMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .build();

  private static final ObjectReader POLICY_READER = MAPPER.readerFor(LockPolicy.class);

  /**
   * What a file held.
   *
   * @param policies the LockPolicy documents that bound cleanly, in file order
   * @param problems everything that did not; when not empty, the file as a whole is unusable
   */
  public record Result(List<LockPolicy> policies, List<PolicyProblem> problems) {}

  private LockPolicyYaml() {}

  /**
   * Reads every LockPolicy document in {@code text}.
   *
   * @param source the file name, used in problems and log lines
   */
  public static Result read(String source, String text) {
    List<PolicyProblem> problems = new ArrayList<>();
    List<JsonNode> documents = documents(source, text, problems);
    if (!problems.isEmpty()) {
      return new Result(List.of(), problems);
    }
    boolean[] isPolicy = new boolean[documents.size()];
    for (int i = 0; i < documents.size(); i++) {
      isPolicy[i] = classify(source, i + 1, documents.get(i), problems);
    }
    List<LockPolicy> policies = new ArrayList<>();
    try (JsonParser parser = MAPPER.createParser(text)) {
      int index = 0;
      for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
        if (index < isPolicy.length && isPolicy[index]) {
          bind(source, parser, problems).ifPresent(policies::add);
        } else {
          parser.skipChildren();
        }
        index++;
      }
    } catch (IOException e) {
      problems.add(new PolicyProblem(source, null, null, "cannot be read: " + e.getMessage()));
    }
    return new Result(problems.isEmpty() ? policies : List.of(), problems);
  }

  private static List<JsonNode> documents(
      String source, String text, List<PolicyProblem> problems) {
    List<JsonNode> out = new ArrayList<>();
    try (JsonParser parser = MAPPER.createParser(text)) {
      for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
        out.add(MAPPER.readTree(parser));
      }
    } catch (JsonProcessingException e) {
      problems.add(
          problem(source, e, null, "is not valid YAML: " + firstLine(e.getOriginalMessage())));
    } catch (IOException e) {
      problems.add(new PolicyProblem(source, null, null, "cannot be read: " + e.getMessage()));
    }
    return out;
  }

  /** Whether document {@code n} is a LockPolicy to bind; reports what is not and must be. */
  private static boolean classify(
      String source, int n, JsonNode doc, List<PolicyProblem> problems) {
    if (doc == null || doc.isNull() || doc.isMissingNode()) {
      return false; // an empty document, e.g. after a trailing "---"
    }
    if (!doc.isObject()) {
      problems.add(new PolicyProblem(source, null, null, "document " + n + " is not a mapping"));
      return false;
    }
    String kind = doc.path("kind").asText(null);
    String apiVersion = doc.path("apiVersion").asText(null);
    if (kind == null || kind.isBlank()) {
      problems.add(new PolicyProblem(source, null, "kind", "document " + n + ": must be set"));
      return false;
    }
    if (!kind.equals(LockPolicy.KIND)) {
      LOG.info(
          "{}: document {} is a {} ({}), not a {}; ignored",
          source,
          n,
          kind,
          doc.path("metadata").path("name").asText("unnamed"),
          LockPolicy.KIND);
      return false;
    }
    if (!LockPolicy.API_VERSION.equals(apiVersion)) {
      problems.add(
          new PolicyProblem(
              source,
              null,
              "apiVersion",
              "document " + n + ": must be " + LockPolicy.API_VERSION + ", was " + apiVersion));
      return false;
    }
    return true;
  }

  private static Optional<LockPolicy> bind(
      String source, JsonParser parser, List<PolicyProblem> problems) throws IOException {
    try {
      LockPolicy policy = POLICY_READER.readValue(parser);
      // ObjectMeta keeps unknown keys instead of failing on them; be as strict there as elsewhere.
      if (policy.getMetadata() != null) {
        for (String key : new TreeSet<>(policy.getMetadata().getAdditionalProperties().keySet())) {
          problems.add(new PolicyProblem(source, null, "metadata." + key, "unknown field"));
        }
      }
      return Optional.of(policy);
    } catch (UnrecognizedPropertyException e) {
      problems.add(
          problem(
              source,
              e,
              path(e),
              "unknown field; known fields are " + known(e.getKnownPropertyIds())));
      skipRest(parser);
    } catch (InvalidFormatException e) {
      Class<?> target = e.getTargetType();
      String message =
          target != null && target.isEnum()
              ? "\""
                  + e.getValue()
                  + "\" is not one of "
                  + Arrays.stream(target.getEnumConstants())
                      .map(Object::toString)
                      .collect(Collectors.joining(", "))
              : firstLine(e.getOriginalMessage());
      problems.add(problem(source, e, path(e), message));
      skipRest(parser);
    } catch (JsonMappingException e) {
      problems.add(problem(source, e, path(e), firstLine(e.getOriginalMessage())));
      skipRest(parser);
    }
    return Optional.empty();
  }

  /** After a binding failure, moves the parser to the end of the current document. */
  private static void skipRest(JsonParser parser) throws IOException {
    while (parser.getParsingContext() != null && !parser.getParsingContext().inRoot()) {
      if (parser.nextToken() == null) {
        return;
      }
    }
  }

  private static String path(JsonMappingException e) {
    StringBuilder out = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        if (out.length() > 0) {
          out.append('.');
        }
        out.append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        out.append('[').append(ref.getIndex()).append(']');
      }
    }
    return out.length() == 0 ? null : out.toString();
  }

  private static String known(Collection<Object> ids) {
    return ids == null
        ? "(none)"
        : ids.stream().map(Object::toString).sorted().collect(Collectors.joining(", "));
  }

  private static PolicyProblem problem(
      String source, JsonProcessingException e, String field, String message) {
    JsonLocation location = e.getLocation();
    Integer line = location == null || location.getLineNr() < 1 ? null : location.getLineNr();
    return new PolicyProblem(source, line, field, message);
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unreadable";
    }
    int nl = message.indexOf('\n');
    return (nl < 0 ? message : message.substring(0, nl)).strip();
  }
}
