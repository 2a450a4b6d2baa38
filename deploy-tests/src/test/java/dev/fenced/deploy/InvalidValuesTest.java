package dev.fenced.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad values fail the render with one clear message: each file in {@code invalid-values/} is a
 * values profile whose first line, {@code # expect: <text>}, is what helm must answer.
 */
class InvalidValuesTest {

  static Stream<Path> invalidProfiles() throws IOException {
    Path dir = Path.of("src/test/resources/invalid-values");
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList().stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidProfiles")
  void failsWithItsMessage(Path values) throws IOException {
    String first = Files.readAllLines(values).get(0);
    assertThat(first).as("%s must start with '# expect: '", values).startsWith("# expect: ");
    String expected = first.substring("# expect: ".length()).strip();

    Helm.Result r = Helm.template(List.of(values.toAbsolutePath()));

    assertThat(r.exitCode()).as("helm template of %s must fail", values).isNotZero();
    assertThat(r.stderr()).contains(expected);
    assertThat(r.stdout()).as("nothing is rendered").isBlank();
  }
}
