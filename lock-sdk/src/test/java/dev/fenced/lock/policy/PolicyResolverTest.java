package dev.fenced.lock.policy;

import static dev.fenced.lock.policy.Policies.named;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fenced.lock.InvalidLockPolicyException;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyResolverTest {

  private final LockPolicy votes = named("voting", "votes", "vote:*");
  private final LockPolicy catVotes = named("voting", "cat-votes", "vote:cats-vs-dogs:*");
  private final LockPolicy tallies = named("voting", "tallies", "tally:*");
  private final LockPolicy everything = named("ops", "everything", "*");

  @Test
  void theLongestLiteralPrefixWins() {
    PolicyResolver resolver = new PolicyResolver(List.of(everything, votes, catVotes, tallies));
    assertThat(resolver.resolve("vote:cats-vs-dogs:cat"))
        .get()
        .isEqualTo(new Resolution(catVotes, "vote:cats-vs-dogs:*"));
    assertThat(resolver.resolve("vote:pizza:ham")).get().isEqualTo(new Resolution(votes, "vote:*"));
    assertThat(resolver.resolve("tally:pizza")).get().isEqualTo(new Resolution(tallies, "tally:*"));
    assertThat(resolver.resolve("other")).get().isEqualTo(new Resolution(everything, "*"));
  }

  @Test
  void precedenceDoesNotDependOnOrder() {
    PolicyResolver resolver = new PolicyResolver(List.of(catVotes, votes, everything));
    assertThat(resolver.resolve("vote:cats-vs-dogs:dog").orElseThrow().policy()).isSameAs(catVotes);
  }

  @Test
  void noMatchingPatternMeansNoPolicy() {
    assertThat(new PolicyResolver(List.of(votes, tallies)).resolve("ballot:1")).isEmpty();
  }

  @Test
  void starMatchesColonsAndQuestionMarkOneCharacter() {
    LockPolicy catLike = named("voting", "cat-like", "vote:cats:?at");
    PolicyResolver resolver = new PolicyResolver(List.of(votes, catLike));
    assertThat(resolver.resolve("vote:cats:cat").orElseThrow().policy()).isSameAs(catLike);
    assertThat(resolver.resolve("vote:cats:bat").orElseThrow().policy()).isSameAs(catLike);
    assertThat(resolver.resolve("vote:cats:coat").orElseThrow().policy()).isSameAs(votes);
    assertThat(resolver.resolve("vote:cats:at").orElseThrow().policy()).isSameAs(votes);
    assertThat(resolver.resolve("vote:a:b:c:d").orElseThrow().policy()).isSameAs(votes);
  }

  @Test
  void equalPrefixesTieWhereverBothMatchAndNowhereElse() {
    LockPolicy shortPolls = named("voting", "short-polls", "vote:??:*");
    PolicyResolver resolver = new PolicyResolver(List.of(votes, shortPolls));
    assertThatThrownBy(() -> resolver.resolve("vote:ab:cat"))
        .isInstanceOf(ConflictingPoliciesException.class);
    assertThat(resolver.resolve("vote:abc:cat").orElseThrow().policy()).isSameAs(votes);
  }

  @Test
  void aTieIsAnErrorNamingBothPoliciesAndPatterns() {
    LockPolicy rival = named("voting", "rival", "vote:?*");
    PolicyResolver resolver = new PolicyResolver(List.of(votes, rival));
    assertThatThrownBy(() -> resolver.resolve("vote:cats:cat"))
        .isInstanceOf(InvalidLockPolicyException.class)
        .hasMessage(
            "lock name \"vote:cats:cat\" is claimed equally by voting/votes (pattern \"vote:*\")"
                + " and voting/rival (pattern \"vote:?*\"): their literal prefixes are equally"
                + " long, so none of them governs it; make one pattern's literal prefix longer or"
                + " remove one")
        .satisfies(
            e -> {
              ConflictingPoliciesException c = (ConflictingPoliciesException) e;
              assertThat(c.lockName()).isEqualTo("vote:cats:cat");
              assertThat(c.claims()).extracting(Resolution::policy).containsExactly(votes, rival);
            });
  }

  @Test
  void onePolicyMatchingThroughTwoPatternsIsNoTie() {
    LockPolicy both = named("voting", "both", "vote:*", "vote:?*");
    assertThat(new PolicyResolver(List.of(both)).resolve("vote:x").orElseThrow().policy())
        .isSameAs(both);
    assertThat(PolicyResolver.conflicts(List.of(both))).isEmpty();
  }

  @Test
  void aMoreSpecificPatternSettlesWhatWouldOtherwiseTie() {
    LockPolicy rival = named("voting", "rival", "vote:?*");
    PolicyResolver resolver = new PolicyResolver(List.of(votes, rival, catVotes));
    assertThat(resolver.resolve("vote:cats-vs-dogs:cat").orElseThrow().policy()).isSameAs(catVotes);
  }

  @Test
  void theSamePolicyNameTwiceIsRefused() {
    assertThatThrownBy(() -> new PolicyResolver(List.of(votes, named("voting", "votes", "x:*"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("LockPolicy voting/votes is given twice");
  }

  @Test
  void invalidLockNamesAreRefused() {
    assertThatThrownBy(() -> new PolicyResolver(List.of(votes)).resolve(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("name must not be blank");
  }

  @Test
  void conflictsListsPairsThatCanTieWithAnExampleName() {
    LockPolicy rival = named("voting", "rival", "vote:?*");
    List<PolicyConflict> conflicts = PolicyResolver.conflicts(List.of(votes, rival, tallies));
    assertThat(conflicts).hasSize(1);
    PolicyConflict conflict = conflicts.get(0);
    assertThat(conflict.first()).isEqualTo(new PolicyRef("voting", "votes"));
    assertThat(conflict.second()).isEqualTo(new PolicyRef("voting", "rival"));
    assertThat(conflict.example()).isEqualTo("vote:x");
    assertThat(conflict.involves(new PolicyRef("voting", "rival"))).isTrue();
    assertThat(conflict.involves(new PolicyRef("voting", "tallies"))).isFalse();
    assertThat(conflict.other(new PolicyRef("voting", "rival"))).isEqualTo(conflict.first());
    assertThat(conflict.message())
        .isEqualTo(
            "pattern \"vote:*\" of voting/votes and pattern \"vote:?*\" of voting/rival both"
                + " match lock names such as \"vote:x\" with literal prefixes of equal length (5),"
                + " so neither policy governs them; make one pattern's literal prefix longer or"
                + " remove one");
    // The example really is a tie.
    assertThatThrownBy(
            () -> new PolicyResolver(List.of(votes, rival, tallies)).resolve(conflict.example()))
        .isInstanceOf(ConflictingPoliciesException.class);
  }

  @Test
  void patternsThatLookAlikeButCannotShareANameDoNotConflict() {
    LockPolicy cats = named("voting", "cats", "vote:*:cat");
    LockPolicy dogs = named("voting", "dogs", "vote:*:dog");
    assertThat(PolicyResolver.conflicts(List.of(cats, dogs))).isEmpty();
    PolicyResolver resolver = new PolicyResolver(List.of(cats, dogs));
    assertThat(resolver.resolve("vote:p:cat").orElseThrow().policy()).isSameAs(cats);
    assertThat(resolver.resolve("vote:p:dog").orElseThrow().policy()).isSameAs(dogs);
  }

  @Test
  void patternsWithDifferentPrefixLengthsNeverConflict() {
    assertThat(PolicyResolver.conflicts(List.of(votes, catVotes, everything, tallies))).isEmpty();
  }

  @Test
  void patternsThatOverlapInTheMiddleConflict() {
    LockPolicy cats = named("voting", "cat-anywhere", "vote:*:cat");
    LockPolicy polls = named("voting", "cats-polls", "vote:cats:*");
    // Different literal prefixes (5 and 10): "vote:cats:*" wins, no tie.
    assertThat(PolicyResolver.conflicts(List.of(cats, polls))).isEmpty();
    LockPolicy catsAnyPoll = named("voting", "cats-any", "vote:?ats:*");
    assertThat(PolicyResolver.conflicts(List.of(cats, catsAnyPoll)))
        .singleElement()
        .satisfies(
            c -> {
              assertThat(new LockNamePattern("vote:*:cat").matches(c.example())).isTrue();
              assertThat(new LockNamePattern("vote:?ats:*").matches(c.example())).isTrue();
            });
  }
}
