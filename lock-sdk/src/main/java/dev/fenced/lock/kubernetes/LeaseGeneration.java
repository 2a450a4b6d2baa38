package dev.fenced.lock.kubernetes;

import dev.fenced.lock.FencingTokens;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import java.util.Map;

/**
 * Where a lock Lease's tokens start: a generation handed out by the ledger, and the {@code
 * leaseTransitions} value at which it began. The token's counter is {@code generation << 19 |
 * (leaseTransitions - start + 1)}.
 *
 * <p>A Lease's transitions start at 1 again whenever the Lease is created again, and a service that
 * never saw the old Lease cannot know it existed. Generations close that gap: creating a Lease, the
 * first takeover at an epoch, and every {@value #MAX_TRANSITIONS}th takeover take the next
 * generation from the ledger Lease's counter, which only rises (compare-and-set, {@link
 * LeaseLedgerStore#nextGeneration}). So a Lease created again issues tokens above every token of
 * the name issued before at that epoch, whoever saw what. (The first takeover at an epoch takes one
 * because the counter starts over when the ledger Lease itself is deleted, an incident the epoch
 * rises for: every generation in use at the new epoch is then newer than the restart.) A Lease
 * without these annotations (written before they existed) is generation 0 from transition 1, whose
 * counter is its {@code leaseTransitions} as before.
 *
 * @param generation the ledger's generation, 0 for a Lease without one
 * @param start the {@code leaseTransitions} value whose counter is {@code generation << 19 | 1}
 */
record LeaseGeneration(long generation, long start) {

  /** Annotation on a lock Lease: its generation. */
  static final String GENERATION_ANNOTATION = "locks.fenced.dev/generation";

  /** Annotation on a lock Lease: the {@code leaseTransitions} value its generation began at. */
  static final String START_ANNOTATION = "locks.fenced.dev/generation-start";

  /** Bits of the counter for the transitions within one generation. */
  static final int TRANSITION_BITS = 19;

  /** Takeovers one generation can count; the next one takes a new generation. */
  static final long MAX_TRANSITIONS = (1L << TRANSITION_BITS) - 1;

  /** Generations the ledger of one namespace can hand out. */
  static final long MAX_GENERATION = FencingTokens.MAX_COUNTER >>> TRANSITION_BITS;

  static final LeaseGeneration LEGACY = new LeaseGeneration(0, 1);

  /** The generation a Lease records; {@link #LEGACY} when it records none (or not ours to read). */
  static LeaseGeneration of(Lease lease) {
    Map<String, String> annotations = lease.getMetadata().getAnnotations();
    if (annotations == null) {
      return LEGACY;
    }
    try {
      String generation = annotations.get(GENERATION_ANNOTATION);
      String start = annotations.get(START_ANNOTATION);
      if (generation == null || start == null) {
        return LEGACY;
      }
      return new LeaseGeneration(Long.parseLong(generation.strip()), Long.parseLong(start.strip()));
    } catch (NumberFormatException e) {
      return LEGACY;
    }
  }

  /** Whether the takeover to {@code transitions} still fits in this generation. */
  boolean counts(long transitions) {
    long index = transitions - start + 1;
    return index >= 1 && index <= MAX_TRANSITIONS;
  }

  /** The token counter of the hold that made {@code leaseTransitions} equal {@code transitions}. */
  long counter(long transitions) {
    if (!counts(transitions)) {
      throw new IllegalArgumentException(
          "transitions " + transitions + " outside generation " + generation + " from " + start);
    }
    return generation << TRANSITION_BITS | (transitions - start + 1);
  }

  /**
   * The lowest generation whose tokens sort above every token this one issued up to {@code
   * transitions}: a Lease without a generation counted its tokens in {@code leaseTransitions}
   * alone, which may be past {@value #MAX_TRANSITIONS}.
   */
  long nextAbove(long transitions) {
    return generation == 0 ? (Math.max(0, transitions) >>> TRANSITION_BITS) + 1 : generation + 1;
  }

  /** The annotations that record this generation on a lock Lease. */
  Map<String, String> annotations() {
    return Map.of(
        GENERATION_ANNOTATION, Long.toString(generation), START_ANNOTATION, Long.toString(start));
  }
}
