package dev.fenced.vote.ballot;

/**
 * What became of one vote: recorded, with its count (its position in the counter) and the fence of
 * the hold that wrote it (0 without a lock); or not recorded because the voter had voted.
 */
record Outcome(boolean recorded, long count, long fence) {

  static final Outcome DUPLICATE = new Outcome(false, 0, 0);

  static Outcome recorded(long count, long fence) {
    return new Outcome(true, count, fence);
  }
}
