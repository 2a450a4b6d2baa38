package dev.fenced.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GatlingStatsTest {

  // As Gatling 3.15.1 writes the statistics table of a request page.
  private static final String PAGE =
      """
      <tr>
          <td class="title">Min</td>
          <td class="total">5</td>
          <td class="ok">5</td>
      </tr>
      <tr>
          <td class="title">50th percentile</td>
          <td class="total">44</td>
          <td class="ok">43</td>
          <td class="ko">-</td>
      </tr>
      <tr>
          <td class="title">99th percentile</td>
          <td class="total">120</td>
          <td class="ok">118</td>
          <td class="ko">-</td>
      </tr>
      """;

  @Test
  void readsTheTotalPercentiles() {
    assertThat(GatlingStats.parse(PAGE)).contains(new GatlingStats(44, 120));
  }

  @Test
  void aPageWithoutTheTableGivesNothing() {
    assertThat(GatlingStats.parse("<html></html>")).isEmpty();
  }

  @Test
  void picksTheRequestPageOfTheNewestRun(@TempDir Path results) throws Exception {
    Path old = Files.createDirectories(results.resolve("votesimulation-1"));
    Files.writeString(old.resolve("req_vote-1.html"), PAGE.replace("44", "999"));
    Files.setLastModifiedTime(old, java.nio.file.attribute.FileTime.fromMillis(1000));
    Path newest = Files.createDirectories(results.resolve("votesimulation-2"));
    Files.writeString(newest.resolve("req_revote-7.html"), PAGE.replace("44", "3"));
    Files.writeString(newest.resolve("req_vote-3625706.html"), PAGE);

    assertThat(GatlingStats.newest(results, "vote")).contains(new GatlingStats(44, 120));
    assertThat(GatlingStats.newest(results.resolve("missing"), "vote")).isEmpty();
  }
}
