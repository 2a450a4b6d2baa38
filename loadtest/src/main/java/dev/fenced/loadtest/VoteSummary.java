package dev.fenced.loadtest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What the load run saw, written by the simulation and read by the checker. The measured phase is
 * the closed loop (a fixed number of voters from a fixed number of virtual users); the warm-up
 * before it is not counted; the capacity phase after it, on the same poll, is summarised apart.
 *
 * @param poll the poll the run voted in
 * @param baseUrl where the votes went (the ingress)
 * @param voters distinct voters that voted once in the closed loop
 * @param concurrency virtual users voting at the same time
 * @param startedAtMillis when the first measured vote was sent (epoch milliseconds)
 * @param endedAtMillis when the last answer of the closed loop came (epoch milliseconds)
 * @param durationMillis from the first vote sent to the last answer received
 * @param votes answers to first votes (a 503 retried counts once per answer)
 * @param revotes answers to second votes by voters whose first vote was acknowledged (expected:
 *     409)
 * @param refused voters whose last answer was 503 after every retry: refused, nothing recorded
 * @param latency response times of the first votes' answers (every attempt)
 * @param ambiguous first votes without a definite answer (no response, 502, 504, 500...): the vote
 *     may or may not have been recorded
 * @param acks every 201 answer of the run (closed loop and capacity phase) by option, as {@code
 *     [count, fence]} pairs: the option's count after the vote and the fencing token it was written
 *     with
 * @param tallyLagMillis from the end of the closed loop until the poll's tally had folded every
 *     ballot; -1 when it did not within the run's wait, null when not measured
 * @param lockStats the vote-api replicas' lock meters over the closed loop, null when not read
 * @param capacity the open-model capacity phase, null when not run
 * @param otherStatuses the answers counted as {@code other} in every measured phase, by status
 *     ({@code "none"}: no answer at all), to tell timeouts from errors
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record VoteSummary(
    String poll,
    String baseUrl,
    int voters,
    int concurrency,
    long startedAtMillis,
    long endedAtMillis,
    long durationMillis,
    Answers votes,
    Answers revotes,
    long refused,
    Latencies.Percentiles latency,
    List<Ballot> ambiguous,
    Map<String, List<long[]>> acks,
    Long tallyLagMillis,
    LockStats lockStats,
    Capacity capacity,
    Map<String, Long> otherStatuses) {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public VoteSummary {
    votes = votes == null ? Answers.NONE : votes;
    revotes = revotes == null ? Answers.NONE : revotes;
    latency = latency == null ? Latencies.Percentiles.NONE : latency;
    ambiguous = ambiguous == null ? List.of() : List.copyOf(ambiguous);
    acks = acks == null ? Map.of() : Map.copyOf(acks);
    otherStatuses = otherStatuses == null ? Map.of() : Map.copyOf(otherStatuses);
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

  /**
   * The capacity phase: rising constant arrival rates of fresh voters (open model), one level after
   * the other, stopped after {@link #MISSES_TO_STOP} levels in a row missed the objective.
   *
   * @param slo what a level had to meet
   * @param levelSeconds how long each level injected votes
   * @param levels the levels run, in rising order
   * @param ambiguous votes of this phase without a definite answer
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Capacity(Slo slo, int levelSeconds, List<Level> levels, List<Ballot> ambiguous) {
    /**
     * Levels in a row that must miss before the ladder stops. At 25 votes/s a level of 4 s has 100
     * votes, so its p99 is its second-slowest answer, and one stall of a few hundred milliseconds
     * (a collection, a checkpoint) misses it; an overload misses the level above too.
     */
    public static final int MISSES_TO_STOP = 2;

    public Capacity {
      levels = levels == null ? List.of() : List.copyOf(levels);
      ambiguous = ambiguous == null ? List.of() : List.copyOf(ambiguous);
    }

    /** 201 answers of every level. */
    public long created() {
      return levels.stream().mapToLong(l -> l.answers().created()).sum();
    }

    /** The highest arrival rate met; empty when no level was. */
    public java.util.OptionalDouble atSlo() {
      return levels.stream().filter(l -> l.miss() == null).mapToDouble(Level::rate).max();
    }

    /** Rates below {@link #atSlo()} whose level missed on its own, the level above it met. */
    public List<Double> missedBelow() {
      double at = atSlo().orElse(Double.NEGATIVE_INFINITY);
      return levels.stream()
          .filter(l -> l.miss() != null && l.rate() < at)
          .map(Level::rate)
          .toList();
    }

    /**
     * The last level run met the objective, so the ladder ran out of rates: the capacity is at
     * least the highest rate tried.
     */
    public boolean ceilingReached() {
      return !levels.isEmpty() && levels.get(levels.size() - 1).miss() == null;
    }
  }

  /**
   * One capacity level.
   *
   * @param rate votes per second offered (new voters arriving, whatever the answers)
   * @param sent votes sent
   * @param answers their answers by status
   * @param latency their response times
   * @param miss why the level missed the objective; null when it met it
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Level(
      double rate, long sent, Answers answers, Latencies.Percentiles latency, String miss) {}

  /** Every 201 answer of the run: first votes, (wrongly) accepted second votes, capacity votes. */
  public long acknowledged() {
    return votes.created() + revotes.created() + (capacity == null ? 0 : capacity.created());
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
