package dev.fenced.vote.poll;

import dev.fenced.vote.FencedConfig;
import dev.fenced.vote.api.Fields;
import dev.fenced.vote.api.PollRequest;
import dev.fenced.vote.api.PollView;
import dev.fenced.vote.api.ProblemException;
import dev.fenced.vote.api.Results;
import dev.fenced.vote.db.DbErrors;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.faulttolerance.api.Guard;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.util.TypeLiteral;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Polls and results through Hibernate Reactive (Panache). Every call here may be repeated safely,
 * so transient database failures are retried a few times, each attempt under a time limit.
 */
@ApplicationScoped
public class PollService {

  /** A poll as read or created, and whether this call created it. */
  public record Created(PollView poll, boolean created) {}

  private static final int CACHE_LIMIT = 10_000;

  private final Guard db;

  /** Polls never change once created, so the vote path may keep what it has read. */
  private final Map<String, PollView> known = new ConcurrentHashMap<>();

  PollService(FencedConfig config) {
    this.db =
        Guard.create()
            .withDescription("poll and result queries")
            .withRetry()
            .maxRetries(2)
            .delay(100, ChronoUnit.MILLIS)
            .jitter(50, ChronoUnit.MILLIS)
            .whenException(DbErrors::isTransient)
            .done()
            .withTimeout()
            .duration(config.db().timeout().toMillis(), ChronoUnit.MILLIS)
            .done()
            .build();
  }

  /**
   * Creates the poll with its counters (count 0, fence 0) and its tally watermark in one
   * transaction, or finds the poll with that id.
   *
   * @throws ProblemException 400 for an invalid request, 409 when the id exists with other options
   */
  public Uni<Created> create(PollRequest request) {
    if (request == null) {
      throw ProblemException.badRequest(
          "body", "a JSON object {\"id\",\"title\",\"options\"} is required");
    }
    String id = Fields.id("id", request.id());
    String title = Fields.title("title", request.title());
    List<String> options = Fields.options("options", request.options());
    return guarded(
            () ->
                Panache.withTransaction(() -> insertUnlessPresent(id, title, options))
                    .onFailure(DbErrors::isUniqueViolation)
                    // created by a concurrent request in between: compare with that one
                    .recoverWithUni(() -> read(id).map(p -> new Created(p, false))))
        .map(
            result -> {
              if (!result.created() && !result.poll().options().equals(options)) {
                throw ProblemException.conflict(
                    "options",
                    "poll '"
                        + id
                        + "' exists with options "
                        + result.poll().options()
                        + ", not "
                        + options);
              }
              return result;
            });
  }

  private Uni<Created> insertUnlessPresent(String id, String title, List<String> options) {
    return Poll.<Poll>findById(id)
        .flatMap(
            existing -> {
              if (existing != null) {
                return Uni.createFrom().item(new Created(view(existing), false));
              }
              Poll poll = new Poll();
              poll.id = id;
              poll.title = title;
              poll.options = options.toArray(String[]::new);
              List<Counter> counters = options.stream().map(o -> Counter.zero(id, o)).toList();
              return poll.<Poll>persist()
                  .flatMap(p -> Counter.persist(counters))
                  .flatMap(v -> TallyWatermark.start(id).persist())
                  .map(v -> new Created(view(poll), true));
            });
  }

  /** The poll, or null when there is none. */
  public Uni<PollView> find(String id) {
    PollView cached = known.get(id);
    if (cached != null) {
      return Uni.createFrom().item(cached);
    }
    return guarded(() -> read(id));
  }

  private Uni<PollView> read(String id) {
    return Panache.withSession(() -> Poll.<Poll>findById(id))
        .map(
            poll -> {
              if (poll == null) {
                return null;
              }
              PollView view = view(poll);
              if (known.size() >= CACHE_LIMIT) {
                known.clear();
              }
              known.put(id, view);
              return view;
            });
  }

  /** The poll's numbers, or null when there is no such poll. */
  public Uni<Results> results(String id) {
    return guarded(
        () ->
            Panache.withSession(
                () ->
                    Poll.<Poll>findById(id)
                        .flatMap(
                            poll -> poll == null ? Uni.createFrom().nullItem() : numbers(poll))));
  }

  private Uni<Results> numbers(Poll poll) {
    String id = poll.id;
    Map<String, Long> counts = zeros(poll);
    Map<String, Long> tally = zeros(poll);
    return Counter.<Counter>list("pollId", id)
        .invoke(rows -> rows.forEach(c -> counts.put(c.option, c.votes)))
        .flatMap(rows -> Ballot.count("pollId", id))
        .flatMap(
            ballots ->
                Tally.<Tally>list("pollId", id)
                    .invoke(rows -> rows.forEach(t -> tally.put(t.option, t.votes)))
                    .flatMap(rows -> TallyWatermark.<TallyWatermark>findById(id))
                    .map(
                        mark ->
                            new Results(
                                id, counts, ballots, tally, mark == null ? 0 : mark.tallied)));
  }

  private static Map<String, Long> zeros(Poll poll) {
    Map<String, Long> map = new LinkedHashMap<>();
    for (String option : poll.options) {
      map.put(option, 0L);
    }
    return map;
  }

  private static PollView view(Poll poll) {
    return new PollView(poll.id, poll.title, Arrays.asList(poll.options));
  }

  private <T> Uni<T> guarded(Supplier<Uni<T>> work) {
    return db.get(work, new TypeLiteral<Uni<T>>() {});
  }
}
