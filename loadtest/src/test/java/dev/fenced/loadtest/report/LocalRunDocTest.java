package dev.fenced.loadtest.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * docs/local-run.md's generated sections and chart are what {@link CompareReport} makes from the
 * data kept in docs/compare/: nobody typed them, and nobody edited them after.
 */
class LocalRunDocTest {

  private static final Path DOCS = Path.of("../docs/local-run.md");
  private static final Path DATA = Path.of("../docs/compare");

  @Test
  void generatedSectionsMatchTheKeptData() throws Exception {
    String page = Files.readString(DOCS);
    for (Kind kind : Kind.values()) {
      Path file = DATA.resolve(kind.id() + ".json");
      String section = DocSections.get(page, kind.id());
      if (!Files.exists(file)) {
        assertThat(section).as("section %s without data in %s", kind.id(), DATA).isEmpty();
        continue;
      }
      Dataset d = Dataset.read(file);
      assertThat(section)
          .as("section %s; regenerate with CompareReport --regenerate", kind.id())
          .isEqualTo(CompareReport.section(d, DOCS, DATA).strip());
      if (kind == Kind.POLICIES) {
        assertThat(Files.readString(DATA.resolve("chart-policies.svg")))
            .isEqualTo(CompareReport.chart(d));
      }
    }
  }
}
