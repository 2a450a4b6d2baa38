package dev.fenced.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Renders the chart with its default values and with every profile in {@code helm/fenced/ci/}, and
 * runs every static check on every object. The objects each profile renders are listed in {@code
 * target/helm-profiles/<profile>.txt}.
 */
class ChartProfilesTest {

  static Stream<Arguments> profiles() throws IOException {
    List<Arguments> out = new ArrayList<>();
    out.add(Arguments.of("default", null));
    try (Stream<Path> files = Files.list(Helm.CHART.resolve("ci"))) {
      files
          .filter(f -> f.getFileName().toString().endsWith("-values.yaml"))
          .sorted()
          .forEach(
              f ->
                  out.add(Arguments.of(f.getFileName().toString().replace("-values.yaml", ""), f)));
    }
    return out.stream();
  }

  static List<Manifest> render(Path valuesFile) {
    Helm.Result r = Helm.template(valuesFile == null ? List.of() : List.of(valuesFile));
    assertThat(r.exitCode()).as("helm template failed:\n%s", r.stderr()).isZero();
    return Manifest.withAppliedPolicies(Manifest.parseAll(r.stdout()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("profiles")
  void everyObjectPassesEveryCheck(String profile, Path valuesFile) throws IOException {
    List<Manifest> manifests = render(valuesFile);
    writeListing(profile, manifests);

    List<String> problems = new ArrayList<>();
    manifests.forEach(m -> problems.addAll(ManifestChecks.typedModel(m)));
    problems.addAll(ManifestChecks.plainTextSecrets(manifests));
    problems.addAll(ManifestChecks.securityContexts(manifests));
    problems.addAll(ManifestChecks.networkPolicies(manifests));
    problems.addAll(ManifestChecks.crossReferences(manifests));
    problems.addAll(ManifestChecks.secretAccess(manifests));
    problems.addAll(ManifestChecks.monitoring(manifests));
    assertThat(problems).as("profile %s", profile).isEmpty();

    assertThat(kinds(manifests))
        .as("profile %s renders the system", profile)
        .contains(
            "CustomResourceDefinition",
            "Deployment",
            "Service",
            "Ingress",
            "NetworkPolicy",
            "Role",
            "ServiceAccount",
            "LockPolicy",
            "Pod",
            "ConfigMap",
            "Job");
  }

  @Test
  void committedPlainManifestsPassEveryCheck() throws IOException {
    String text = Files.readString(Helm.ROOT.resolve("k8s/rendered/fenced.yaml"));
    List<Manifest> manifests = Manifest.parseAll(text);
    List<String> problems = new ArrayList<>();
    manifests.forEach(m -> problems.addAll(ManifestChecks.typedModel(m)));
    problems.addAll(ManifestChecks.plainTextSecrets(manifests));
    problems.addAll(ManifestChecks.securityContexts(manifests));
    problems.addAll(ManifestChecks.networkPolicies(manifests));
    problems.addAll(ManifestChecks.secretAccess(manifests));
    problems.addAll(ManifestChecks.monitoring(manifests));
    assertThat(problems).isEmpty();
    // Helm's hooks are left out: kubectl apply would run the pre-delete Job at once.
    assertThat(manifests)
        .noneMatch(m -> m.tree().path("metadata").path("annotations").has("helm.sh/hook"));
    // A plain install takes its CRD from k8s/crds and makes its Secrets itself (k8s/README.md).
    assertThat(kinds(manifests)).doesNotContain("CustomResourceDefinition", "Secret");
  }

  private static List<String> kinds(List<Manifest> manifests) {
    return manifests.stream().map(Manifest::kind).distinct().toList();
  }

  private static void writeListing(String profile, List<Manifest> manifests) throws IOException {
    Path dir = Path.of("target/helm-profiles");
    Files.createDirectories(dir);
    Files.writeString(
        dir.resolve(profile + ".txt"),
        manifests.stream().map(Manifest::id).collect(Collectors.joining("\n", "", "\n")));
  }
}
