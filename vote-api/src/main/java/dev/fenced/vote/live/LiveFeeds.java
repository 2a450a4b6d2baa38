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
import java.time.Duration;
import java.util.function.Supplier;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The live feeds of this replica: a poll's results and a poll's locks, each read once per period
 * while anyone watches that poll here, whatever the number of open pages ({@link SharedFeed}).
 *
 * <p>Settings: {@code fenced.live.results-every} (300ms), {@code fenced.live.locks-every} (500ms),
 * {@code fenced.live.resend} (15s: an unchanged value is sent again this often, which keeps idle
 * streams open through proxies with a read timeout).
 */
@ApplicationScoped
public class LiveFeeds {

  private final SharedFeed<Results> results;
  private final SharedFeed<LocksView> locks;

  private final Vertx vertx;

  LiveFeeds(
      Vertx vertx,
      PollService polls,
      LocksViews views,
      @ConfigProperty(name = "fenced.live.results-every", defaultValue = "300ms")
          Duration resultsEvery,
      @ConfigProperty(name = "fenced.live.locks-every", defaultValue = "500ms") Duration locksEvery,
      @ConfigProperty(name = "fenced.live.resend", defaultValue = "15s") Duration resend) {
    this.vertx = vertx;
    this.results =
        new SharedFeed<>(
            "results of poll", id -> onOwnContext(() -> polls.results(id)), resultsEvery, resend);
    this.locks =
        new SharedFeed<>(
            "locks of poll", id -> onOwnContext(() -> views.of(id)), locksEvery, resend);
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
