package dev.fenced.loadtest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What the load run saw, written by the simulation and read by the checker.
 *
 * @param poll the poll the run voted in
 * @param baseUrl where the votes went (the ingress)
 * @param voters distinct voters that voted once
 * @param concurrency virtual users voting at the same time
 * @param durationMillis from the first vote sent to the last answer received
 * @param votes answers to first votes (a 503 retried counts once per answer)
 * @param revotes answers to second votes by voters whose first vote was acknowledged (expected:
 *     409)
 * @param ambiguous first votes without a definite answer (no response, 502, 504, 500...): the vote
 *     may or may not have been recorded
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record VoteSummary(
    String poll,
    String baseUrl,
    int voters,
    int concurrency,
    long durationMillis,
    Answers votes,
    Answers revotes,
    List<Ballot> ambiguous) {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public VoteSummary {
    ambiguous = ambiguous == null ? List.of() : List.copyOf(ambiguous);
  }

  /**
   * Answers by status. {@code other} is any other status or no answer at all.
   *
   * @param created 201: recorded and counted
   * @param conflict 409: the voter had already voted
   * @param unavailable 503: the lock could not be had in time, nothing recorded
   * @param other anything else, including connection failures
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Answers(long created, long conflict, long unavailable, long other) {
    public static final Answers NONE = new Answers(0, 0, 0, 0);

    public long total() {
      return created + conflict + unavailable + other;
    }
  }

  /** One vote as sent. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Ballot(String voter, String option) {}

  /** Every 201 answer of the run: first votes and (wrongly) accepted second votes. */
  public long acknowledged() {
    return votes.created() + revotes.created();
  }

  public void write(Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    JSON.writeValue(file.toFile(), this);
  }

  public static VoteSummary read(Path file) throws IOException {
    return JSON.readValue(file.toFile(), VoteSummary.class);
  }

  public static VoteSummary parse(String json) throws IOException {
    return JSON.readValue(json, VoteSummary.class);
  }
}
