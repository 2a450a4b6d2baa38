package dev.fenced.lock.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DurationsTest {

  @ParameterizedTest
  @CsvSource({
    "10s, PT10S",
    "500ms, PT0.5S",
    "1m30s, PT1M30S",
    "1.5h, PT1H30M",
    "2h45m, PT2H45M",
    "0, PT0S",
    "0s, PT0S",
    "250us, PT0.00025S",
    "250µs, PT0.00025S",
    "7ns, PT0.000000007S",
    "-3s, PT-3S",
    "1h0m0.25s, PT1H0.25S"
  })
  void parsesGoStyleDurations(String text, String iso) {
    assertThat(Durations.parse("spec.leaseDuration", text)).isEqualTo(Duration.parse(iso));
  }

  @ParameterizedTest
  @CsvSource({
    "PT10S, 10s",
    "PT0.5S, 500ms",
    "PT1M30S, 1m30s",
    "PT1H, 1h0m0s",
    "PT0S, 0s",
    "PT1.5S, 1.5s",
    "PT0.0000015S, 1.5µs",
    "PT-2S, -2s"
  })
  void formatsAsGoDoesAndReadsBack(String iso, String text) {
    Duration d = Duration.parse(iso);
    assertThat(Durations.format(d)).isEqualTo(text);
    assertThat(Durations.parse("f", Durations.format(d))).isEqualTo(d);
  }

  @Test
  void aMissingUnitIsNamedWithTheField() {
    assertThatThrownBy(() -> Durations.parse("spec.leaseDuration", "10"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "spec.leaseDuration: \"10\" is not a duration: the unit after 10 is missing;"
                + " write it like 10s, 500ms or 1m30s");
  }

  @Test
  void anUnknownUnitIsNamed() {
    assertThatThrownBy(() -> Durations.parse("spec.maxWait", "2d"))
        .hasMessageStartingWith("spec.maxWait: \"2d\" is not a duration: unknown unit \"d\"");
  }

  @Test
  void garbageIsRefused() {
    assertThatThrownBy(() -> Durations.parse("spec.renewInterval", "s"))
        .hasMessageStartingWith(
            "spec.renewInterval: \"s\" is not a duration: expected a number at position 1");
    assertThatThrownBy(() -> Durations.parse("spec.renewInterval", "1.2.3s"))
        .hasMessageContaining("expected a number");
    assertThatThrownBy(() -> Durations.parse("spec.renewInterval", "-"))
        .hasMessageContaining("a number and a unit are missing");
  }

  @Test
  void blankIsRefused() {
    assertThatThrownBy(() -> Durations.parse("spec.maxWait", " "))
        .hasMessage("spec.maxWait: must be set, such as 10s, 500ms or 1m30s");
    assertThatThrownBy(() -> Durations.parse("spec.maxWait", null))
        .hasMessageStartingWith("spec.maxWait: must be set");
  }

  @Test
  void moreThanGoAllowsIsRefused() {
    assertThatThrownBy(() -> Durations.parse("spec.leaseDuration", "3000000h"))
        .hasMessageContaining("longer than Go durations allow");
  }
}
