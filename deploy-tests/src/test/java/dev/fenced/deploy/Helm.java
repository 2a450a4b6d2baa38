package dev.fenced.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the helm binary that {@code scripts/helm.sh} installs into {@code $FENCED_HOME/tools}
 * (installing it on first use).
 */
final class Helm {

  /** What one helm run answered. */
  record Result(int exitCode, String stdout, String stderr) {}

  static final Path ROOT =
      Path.of(System.getProperty("fenced.root", "..")).toAbsolutePath().normalize();
  static final Path CHART = ROOT.resolve("helm/fenced");

  /** Release name and namespace of every render: those of the plain install in k8s/rendered. */
  static final String RELEASE = "fenced";

  static final String NAMESPACE = "voting";

  private static Path binary;

  private Helm() {}

  static synchronized Path binary() {
    if (binary == null) {
      Result r = run(List.of("bash", ROOT.resolve("scripts/helm.sh").toString(), "path"));
      if (r.exitCode() != 0) {
        throw new IllegalStateException("scripts/helm.sh could not install helm:\n" + r.stderr());
      }
      binary = Path.of(r.stdout().strip()).resolve("helm");
    }
    return binary;
  }

  /** {@code helm template} of the chart with the given values files (none: the defaults). */
  static Result template(List<Path> valuesFiles, String... extraArgs) {
    List<String> args = new ArrayList<>();
    for (Path f : valuesFiles) {
      args.add("--values");
      args.add(f.toString());
    }
    return templateChart(CHART, args, extraArgs);
  }

  /** {@code helm template} of a chart folder (the chart or a test's copy of it). */
  static Result templateChart(Path chart, List<String> args, String... extraArgs) {
    List<String> cmd = new ArrayList<>();
    cmd.add(binary().toString());
    cmd.addAll(List.of("template", RELEASE, chart.toString(), "--namespace", NAMESPACE));
    cmd.addAll(args);
    cmd.addAll(List.of(extraArgs));
    return run(cmd);
  }

  private static Result run(List<String> cmd) {
    try {
      Path out = Files.createTempFile("helm", ".out");
      Path err = Files.createTempFile("helm", ".err");
      try {
        Process p =
            new ProcessBuilder(cmd)
                .directory(ROOT.toFile())
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
          p.destroyForcibly();
          throw new IllegalStateException("timed out: " + String.join(" ", cmd));
        }
        return new Result(
            p.exitValue(),
            Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + String.join(" ", cmd), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
