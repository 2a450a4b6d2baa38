package dev.fenced.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * NOTES.txt is rendered only by an install, which needs a cluster: the test renders its named
 * template through a copy of the chart with one extra template that prints it.
 */
class NotesTest {

  private static String notes(String... setArgs) throws IOException {
    Path copy = Files.createTempDirectory("fenced-chart");
    try {
      try (Stream<Path> files = Files.walk(Helm.CHART)) {
        for (Path f : files.toList()) {
          Path target = copy.resolve(Helm.CHART.relativize(f).toString());
          if (Files.isDirectory(f)) {
            Files.createDirectories(target);
          } else {
            Files.copy(f, target);
          }
        }
      }
      Files.writeString(
          copy.resolve("templates/notes-check.yaml"),
          "notes: {{ include \"fenced.notes\" . | toJson }}\n");
      Helm.Result r =
          Helm.templateChart(copy, List.of("--show-only", "templates/notes-check.yaml"), setArgs);
      assertThat(r.exitCode()).as(r.stderr()).isZero();
      String json = r.stdout().substring(r.stdout().indexOf("notes: ") + "notes: ".length());
      return new com.fasterxml.jackson.databind.ObjectMapper().readValue(json, String.class);
    } finally {
      try (Stream<Path> files = Files.walk(copy)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void notesShowHowToVoteThroughTheIngressAndApplyAPolicy() throws IOException {
    String text = notes();
    assertThat(text)
        .contains("get ingress fenced-vote-api")
        .contains("curl -sS -X POST \"$BASE/polls\"")
        .contains("\"options\":[\"cat\",\"dog\"]")
        .contains("curl -sS -X POST \"$BASE/polls/cats-vs-dogs/votes\"")
        .contains("curl -sS \"$BASE/polls/cats-vs-dogs/results\"")
        .contains("kubectl -n voting apply -f lockpolicy.yaml")
        .contains("helm test fenced -n voting")
        .contains("Lock backend of the default policies: Redis");
  }

  @Test
  void theAddressIsTheLoadBalancersIpOrHostname() throws IOException {
    // Some load balancers publish an ip, others (AWS ELB) a hostname: print whichever is there.
    assertThat(notes())
        .contains(
            "jsonpath='{.status.loadBalancer.ingress[0].ip}"
                + "{.status.loadBalancer.ingress[0].hostname}'")
        .contains("open $PAGE in a browser");
    assertThat(notes("--set", "ingress.host=vote.example.com"))
        .contains("PAGE=http://vote.example.com/")
        .contains("BASE=${PAGE}api");
  }

  @Test
  void withoutAnIngressTheNotesForwardTheService() throws IOException {
    assertThat(notes("--set", "ingress.enabled=false"))
        .contains("port-forward svc/fenced-vote-api 8080:8080")
        .doesNotContain("get ingress");
  }
}
