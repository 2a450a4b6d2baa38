package dev.fenced.lock.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.fenced.lock.policy.v1alpha1.Fencing;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The API server and the operator refuse the same LockPolicies. The mock API server of the
 * operator's tests checks no schema, so here the CRD that the chart installs (k8s/crds/) judges the
 * very policies LockPolicyValidatorTest gives the validator: defaults applied, the structural
 * schema checked, every x-kubernetes-validations rule evaluated by cel-java. The validator then
 * judges the same defaulted object, as the operator sees it after the API server stored it.
 *
 * <p>What the validator refuses and the schema cannot express is listed in {@link #OPERATOR_ONLY}:
 * the API server stores those policies and the operator marks them {@code Ready=False,
 * InvalidSpec}. The list is exact: a rule that starts or stops refusing something fails the test.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CrdRulesAgreeWithValidatorTest {

  private static final Path CRD =
      Path.of(System.getProperty("fenced.root", ".."))
          .resolve("k8s/crds/lockpolicies.locks.fenced.dev-v1.yml");

  /**
   * Validator rules (LockPolicyValidatorTest names) that only the operator enforces: both need to
   * scan each lock-name pattern, and the API server's cost estimate of such a scan is unbounded
   * while the patterns have no maxLength (which the model cannot give list items).
   */
  static final Set<String> OPERATOR_ONLY =
      Set.of("no blank pattern", "no control characters in patterns");

  private static CrdAdmission admission;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> table = new ArrayList<>();

  @BeforeAll
  static void load() throws IOException {
    admission = new CrdAdmission(new YAMLMapper().readTree(CRD.toFile()));
  }

  @AfterAll
  static void print() {
    System.out.println("validator rule | API server | operator\n" + String.join("\n", table));
  }

  /** The object as the API server stores it: the request's namespace, the schema's defaults. */
  private static ObjectNode stored(LockPolicy policy) throws IOException {
    ObjectNode tree = (ObjectNode) JSON.readTree(Serialization.asJson(policy));
    ObjectNode metadata = tree.with("metadata");
    if (!metadata.hasNonNull("namespace")) {
      metadata.put("namespace", "voting");
    }
    if (tree.hasNonNull("spec")) {
      admission.applyDefaults(tree.get("spec"));
    }
    return tree;
  }

  /** The API server's refusals: metadata.name (its own rule), then the CRD's schema and rules. */
  private static List<CrdAdmission.Refusal> apiServer(ObjectNode stored) {
    List<CrdAdmission.Refusal> out = new ArrayList<>();
    if (!stored.path("metadata").hasNonNull("name")) {
      out.add(new CrdAdmission.Refusal("metadata.name", "Required value: name is required"));
    }
    out.addAll(admission.admit(stored));
    return out;
  }

  private static List<Violation> operator(ObjectNode stored) {
    return LockPolicyValidator.validate(
        Serialization.unmarshal(stored.toString(), LockPolicy.class));
  }

  static Stream<Arguments> validPolicies() {
    LockPolicy none = Policies.read(Policies.yaml("race", "None", "", "vote:*"));
    none.getSpec().setFencing(Fencing.Optional);
    LockPolicy jdbc = LockPolicyValidatorTest.postgres();
    var pg = jdbc.getSpec().getBackend().getPostgres();
    pg.setHost(null);
    pg.setPort(null);
    pg.setDatabase(null);
    pg.setJdbcUrl("jdbc:postgresql://127.0.0.1:15432/fenced");
    return Stream.of(
            LockPolicyValidatorTest.redis(),
            LockPolicyValidatorTest.postgres(),
            jdbc,
            LockPolicyValidatorTest.etcd(),
            LockPolicyValidatorTest.zookeeper(),
            LockPolicyValidatorTest.lease(),
            LockPolicyValidatorTest.inProcess(),
            none)
        .map(p -> Arguments.of(p.getSpec().getBackend().getType(), p));
  }

  @Order(1)
  @ParameterizedTest(name = "{0}")
  @MethodSource("validPolicies")
  void bothAdmitEveryValidShape(Object type, LockPolicy policy) throws IOException {
    ObjectNode stored = stored(policy);
    assertThat(apiServer(stored)).isEmpty();
    assertThat(operator(stored)).isEmpty();
  }

  static Stream<Arguments> invalidExamples() {
    return Stream.concat(
        LockPolicyValidatorTest.invalidExamples(),
        // The operator's InvalidSpecIT also sends a zero renewInterval (the validator test sends a
        // negative one, which the schema's pattern already refuses before any rule runs).
        Stream.of(
            Arguments.of(
                "renew interval is not zero",
                (Supplier<LockPolicy>) LockPolicyValidatorTest::redis,
                (Consumer<LockPolicy>) p -> p.getSpec().setRenewInterval("0s"),
                "spec.renewInterval",
                "must be positive, was 0s")));
  }

  @Order(2)
  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidExamples")
  void bothRefuseWhatTheValidatorRefuses(
      String rule,
      Supplier<LockPolicy> base,
      Consumer<LockPolicy> breakIt,
      String field,
      String message)
      throws IOException {
    LockPolicy policy = base.get();
    breakIt.accept(policy);
    ObjectNode stored = stored(policy);
    List<CrdAdmission.Refusal> api = apiServer(stored);
    List<Violation> op = operator(stored);
    table.add(rule + " | " + (api.isEmpty() ? "stored" : api) + " | " + op);

    if (op.isEmpty()) {
      // The API server's defaults made it valid (a missing fencing becomes Required, a missing
      // namespace the request's): nothing for either to refuse.
      assertThat(api).as(rule).isEmpty();
      return;
    }
    assertThat(op).as(rule).extracting(Violation::field).contains(field);
    if (OPERATOR_ONLY.contains(rule)) {
      assertThat(api).as("%s: the CRD admits it, only the operator refuses", rule).isEmpty();
      return;
    }
    assertThat(api).as("%s: the API server refuses it too", rule).isNotEmpty();
    // And names the same field, or the object the rule sits on (spec.backend for "one block").
    assertThat(api)
        .as(rule)
        .anySatisfy(
            r ->
                assertThat(
                        field.equals(r.field())
                            || field.startsWith(r.field() + ".")
                            || field.startsWith(r.field() + "[")
                            || r.field().startsWith(field))
                    .as("%s names %s", r, field)
                    .isTrue());
  }

  @Order(3)
  @Test
  void theExamplesAndThePlainInstallsPoliciesAreAdmitted() throws IOException {
    Path root = CRD.getParent().getParent();
    List<Path> files = new ArrayList<>();
    try (Stream<Path> examples = java.nio.file.Files.list(root.resolve("examples"))) {
      examples.filter(f -> f.toString().endsWith(".yaml")).sorted().forEach(files::add);
    }
    files.add(root.resolve("rendered/fenced.yaml"));
    int policies = 0;
    for (Path file : files) {
      for (String doc : java.nio.file.Files.readString(file).split("(?m)^---\\s*$")) {
        if (!doc.contains("kind: LockPolicy")) {
          continue;
        }
        ObjectNode stored = stored(Serialization.unmarshal(doc, LockPolicy.class));
        assertThat(apiServer(stored)).as("%s: %s", file, doc).isEmpty();
        assertThat(operator(stored)).as("%s: %s", file, doc).isEmpty();
        policies++;
      }
    }
    assertThat(policies).isEqualTo(7 * 2 + 2);
  }

  @Order(4)
  @Test
  void everyCelRuleOfTheCrdAdmittedAndRefusedSomething() {
    assertThat(admission.rules()).hasSizeGreaterThanOrEqualTo(6);
    assertThat(admission.rules())
        .allSatisfy(
            r -> {
              assertThat(r.admitted).as("%s admitted something", r).isPositive();
              assertThat(r.refused).as("%s refused something", r).isPositive();
            });
  }
}
