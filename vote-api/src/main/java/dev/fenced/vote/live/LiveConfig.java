package dev.fenced.vote.live;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** How often the live feeds read ({@code fenced.live.*}). */
@ConfigMapping(prefix = "fenced.live")
public interface LiveConfig {

  /** How often a watched poll's results are read, once per replica for all its pages. */
  @WithDefault("300ms")
  Duration resultsEvery();

  /** How often a watched poll's locks view is rebuilt. */
  @WithDefault("500ms")
  Duration locksEvery();

  /**
   * After how long an unchanged value is sent again, which keeps idle streams open through proxies
   * that close a connection silent for longer than their read timeout.
   */
  @WithDefault("15s")
  Duration resend();
}
