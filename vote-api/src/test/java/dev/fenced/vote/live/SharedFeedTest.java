package dev.fenced.vote.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.helpers.test.AssertSubscriber;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SharedFeedTest {

  private static final Duration EVERY = Duration.ofMillis(20);
  private static final Duration LONG = Duration.ofHours(1);

  @Test
  void watchersOfOneKeyShareItsReads() {
    AtomicLong counter = new AtomicLong();
    // Every read gives a new value, so every read reaches every watcher.
    SharedFeed<Long> feed =
        new SharedFeed<>(
            "counter", key -> Uni.createFrom().item(counter::incrementAndGet), EVERY, LONG);
    List<AssertSubscriber<Long>> watchers = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      watchers.add(feed.watch("a").subscribe().withSubscriber(AssertSubscriber.create(1000)));
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> watchers.stream().allMatch(w -> w.getItems().size() >= 10));
    long reads = feed.reads();
    watchers.forEach(AssertSubscriber::cancel);

    // One reader per key: 20 watchers seeing 10 values each cost about 10 reads. A reader per
    // watcher would have made about 200.
    assertThat(reads).isLessThan(20);
    assertThat(feed.watchedKeys()).isZero();
    // Every watcher saw the same, rising sequence.
    for (AssertSubscriber<Long> w : watchers) {
      assertThat(w.getItems()).isSorted().doesNotHaveDuplicates();
    }
  }

  @Test
  void eachKeyHasItsOwnReader() {
    List<String> keysRead = new java.util.concurrent.CopyOnWriteArrayList<>();
    SharedFeed<String> feed =
        new SharedFeed<>(
            "echo",
            key -> {
              keysRead.add(key);
              return Uni.createFrom().item(key);
            },
            EVERY,
            LONG);
    AssertSubscriber<String> a =
        feed.watch("a").subscribe().withSubscriber(AssertSubscriber.create(10));
    AssertSubscriber<String> b =
        feed.watch("b").subscribe().withSubscriber(AssertSubscriber.create(10));
    a.awaitItems(1);
    b.awaitItems(1);
    assertThat(a.getItems()).containsExactly("a");
    assertThat(b.getItems()).containsExactly("b");
    assertThat(feed.watchedKeys()).isEqualTo(2);
    a.cancel();
    assertThat(feed.watchedKeys()).isEqualTo(1);
    b.cancel();
    assertThat(feed.watchedKeys()).isZero();
  }

  @Test
  void anUnchangedValueIsSentOnceUntilItIsDue() {
    AtomicLong reads = new AtomicLong();
    SharedFeed<String> feed =
        new SharedFeed<>(
            "same",
            key -> {
              reads.incrementAndGet();
              return Uni.createFrom().item("same");
            },
            EVERY,
            LONG);
    AssertSubscriber<String> w =
        feed.watch("k").subscribe().withSubscriber(AssertSubscriber.create(10));
    await().atMost(Duration.ofSeconds(20)).until(() -> reads.get() >= 10);
    assertThat(w.getItems()).containsExactly("same");
    w.cancel();
  }

  @Test
  void anUnchangedValueIsSentAgainWhenDue() {
    AtomicLong clock = new AtomicLong();
    AtomicLong reads = new AtomicLong();
    SharedFeed<String> feed =
        new SharedFeed<>(
            "same",
            key -> {
              reads.incrementAndGet();
              return Uni.createFrom().item("same");
            },
            EVERY,
            Duration.ofSeconds(15),
            clock::get);
    AssertSubscriber<String> w =
        feed.watch("k").subscribe().withSubscriber(AssertSubscriber.create(10));
    w.awaitItems(1);
    clock.addAndGet(Duration.ofSeconds(16).toNanos());
    w.awaitItems(2);
    assertThat(w.getItems()).containsExactly("same", "same");
    w.cancel();
  }

  @Test
  void aFailedReadIsSkippedAndTheNextOneDelivered() {
    AtomicLong reads = new AtomicLong();
    SharedFeed<Long> feed =
        new SharedFeed<>(
            "flaky",
            key -> {
              long n = reads.incrementAndGet();
              return n % 2 == 1
                  ? Uni.createFrom().failure(new IllegalStateException("read " + n + " failed"))
                  : Uni.createFrom().item(n);
            },
            EVERY,
            LONG);
    AssertSubscriber<Long> w =
        feed.watch("k").subscribe().withSubscriber(AssertSubscriber.create(10));
    w.awaitItems(3);
    w.cancel();
    // Only the reads that worked, in order; the failures ended nothing.
    assertThat(w.getItems()).startsWith(2L, 4L, 6L).allMatch(n -> n % 2 == 0);
    assertThat(w.getFailure()).isNull();
  }

  @Test
  void readingStopsWithTheLastWatcherAndStartsAgainWithTheNext() {
    AtomicLong reads = new AtomicLong();
    SharedFeed<Long> feed =
        new SharedFeed<>(
            "counter", key -> Uni.createFrom().item(reads::incrementAndGet), EVERY, LONG);
    AssertSubscriber<Long> first =
        feed.watch("k").subscribe().withSubscriber(AssertSubscriber.create(1000));
    first.awaitItems(3);
    first.cancel();
    long afterCancel = reads.get();
    await().pollDelay(EVERY.multipliedBy(10)).atMost(Duration.ofSeconds(5)).until(() -> true);
    // At most a read already under way when the watcher left.
    assertThat(reads.get()).isLessThanOrEqualTo(afterCancel + 1);

    AssertSubscriber<Long> next =
        feed.watch("k").subscribe().withSubscriber(AssertSubscriber.create(1000));
    next.awaitItems(3);
    next.cancel();
    assertThat(next.getItems().get(0)).isGreaterThan(afterCancel - 1);
  }
}
