package dev.fenced.loadtest.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DocSectionsTest {

  private static final String PAGE =
      """
      # Title
      hand-written
      <!-- BEGIN generated: policies -->
      old table
      <!-- END generated: policies -->
      more hand-written
      """;

  @Test
  void replacesOnlyBetweenItsMarkers() {
    String page = DocSections.replace(PAGE, "policies", "| new | table |\n");
    assertThat(page)
        .isEqualTo(
            """
            # Title
            hand-written
            <!-- BEGIN generated: policies -->
            | new | table |
            <!-- END generated: policies -->
            more hand-written
            """);
    assertThat(DocSections.get(page, "policies")).isEqualTo("| new | table |");
    assertThat(DocSections.replace(page, "policies", "| new | table |")).isEqualTo(page);
  }

  @Test
  void aMissingSectionIsNamed() {
    assertThatThrownBy(() -> DocSections.replace(PAGE, "reads", "x"))
        .hasMessageContaining("<!-- BEGIN generated: reads -->");
  }
}
