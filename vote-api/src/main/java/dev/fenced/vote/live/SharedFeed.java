package dev.fenced.vote.live;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.jboss.logging.Logger;

/**
 * One periodic reader per key, shared by everyone watching that key in this process.
 *
 * <p>While at least one subscriber watches a key, the key is read once per {@code every} (a read
 * still running when the next tick comes delays nothing: that tick is dropped), and each result is
 * broadcast to every watcher. So the cost is one read per key per period however many pages are
 * open. When the last watcher leaves, the reading stops and the key is forgotten.
 *
 * <p>Each watcher gets the first value within about one period, and after that only values that
 * differ from the last one it was sent ({@link Object#equals}), except that an unchanged value is
 * sent again once {@code resend} has passed, which keeps idle connections (and the proxies in
 * between) alive. A failed read is logged and skipped; the next tick tries again.
 *
 * @param <T> what is read; compared with {@code equals}, so a record of plain values works
 */
public final class SharedFeed<T> {

  private static final Logger LOG = Logger.getLogger(SharedFeed.class);

  private final String what;
  private final Function<String, Uni<T>> read;
  private final Duration every;
  private final Duration resend;
  private final LongSupplier nanoTime;
  private final Map<String, Feed> feeds = new ConcurrentHashMap<>();
  private final AtomicLong reads = new AtomicLong();

  /** One key's shared reading and the number of subscribers watching it. */
  private final class Feed {
    final Multi<T> shared;
    int watchers;
    volatile boolean failing;

    Feed(String key) {
      this.shared =
          Multi.createFrom()
              .ticks()
              .startingAfter(Duration.ofMillis(1))
              .every(every)
              .onOverflow()
              .drop()
              .onItem()
              .transformToUniAndConcatenate(tick -> readOnce(key, this))
              .broadcast()
              .withCancellationAfterLastSubscriberDeparture()
              .toAllSubscribers();
    }
  }

  /**
   * @param what what is read, for the log
   * @param read reads a key's current value; null (no such key now) is skipped
   * @param every how often a watched key is read
   * @param resend after how long an unchanged value is sent again
   */
  public SharedFeed(String what, Function<String, Uni<T>> read, Duration every, Duration resend) {
    this(what, read, every, resend, System::nanoTime);
  }

  SharedFeed(
      String what,
      Function<String, Uni<T>> read,
      Duration every,
      Duration resend,
      LongSupplier nanoTime) {
    this.what = Objects.requireNonNull(what, "what");
    this.read = Objects.requireNonNull(read, "read");
    this.every = positive("every", every);
    this.resend = positive("resend", resend);
    this.nanoTime = nanoTime;
  }

  private static Duration positive(String field, Duration value) {
    if (value == null || value.isZero() || value.isNegative()) {
      throw new IllegalArgumentException(field + " must be a positive duration, was " + value);
    }
    return value;
  }

  /**
   * The values of {@code key} as they change, for as long as the subscriber stays. Reading starts
   * with the first watcher of the key and stops when the last one cancels.
   */
  public Multi<T> watch(String key) {
    Objects.requireNonNull(key, "key");
    return Multi.createFrom()
        .deferred(
            () -> {
              Feed feed =
                  feeds.compute(
                      key,
                      (k, f) -> {
                        Feed joined = f == null ? new Feed(k) : f;
                        joined.watchers++;
                        return joined;
                      });
              return feed.shared
                  .select()
                  .where(new ChangedOrDue<>(resend.toNanos(), nanoTime))
                  .onTermination()
                  .invoke(() -> leave(key, feed));
            });
  }

  private void leave(String key, Feed feed) {
    feeds.computeIfPresent(key, (k, f) -> f != feed || --f.watchers > 0 ? f : null);
  }

  /** How many keys are watched now. */
  public int watchedKeys() {
    return feeds.size();
  }

  /** How many reads were made so far. */
  public long reads() {
    return reads.get();
  }

  private Uni<T> readOnce(String key, Feed feed) {
    reads.incrementAndGet();
    Uni<T> value;
    try {
      value = read.apply(key);
    } catch (RuntimeException e) {
      value = Uni.createFrom().failure(e);
    }
    return value
        .invoke(
            v -> {
              if (feed.failing) {
                feed.failing = false;
                LOG.infof("reading %s %s works again", what, key);
              }
            })
        .onFailure()
        .recoverWithItem(
            failure -> {
              // Once per run of failures, not once per tick.
              if (!feed.failing) {
                feed.failing = true;
                LOG.warnf(
                    "reading %s %s failed; trying again every %s: %s", what, key, every, failure);
              } else {
                LOG.debugf("reading %s %s failed again: %s", what, key, failure);
              }
              return null;
            });
  }

  /** Lets a value through when it differs from the last one let through, or when it is due. */
  private static final class ChangedOrDue<T> implements Predicate<T> {
    private final long resendNanos;
    private final LongSupplier nanoTime;
    private boolean sent;
    private T last;
    private long lastAt;

    ChangedOrDue(long resendNanos, LongSupplier nanoTime) {
      this.resendNanos = resendNanos;
      this.nanoTime = nanoTime;
    }

    @Override
    public synchronized boolean test(T value) {
      long now = nanoTime.getAsLong();
      if (sent && value.equals(last) && now - lastAt < resendNanos) {
        return false;
      }
      sent = true;
      last = value;
      lastAt = now;
      return true;
    }
  }
}
