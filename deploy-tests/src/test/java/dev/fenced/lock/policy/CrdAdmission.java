package dev.fenced.lock.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.extensions.CelExtensions;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What the API server does with a LockPolicy's spec, without an API server: the CRD's structural
 * schema (defaults first, then types, required fields, enums, patterns, sizes and ranges) and every
 * {@code x-kubernetes-validations} rule evaluated by Google's CEL implementation (cel-java), with
 * the standard macros and the strings extension the API server offers. Each refusal is reported as
 * the API server reports it: the field ({@code fieldPath} when the rule names one) and the message.
 */
final class CrdAdmission {

  /** One refusal: {@code field} as the API server names it, and why. */
  record Refusal(String field, String message) {}

  /** One CEL rule of the CRD, where it sits, and what it has answered so far. */
  static final class Rule {
    final String path;
    final String expression;
    final String message;
    final String fieldPath;
    final CelRuntime.Program program;
    int admitted;
    int refused;

    Rule(String path, String expression, String message, String fieldPath, CelRuntime.Program p) {
      this.path = path;
      this.expression = expression;
      this.message = message;
      this.fieldPath = fieldPath;
      this.program = p;
    }

    @Override
    public String toString() {
      return path + ": " + expression;
    }
  }

  private static final CelCompiler COMPILER =
      CelCompilerFactory.standardCelCompilerBuilder()
          .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .addLibraries(CelExtensions.strings())
          .addVar("self", SimpleType.DYN)
          .build();
  private static final CelRuntime RUNTIME =
      CelRuntimeFactory.standardCelRuntimeBuilder().addLibraries(CelExtensions.strings()).build();

  private final JsonNode rootSchema;
  private final JsonNode specSchema;
  private final Map<String, Rule> rules = new LinkedHashMap<>();

  /** From the CRD's {@code openAPIV3Schema}; every rule is compiled here, or this fails. */
  CrdAdmission(JsonNode crd) {
    JsonNode version = crd.path("spec").path("versions").get(0);
    this.rootSchema = version.path("schema").path("openAPIV3Schema");
    this.specSchema = rootSchema.path("properties").path("spec");
    compile(specSchema, "spec");
  }

  /** Every rule of the CRD, with the number of times it admitted and refused. */
  List<Rule> rules() {
    return List.copyOf(rules.values());
  }

  /** Applies the schema's defaults to {@code spec} in place, as the API server does on create. */
  void applyDefaults(JsonNode spec) {
    defaults(specSchema, spec);
  }

  /** The refusals of a (defaulted) object; empty when the API server would store it. */
  List<Refusal> admit(JsonNode object) {
    List<Refusal> out = new ArrayList<>();
    JsonNode spec = object.get("spec");
    if (spec == null || spec.isNull()) {
      for (JsonNode r : rootSchema.path("required")) {
        if (r.asText().equals("spec")) {
          out.add(new Refusal("spec", "Required value"));
        }
      }
      return out;
    }
    validate(specSchema, spec, "spec", out);
    return out;
  }

  private void compile(JsonNode schema, String path) {
    for (JsonNode v : schema.path("x-kubernetes-validations")) {
      String expression = v.path("rule").asText();
      try {
        CelAbstractSyntaxTree ast = COMPILER.compile(expression).getAst();
        rules.put(
            path + " " + expression,
            new Rule(
                path,
                expression,
                v.path("message").asText(),
                v.path("fieldPath").asText(""),
                RUNTIME.createProgram(ast)));
      } catch (CelValidationException | CelEvaluationException e) {
        throw new IllegalStateException("CEL rule at " + path + " does not compile: " + e, e);
      }
    }
    schema
        .path("properties")
        .fields()
        .forEachRemaining(f -> compile(f.getValue(), path + "." + f.getKey()));
    if (schema.has("items")) {
      compile(schema.path("items"), path + "[]");
    }
  }

  private static void defaults(JsonNode schema, JsonNode value) {
    if (value instanceof ObjectNode object) {
      schema
          .path("properties")
          .fields()
          .forEachRemaining(
              f -> {
                JsonNode child = object.get(f.getKey());
                if ((child == null || child.isNull()) && f.getValue().has("default")) {
                  object.set(f.getKey(), f.getValue().get("default").deepCopy());
                } else if (child != null) {
                  defaults(f.getValue(), child);
                }
              });
    } else if (value != null && value.isArray()) {
      value.forEach(e -> defaults(schema.path("items"), e));
    }
  }

