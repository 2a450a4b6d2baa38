package dev.fenced.vote.poll;

import java.io.Serializable;
import java.util.Objects;

/** The key of {@link Counter} and {@link Tally}: a poll and one of its options. */
public class OptionKey implements Serializable {

  public String pollId;
  public String option;

  public OptionKey() {}

  public OptionKey(String pollId, String option) {
    this.pollId = pollId;
    this.option = option;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof OptionKey k && Objects.equals(pollId, k.pollId) && option.equals(k.option);
  }

  @Override
  public int hashCode() {
    return Objects.hash(pollId, option);
  }
}
