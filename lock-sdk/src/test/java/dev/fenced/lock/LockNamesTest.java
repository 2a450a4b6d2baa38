package dev.fenced.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fenced.lock.support.NameEncoding;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LockNamesTest {

  @Test
  void printableUnicodeIsAcceptedWhateverTheBackend() {
    for (String name :
        new String[] {
          "vote:cats-vs-dogs:cat", "a}b", "{poll}", "ü/ß", "\uD83D\uDC08 cat", "x".repeat(512)
        }) {
      assertThat(LockNames.check(name)).isEqualTo(name);
      assertThat(new String(NameEncoding.utf8(name), StandardCharsets.UTF_8)).isEqualTo(name);
    }
  }

  @Test
  void unpairedSurrogatesAreRefusedBecauseUtf8WouldMakeTwoNamesOne() {
    // What every encoder used to do: both become "x?".
    assertThat("x\uD800".getBytes(StandardCharsets.UTF_8))
        .isEqualTo("x\uDBFF".getBytes(StandardCharsets.UTF_8));

    for (String name : new String[] {"x\uD800", "x\uDBFF", "\uDC00x", "x\uDC00\uD800"}) {
      assertThatThrownBy(() -> LockNames.check(name))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("name must not contain an unpaired surrogate");
      assertThatThrownBy(() -> NameEncoding.utf8(name))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("name");
    }
  }

  @Test
  void eachProblemNamesTheField() {
    assertThatThrownBy(() -> LockNames.check(" ")).hasMessage("name must not be blank");
    assertThatThrownBy(() -> LockNames.check("x".repeat(513)))
        .hasMessage("name must be at most 512 characters, was 513");
    assertThatThrownBy(() -> LockNames.check("vote:\t1"))
        .hasMessage("name must not contain control characters (found one at index 5)");
    assertThatThrownBy(() -> LockNames.check("}vote"))
        .hasMessage(
            "name must not start with '}' (Redis Cluster would hash the keys of the lock apart)");
  }

  @Test
  void percentEncodingKeepsDistinctNamesDistinct() {
    NameEncoding.Plain letters = (b, i) -> NameEncoding.isAlphanumeric(b);
    assertThat(NameEncoding.percentEncode("a/b", letters)).isEqualTo("a%2Fb");
    assertThat(NameEncoding.percentEncode("a%2Fb", letters)).isEqualTo("a%252Fb");
    // '%' is never kept, even by a careless predicate, or "%41" and "A" could meet.
    assertThat(NameEncoding.percentEncode("%41", (b, i) -> true)).isEqualTo("%2541");
  }
}
