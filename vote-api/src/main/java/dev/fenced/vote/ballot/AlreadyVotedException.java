package dev.fenced.vote.ballot;

/** The voter has a ballot in this poll already; the transaction recorded nothing. */
public final class AlreadyVotedException extends RuntimeException {
  public AlreadyVotedException(String poll, String voter) {
    super("voter '" + voter + "' has already voted in poll '" + poll + "'", null, false, false);
  }
}
