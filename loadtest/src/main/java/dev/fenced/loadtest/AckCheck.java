package dev.fenced.loadtest;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the 201 answers say about each counter, whatever the lock: every acknowledged vote carries
 * the option's count after it and the fencing token it was written with. Under exclusion each count
 * is answered once (a repeated count is two votes counted as one: the lost update), and a higher
 * count never carries an older token (that would be a stale holder's write accepted after a newer
 * holder's).
 *
 * @param answers 201 answers checked
 * @param repeatedCounts answers whose count another answer of the same option also carried
 * @param fenceRegressions answers whose token is older than that of a lower count of the same
 *     option
 * @param example one offending pair, or null
 */
public record AckCheck(long answers, long repeatedCounts, long fenceRegressions, String example) {

  /** Checks the {@code [count, fence]} pairs of each option. */
  public static AckCheck of(Map<String, List<long[]>> acks) {
    long answers = 0;
    long repeated = 0;
    long regressions = 0;
    String example = null;
    for (Map.Entry<String, List<long[]>> option : new TreeMap<>(acks).entrySet()) {
      List<long[]> sorted = new ArrayList<>(option.getValue());
      sorted.sort(Comparator.<long[]>comparingLong(a -> a[0]).thenComparingLong(a -> a[1]));
      answers += sorted.size();
      long highestFence = Long.MIN_VALUE;
      long highestFenceCount = 0;
      for (int i = 0; i < sorted.size(); i++) {
        long count = sorted.get(i)[0];
        long fence = sorted.get(i)[1];
        if (i > 0 && sorted.get(i - 1)[0] == count) {
          repeated++;
          if (example == null) {
            example = option.getKey() + ": count " + count + " answered twice";
          }
        } else if (fence < highestFence) {
          regressions++;
          if (example == null) {
            example =
                option.getKey()
                    + ": count "
                    + count
                    + " written with fence "
                    + fence
                    + " after count "
                    + highestFenceCount
                    + " with fence "
                    + highestFence;
          }
        }
        if (fence > highestFence) {
          highestFence = fence;
          highestFenceCount = count;
        }
      }
    }
    return new AckCheck(answers, repeated, regressions, example);
  }

  /** One line per broken promise; empty when the answers are consistent. */
  public List<String> problems() {
    List<String> problems = new ArrayList<>();
    if (repeatedCounts > 0) {
      problems.add(
          repeatedCounts
              + " 201 answer(s) repeated a count another vote of the same option had (votes"
              + " counted as one), e.g. "
              + example);
    }
    if (fenceRegressions > 0) {
      problems.add(
          fenceRegressions
              + " 201 answer(s) carried an older fence than a lower count of the same option"
              + " (a stale holder's write accepted)"
              + (repeatedCounts == 0 ? ", e.g. " + example : ""));
    }
    return problems;
  }
}