  private void validate(JsonNode schema, JsonNode value, String path, List<Refusal> out) {
    String type = schema.path("type").asText();
    boolean typeOk =
        switch (type) {
          case "object" -> value.isObject();
          case "array" -> value.isArray();
          case "string" -> value.isTextual();
          case "integer" -> value.isIntegralNumber();
          case "number" -> value.isNumber();
          case "boolean" -> value.isBoolean();
          default -> true;
        };
    if (!typeOk) {
      out.add(new Refusal(path, "Invalid value: must be of type " + type));
      return;
    }
    if (schema.has("enum")) {
      boolean found = false;
      for (JsonNode e : schema.path("enum")) {
        found |= e.equals(value);
      }
      if (!found) {
        out.add(new Refusal(path, "Unsupported value: " + value));
      }
    }
    if (value.isTextual()) {
      String s = value.asText();
      if (schema.has("pattern")
          && !Pattern.compile(schema.path("pattern").asText()).matcher(s).find()) {
        out.add(
            new Refusal(
                path, "Invalid value: should match '" + schema.path("pattern").asText() + "'"));
      }
      if (schema.has("maxLength")
          && s.codePointCount(0, s.length()) > schema.path("maxLength").asInt()) {
        out.add(new Refusal(path, "Too long: may not be longer than " + schema.path("maxLength")));
      }
      if (schema.has("minLength")
          && s.codePointCount(0, s.length()) < schema.path("minLength").asInt()) {
        out.add(
            new Refusal(
                path,
                "Invalid value: should be at least " + schema.path("minLength") + " chars long"));
      }
    }
    if (value.isNumber()) {
      if (schema.has("minimum") && value.asDouble() < schema.path("minimum").asDouble()) {
        out.add(
            new Refusal(
                path,
                "Invalid value: should be greater than or equal to " + schema.path("minimum")));
      }
      if (schema.has("maximum") && value.asDouble() > schema.path("maximum").asDouble()) {
        out.add(
            new Refusal(
                path, "Invalid value: should be less than or equal to " + schema.path("maximum")));
      }
    }
    if (value.isArray()) {
      if (schema.has("minItems") && value.size() < schema.path("minItems").asInt()) {
        out.add(
            new Refusal(
                path, "Invalid value: should have at least " + schema.path("minItems") + " items"));
      }
      if (schema.has("maxItems") && value.size() > schema.path("maxItems").asInt()) {
        out.add(
            new Refusal(path, "Too many: must have at most " + schema.path("maxItems") + " items"));
      }
      for (int i = 0; i < value.size(); i++) {
        validate(schema.path("items"), value.get(i), path + "[" + i + "]", out);
      }
    }
    if (value.isObject()) {
      for (JsonNode r : schema.path("required")) {
        JsonNode child = value.get(r.asText());
        if (child == null || child.isNull()) {
          out.add(new Refusal(path + "." + r.asText(), "Required value"));
        }
      }
      Iterator<Map.Entry<String, JsonNode>> fields = schema.path("properties").fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> f = fields.next();
        JsonNode child = value.get(f.getKey());
        if (child != null && !child.isNull()) {
          validate(f.getValue(), child, path + "." + f.getKey(), out);
        }
      }
    }
    // The API server runs a node's CEL rules only when its schema checks passed.
    if (!out.isEmpty() && out.stream().anyMatch(r -> r.field().startsWith(path))) {
      return;
    }
    String schemaPath = path.replaceAll("\\[\\d+]", "[]");
    for (JsonNode v : schema.path("x-kubernetes-validations")) {
      Rule rule = rules.get(schemaPath + " " + v.path("rule").asText());
      Object result;
      try {
        result = rule.program.eval(Map.of("self", toCel(value)));
      } catch (CelEvaluationException e) {
        out.add(new Refusal(path, "rule could not be evaluated: " + e.getMessage()));
        continue;
      }
      if (Boolean.TRUE.equals(result)) {
        rule.admitted++;
      } else {
        rule.refused++;
        out.add(new Refusal(path + rule.fieldPath, "Invalid value: " + rule.message));
      }
    }
  }

  /** JSON as CEL values: maps, lists, strings, int64, double, bool. */
  private static Object toCel(JsonNode n) {
    if (n.isObject()) {
      Map<String, Object> m = new LinkedHashMap<>();
      n.fields().forEachRemaining(f -> m.put(f.getKey(), toCel(f.getValue())));
      return m;
    }
    if (n.isArray()) {
      List<Object> l = new ArrayList<>();
      n.forEach(e -> l.add(toCel(e)));
      return l;
    }
    if (n.isIntegralNumber()) {
      return n.asLong();
    }
    if (n.isNumber()) {
      return n.asDouble();
    }
    if (n.isBoolean()) {
      return n.asBoolean();
    }
    return n.asText();
  }
}
