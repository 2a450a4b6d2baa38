package dev.fenced.lock.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fenced.lock.policy.v1alpha1.BackendType;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The example LockPolicies under k8s/examples read cleanly, validate, cover every backend, and
 * replace the Helm chart's default policies instead of tying with them.
 */
class ExamplePoliciesTest {

  private static final Path EXAMPLES = Path.of("..", "k8s", "examples");

  @Test
  void everyExampleParsesAndValidates() throws IOException {
    List<Path> files;
    try (Stream<Path> list = Files.list(EXAMPLES)) {
      files = list.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(files).isNotEmpty();
    Set<BackendType> covered = EnumSet.noneOf(BackendType.class);
    List<String> failures = new ArrayList<>();
    for (Path file : files) {
      LockPolicyYaml.Result result = LockPolicyYaml.read(file.toString(), Files.readString(file));
      result.problems().forEach(p -> failures.add(p.toString()));
      // The chart's defaults, same names and patterns: applying the file moves both families.
      assertThat(result.policies())
          .as(file.toString())
          .extracting(p -> p.getMetadata().getName() + " " + p.getSpec().getLockNames())
          .containsExactly("vote-counters [vote:*]", "tally-owners [tally:*]");
      for (LockPolicy policy : result.policies()) {
        LockPolicyValidator.validate(policy).forEach(v -> failures.add(file + ": " + v));
        assertThat(policy.getMetadata().getNamespace()).isEqualTo("voting");
        assertThat(LockPolicyValidator.toSettings(policy)).isNotNull();
        covered.add(policy.getSpec().getBackend().getType());
      }
    }
    assertThat(failures).isEmpty();
    assertThat(covered).containsExactlyInAnyOrder(BackendType.values());
  }

  @Test
  void theWholeFolderLoadsAsAPolicySourceWouldReadIt() {
    // All examples share their two names on purpose (applying another switches backend), so the
    // directory source accepts the first file's pair and reports the rest as duplicates.
    try (DirectoryPolicySource source = new DirectoryPolicySource(EXAMPLES)) {
      assertThat(source.policies()).hasSize(2);
      assertThat(source.problems())
          .isNotEmpty()
          .allSatisfy(p -> assertThat(p.message()).contains("is already defined in"));
    }
  }
}
