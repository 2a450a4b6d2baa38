package dev.fenced.tally;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class TallySettingsTest {

  @Test
  void fairShareIsTheCeilingOfPollsPerLiveWorker() {
    assertThat(new Membership.View(1, List.of()).fairShare()).isZero();
    assertThat(new Membership.View(2, List.of("a", "b", "c")).fairShare()).isEqualTo(2);
    assertThat(new Membership.View(3, List.of("a", "b", "c")).fairShare()).isEqualTo(1);
    assertThat(new Membership.View(5, List.of("a", "b", "c")).fairShare()).isEqualTo(1);
    assertThat(new Membership.View(0, List.of("a", "b")).fairShare()).isEqualTo(2);
  }

  @Test
  void rejectsSettingsThatCannotWorkNamingTheField() {
    Duration s = Duration.ofSeconds(1);
    assertThatThrownBy(() -> new TallySettings(" ", s, s, s.multipliedBy(3)))
        .hasMessageContaining("tally.worker-id");
    assertThatThrownBy(() -> new TallySettings("w", Duration.ZERO, s, s.multipliedBy(3)))
        .hasMessageContaining("tally.fold-interval");
    assertThatThrownBy(() -> new TallySettings("w", s, s, s))
        .hasMessageContaining("tally.member-expiry");
  }

  @Test
  void defaultWorkerIdsDifferWithinOneProcess() {
    String a = TallySettings.defaultWorkerId();
    String b = TallySettings.defaultWorkerId();
    assertThat(a).isNotEqualTo(b).contains("-" + ProcessHandle.current().pid() + "-");
  }
}
