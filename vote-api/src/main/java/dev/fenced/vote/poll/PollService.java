package dev.fenced.vote.poll;

import dev.fenced.vote.api.Fields;
import dev.fenced.vote.api.PollRequest;
import dev.fenced.vote.api.PollView;
import dev.fenced.vote.api.ProblemException;
import dev.fenced.vote.db.DbErrors;
import dev.fenced.vote.db.DbGuard;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Polls through Hibernate Reactive (Panache). Every call here may be repeated safely, so transient
 * database failures are retried a few times, each attempt under a time limit ({@link DbGuard}).
 * Results are read by {@link ResultsReader}.
 */
@ApplicationScoped
public class PollService {

  /** A poll as read or created, and whether this call created it. */
  public record Created(PollView poll, boolean created) {}

  private static final int CACHE_LIMIT = 10_000;

  private final DbGuard db;
  private final ResultsReader results;

  /** Polls never change once created, so the vote path may keep what it has read. */
  private final Map<String, PollView> known = new ConcurrentHashMap<>();

  PollService(DbGuard db, ResultsReader results) {
    this.db = db;
    this.results = results;
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
                  .map(v -> new Created(view(poll), true))
                  // a "no such poll" read a moment ago must not outlive the poll's creation
                  .invoke(() -> results.changed(id));
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

  private static PollView view(Poll poll) {
    return new PollView(poll.id, poll.title, Arrays.asList(poll.options));
  }

  private <T> Uni<T> guarded(Supplier<Uni<T>> work) {
    return db.call(work);
  }
}
