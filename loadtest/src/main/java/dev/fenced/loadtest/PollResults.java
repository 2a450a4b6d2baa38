package dev.fenced.loadtest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Map;

/**
 * The answer of {@code GET /api/polls/{id}/results} (design §5).
 *
 * @param poll the poll id
 * @param counts live counters per option (lock-protected read-modify-write)
 * @param ballots recorded ballots, the source of truth
 * @param tally what tally-worker folded from the ballots, per option
 * @param tallied how many ballots tally-worker folded
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PollResults(
    String poll, Map<String, Long> counts, long ballots, Map<String, Long> tally, long tallied) {

  private static final ObjectMapper JSON = new ObjectMapper();

  public PollResults {
    counts = counts == null ? Map.of() : Map.copyOf(counts);
    tally = tally == null ? Map.of() : Map.copyOf(tally);
  }

  public long counted() {
    return counts.values().stream().mapToLong(Long::longValue).sum();
  }

  public long tallySum() {
    return tally.values().stream().mapToLong(Long::longValue).sum();
  }

  /** The tally has folded every recorded ballot (or more, which only a broken tally does). */
  public boolean caughtUp() {
    return tallied >= ballots;
  }

  public static PollResults parse(String json) throws IOException {
    return JSON.readValue(json, PollResults.class);
  }
}
