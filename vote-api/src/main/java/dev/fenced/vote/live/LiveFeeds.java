package dev.fenced.vote.live;

import dev.fenced.vote.api.Results;
import dev.fenced.vote.poll.PollService;
import io.quarkus.vertx.core.runtime.context.VertxContextSafetyToggle;
import io.smallrye.common.vertx.VertxContext;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.function.Supplier;

/**
 * The live feeds of this replica: a poll's results and a poll's locks, each read once per period
 * while anyone watches that poll here, whatever the number of open pages ({@link SharedFeed}).
 *
 * <p>Settings in {@link LiveConfig}.
 */
@ApplicationScoped
public class LiveFeeds {

  private final SharedFeed<Results> results;
  private final SharedFeed<LocksView> locks;

  private final Vertx vertx;

  LiveFeeds(Vertx vertx, PollService polls, LocksViews views, LiveConfig config) {
    this.vertx = vertx;
    this.results =
        new SharedFeed<>(
            "results of poll",
            id -> onOwnContext(() -> polls.results(id)),
            config.resultsEvery(),
            config.resend());
    this.locks =
        new SharedFeed<>(
            "locks of poll",
            id -> onOwnContext(() -> views.of(id)),
            config.locksEvery(),
            config.resend());
  }

  /** The poll's results as they change. */
  public Multi<Results> results(String pollId) {
    return results.watch(pollId);
  }

  /** The poll's locks as they change. */
  public Multi<LocksView> locks(String pollId) {
    return locks.watch(pollId);
  }

  /** How many polls are watched here now, for results and for locks. */
  public int watchedPolls() {
    return results.watchedKeys() + locks.watchedKeys();
  }

  /**
   * Runs a read on a new Vert.x duplicated context marked safe, which Hibernate Reactive requires;
   * the feed's ticks come from a timer thread or the end of the previous read, not a request.
   */
  private <T> Uni<T> onOwnContext(Supplier<Uni<T>> read) {
    return Uni.createFrom()
        .emitter(
            emitter -> {
              Context context = VertxContext.createNewDuplicatedContext(vertx.getOrCreateContext());
              VertxContextSafetyToggle.setContextSafe(context, true);
              context.runOnContext(
                  v -> {
                    Uni<T> uni;
                    try {
                      uni = read.get();
                    } catch (RuntimeException e) {
                      emitter.fail(e);
                      return;
                    }
                    uni.subscribe().with(emitter::complete, emitter::fail);
                  });
            });
  }
}
