package dev.fenced.lock.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class LeaseNamesTest {

  private static final Pattern DNS_1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

  @Test
  void everyLockNameBecomesAValidLeaseName() {
    List<String> names =
        List.of(
            "vote:cats-vs-dogs:cat",
            "Vote:Cats-Vs-Dogs:Cat",
            ":::",
            "-leading-and-trailing-",
            "ünïcödé/ключ",
            "a".repeat(512),
            "tally:" + "x".repeat(200) + ":end",
            "dots.and..more...dots");
    for (String name : names) {
      String lease = LeaseNames.leaseName(name);
      assertThat(lease).as(name).hasSizeLessThanOrEqualTo(LeaseNames.MAX_LENGTH);
      assertThat(DNS_1123_LABEL.matcher(lease).matches()).as(lease).isTrue();
    }
    assertThat(LeaseNames.leaseName("vote:cats-vs-dogs:cat")).startsWith("vote-cats-vs-dogs-cat-");
  }

  @Test
  void namesThatSanitiseAlikeStayDistinct() {
    List<String> alike =
        List.of("vote:a", "Vote:A", "VOTE:A", "vote-a", "vote/a", "vote.a", "vote a", "vote::a");
    Set<String> leases = new HashSet<>();
    for (String name : alike) {
      leases.add(LeaseNames.leaseName(name));
    }
    assertThat(leases).hasSize(alike.size());

    String longPrefix = "p".repeat(100);
    assertThat(LeaseNames.leaseName(longPrefix + "1"))
        .isNotEqualTo(LeaseNames.leaseName(longPrefix + "2"));
  }

  @Test
  void theSameNameAlwaysGetsTheSameLease() {
    assertThat(LeaseNames.leaseName("vote:x:y")).isEqualTo(LeaseNames.leaseName("vote:x:y"));
  }
}
