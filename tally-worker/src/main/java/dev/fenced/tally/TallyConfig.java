package dev.fenced.tally;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** {@code tally.*} settings; see {@link TallySettings} for what each means. */
@ConfigMapping(prefix = "tally")
public interface TallyConfig {

  /** Runs the worker; false leaves only health, metrics and status (for tooling and tests). */
  @WithDefault("true")
  boolean enabled();

  /** Default: hostname-pid-random. */
  Optional<String> workerId();

  @WithDefault("200ms")
  Duration foldInterval();

  @WithDefault("1s")
  Duration heartbeatInterval();

  @WithDefault("3s")
  Duration memberExpiry();

  /** Shards the polls are spread over; the same on every replica. */
  @WithDefault("" + TallySettings.DEFAULT_SHARDS)
  int shards();

  default TallySettings toSettings() {
    return new TallySettings(
        workerId().filter(s -> !s.isBlank()).orElseGet(TallySettings::defaultWorkerId),
        foldInterval(),
        heartbeatInterval(),
        memberExpiry(),
        shards());
  }
}
