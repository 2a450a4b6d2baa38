package dev.fenced.lock.policy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LockNamePatternTest {

  @ParameterizedTest
  @CsvSource({
    "vote:*, vote:cats:cat, true",
    "vote:*, vote:, true",
    "vote:*, tally:cats, false",
    "vote:*:cat, vote:cats-vs-dogs:cat, true",
    "vote:*:cat, vote:a:b:cat, true",
    "vote:*:cat, vote:a:dog, false",
    "vote:?, vote:a, true",
    "vote:?, vote:ab, false",
    "vote:?, vote:, false",
    "*, anything:at:all, true",
    "a*b*c, abc, true",
    "a*b*c, aXbYbZc, true",
    "a*b*c, aXbYc d, false",
    "exact, exact, true",
    "exact, exactly, false"
  })
  void matchesGlobs(String pattern, String name, boolean matches) {
    assertThat(new LockNamePattern(pattern).matches(name)).isEqualTo(matches);
  }

  @Test
  void literalPrefixEndsAtTheFirstWildcard() {
    assertThat(new LockNamePattern("vote:*").literalPrefixLength()).isEqualTo(5);
    assertThat(new LockNamePattern("vote:?*").literalPrefixLength()).isEqualTo(5);
    assertThat(new LockNamePattern("*:cat").literalPrefixLength()).isZero();
    assertThat(new LockNamePattern("tally:cats").literalPrefixLength()).isEqualTo(10);
  }

  @ParameterizedTest
  @CsvSource({
    "vote:*:cat, vote:*:dog, false",
    "vote:*, vote:?*, true",
    "vote:*:cat, vote:cats:*, true",
    "vote:a?c, vote:?b?, true",
    "vote:a?c, vote:?b, false",
    "*a, b*, true",
    "a*, *b*c, true",
    "ab, a?c, false",
    "*:cat, *:dog, false",
    "*, x, true"
  })
  void decidesWhetherTwoPatternsShareAName(String a, String b, boolean shared) {
    LockNamePattern first = new LockNamePattern(a);
    LockNamePattern second = new LockNamePattern(b);
    assertThat(first.commonMatch(second).isPresent()).isEqualTo(shared);
    assertThat(second.commonMatch(first).isPresent()).isEqualTo(shared);
    first
        .commonMatch(second)
        .ifPresent(
            example -> {
              assertThat(first.matches(example)).as(a + " matches " + example).isTrue();
              assertThat(second.matches(example)).as(b + " matches " + example).isTrue();
            });
  }
}
