package dev.fenced.lock.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.policy.v1alpha1.BackendType;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryPolicySourceTest {

  /** Generous: a change must show up, but how fast is not what is tested. */
  private static final Duration PATIENCE = Duration.ofSeconds(20);

  @TempDir Path dir;

  private DirectoryPolicySource source;
  private final List<List<LockPolicy>> changes = new CopyOnWriteArrayList<>();
  private final List<List<PolicyProblem>> reported = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    if (source != null) {
      source.close();
    }
  }

  private void open(Duration rescan) {
    source = new DirectoryPolicySource(dir, Duration.ofMillis(50), rescan);
    source.addListener(
        new PolicySource.Listener() {
          @Override
          public void policiesChanged(List<LockPolicy> policies) {
            changes.add(policies);
          }

          @Override
          public void problemsChanged(List<PolicyProblem> problems) {
            reported.add(problems);
          }
        });
  }

  private void write(String name, String content) throws IOException {
    Files.writeString(dir.resolve(name), content);
  }

  private BackendType backendOf(String name) {
    return source.policies().stream()
        .filter(p -> p.getMetadata().getName().equals(name))
        .findFirst()
        .map(p -> p.getSpec().getBackend().getType())
        .orElse(null);
  }

  private List<String> names() {
    return source.policies().stream().map(p -> p.getMetadata().getName()).toList();
  }

  @Test
  void loadsEveryPolicyFileAtStartAndMarksThemReady() throws IOException {
    write("votes.yaml", Policies.redisYaml("votes", "vote:*"));
    write(
        "more.yml",
        Policies.yaml("tallies", "InProcess", "", "tally:*")
            + "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: ignored\n");
    write("notes.txt", "not a policy");
    write(".hidden.yaml", "not: [valid");
    open(Duration.ofMinutes(10));

    assertThat(names()).containsExactly("tallies", "votes");
    assertThat(source.problems()).isEmpty();
    LockPolicy votes = source.policies().get(1);
    assertThat(votes.getMetadata().getNamespace()).isEqualTo("voting");
    assertThat(votes.getStatus().getEpoch()).isZero();
    assertThat(votes.getStatus().getObservedGeneration()).isEqualTo(1L);
    assertThat(votes.getStatus().getConditions())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.getType()).isEqualTo("Ready");
              assertThat(c.getStatus()).isEqualTo("True");
              assertThat(c.getReason()).isEqualTo("LoadedFromFile");
            });
  }

  @Test
  void reloadsAnEditedFileThatSwitchesBackend() throws IOException {
    write("votes.yaml", Policies.redisYaml("votes", "vote:*"));
    open(Duration.ofMinutes(10));
    assertThat(backendOf("votes")).isEqualTo(BackendType.Redis);

    write(
        "votes.yaml",
        Policies.yaml("votes", "Etcd", "etcd:\n  endpoints: [\"http://127.0.0.1:12379\"]", "vote:*")
            .replace(
                "  namespace: voting",
                "  namespace: voting\n  annotations:\n    locks.fenced.dev/epoch: \"1\""));

    await().atMost(PATIENCE).until(() -> backendOf("votes") == BackendType.Etcd);
    assertThat(source.policies().get(0).getStatus().getEpoch()).isEqualTo(1L);
    assertThat(changes).isNotEmpty();
    assertThat(changes.get(changes.size() - 1))
        .singleElement()
        .satisfies(p -> assertThat(p.getSpec().getBackend().getType()).isEqualTo(BackendType.Etcd));
  }

  @Test
  void aSyntaxErrorIsReportedAndTheEarlierVersionStays() throws IOException {
    write("votes.yaml", Policies.redisYaml("votes", "vote:*"));
    open(Duration.ofMinutes(10));

    write(
        "votes.yaml",
        Policies.redisYaml("votes", "vote:*")
            .replace("lockNames: [\"vote:*\"]", "lockNames: [\"vote:*\""));

    await().atMost(PATIENCE).until(() -> !source.problems().isEmpty());
    assertThat(source.problems())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.source()).isEqualTo(dir.resolve("votes.yaml").toString());
              assertThat(p.line()).isNotNull();
              assertThat(p.message()).startsWith("is not valid YAML");
            });
    assertThat(backendOf("votes")).isEqualTo(BackendType.Redis);
    assertThat(reported).isNotEmpty();
    assertKeptAcrossOtherChanges("votes", BackendType.Redis);
  }

  /** A later change elsewhere republishes the set: the kept version must still be in it. */
  private void assertKeptAcrossOtherChanges(String name, BackendType backend) throws IOException {
    write("zz-other.yaml", Policies.yaml("other", "InProcess", "", "other:*"));
    await().atMost(PATIENCE).until(() -> names().contains("other"));
    assertThat(backendOf(name)).isEqualTo(backend);
    assertThat(source.problems()).isNotEmpty();
  }

  @Test
  void anUnknownFieldIsReportedByFileFieldAndLineAndTheEarlierVersionStays() throws IOException {
    write("votes.yaml", Policies.redisYaml("votes", "vote:*"));
    open(Duration.ofMinutes(10));

    write(
        "votes.yaml",
        Policies.yaml(
            "votes", "Etcd", "etcd:\n  endpoint: [\"http://127.0.0.1:12379\"]", "vote:*"));

    await().atMost(PATIENCE).until(() -> !source.problems().isEmpty());
    assertThat(source.problems())
        .containsExactly(
            new PolicyProblem(
                dir.resolve("votes.yaml").toString(),
                11,
                "spec.backend.etcd.endpoint",
                "unknown field; known fields are endpoints, keyPrefix"));
    assertThat(backendOf("votes")).isEqualTo(BackendType.Redis);
    assertKeptAcrossOtherChanges("votes", BackendType.Redis);
  }

  @Test
  void anInvalidValueIsReportedByFileAndFieldAndTheEarlierVersionStays() throws IOException {
    write("votes.yaml", Policies.redisYaml("votes", "vote:*"));
    open(Duration.ofMinutes(10));

    write("votes.yaml", Policies.redisYaml("votes", "vote:*") + "  renewInterval: 15s\n");

    await().atMost(PATIENCE).until(() -> !source.problems().isEmpty());
    assertThat(source.problems())
        .containsExactly(
            new PolicyProblem(
                dir.resolve("votes.yaml").toString(),
                null,
                "spec.renewInterval",
                "voting/votes: must be shorter than spec.leaseDuration (10s), was 15s"));
    assertThat(source.policies())
        .singleElement()
        .satisfies(p -> assertThat(p.getSpec().getRenewInterval()).isEqualTo("3s"));
    assertKeptAcrossOtherChanges("votes", BackendType.Redis);
    assertThat(source.policies())
        .filteredOn(p -> p.getMetadata().getName().equals("votes"))
        .singleElement()
        .satisfies(p -> assertThat(p.getSpec().getRenewInterval()).isEqualTo("3s"));

    // Fixing the file clears the problem and takes the new version.
    write("votes.yaml", Policies.redisYaml("votes", "vote:*") + "  renewInterval: 4s\n");
    await().atMost(PATIENCE).until(() -> source.problems().isEmpty());
    assertThat(source.policies())
        .filteredOn(p -> p.getMetadata().getName().equals("votes"))
        .singleElement()
        .satisfies(p -> assertThat(p.getSpec().getRenewInterval()).isEqualTo("4s"));
  }

  @Test
  void aBrokenNewFileAddsNothingAndIsReported() throws IOException {
    write("votes.yaml", Policies.redisYaml("votes", "vote:*"));
    open(Duration.ofMinutes(10));
    write("tallies.yaml", Policies.yaml("tallies", "Rediss", "", "tally:*"));
    await().atMost(PATIENCE).until(() -> !source.problems().isEmpty());
    assertThat(source.problems())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.source()).endsWith("tallies.yaml");
              assertThat(p.field()).isEqualTo("spec.backend.type");
            });
    assertThat(names()).containsExactly("votes");
  }

  @Test
  void picksUpANewFile() throws IOException {
    write("votes.yaml", Policies.redisYaml("votes", "vote:*"));
    open(Duration.ofMinutes(10));
    write("tallies.yaml", Policies.yaml("tallies", "InProcess", "", "tally:*"));
    await().atMost(PATIENCE).until(() -> names().contains("tallies"));
    assertThat(names()).containsExactlyInAnyOrder("votes", "tallies");
  }

  @Test
  void aDeletedFileTakesItsPoliciesAway() throws IOException {
    write("votes.yaml", Policies.redisYaml("votes", "vote:*"));
    write("tallies.yaml", Policies.yaml("tallies", "InProcess", "", "tally:*"));
    open(Duration.ofMinutes(10));
    Files.delete(dir.resolve("tallies.yaml"));
    await().atMost(PATIENCE).until(() -> !names().contains("tallies"));
    assertThat(names()).containsExactly("votes");
  }

  @Test
  void thePeriodicRescanFindsChangesWithoutEvents() throws IOException {
    write("votes.yaml", Policies.redisYaml("votes", "vote:*"));
    open(Duration.ofMillis(200));
    write("tallies.yaml", Policies.yaml("tallies", "InProcess", "", "tally:*"));
    source.rescan();
    assertThat(names()).contains("tallies");
  }

  @Test
  void aPolicyDefinedInTwoFilesIsAProblemOnTheSecond() throws IOException {
    write("a.yaml", Policies.redisYaml("votes", "vote:*"));
    write("b.yaml", Policies.yaml("votes", "InProcess", "", "vote:*"));
    open(Duration.ofMinutes(10));
    assertThat(backendOf("votes")).isEqualTo(BackendType.Redis);
    assertThat(source.problems())
        .containsExactly(
            new PolicyProblem(
                dir.resolve("b.yaml").toString(),
                null,
                "metadata.name",
                "voting/votes is already defined in " + dir.resolve("a.yaml")));

    // Moving the policy from a.yaml to b.yaml works once a.yaml lets go of it.
    Files.delete(dir.resolve("a.yaml"));
    source.rescan();
    assertThat(backendOf("votes")).isEqualTo(BackendType.InProcess);
    assertThat(source.problems()).isEmpty();
  }

  @Test
  void aBadEpochAnnotationIsNamed() throws IOException {
    write(
        "votes.yaml",
        Policies.redisYaml("votes", "vote:*")
            .replace(
                "  namespace: voting",
                "  namespace: voting\n  annotations:\n    locks.fenced.dev/epoch: \"two\""));
    open(Duration.ofMinutes(10));
    assertThat(source.policies()).isEmpty();
    assertThat(source.problems())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.field()).isEqualTo("metadata.annotations[locks.fenced.dev/epoch]");
              assertThat(p.message())
                  .isEqualTo("voting/votes: must be an integer within 0..1048575, was two");
            });
  }

  @Test
  void aPolicyWithoutNamespaceGetsDefault() throws IOException {
    write("votes.yaml", Policies.redisYaml("votes", "vote:*").replace("  namespace: voting\n", ""));
    open(Duration.ofMinutes(10));
    assertThat(source.policies())
        .singleElement()
        .satisfies(p -> assertThat(p.getMetadata().getNamespace()).isEqualTo("default"));
  }

  @Test
  void aMissingDirectoryIsRefused() {
    Path missing = dir.resolve("nope");
    assertThatThrownBy(() -> new DirectoryPolicySource(missing))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("policy directory " + missing + " does not exist or is not a folder");
  }
}
