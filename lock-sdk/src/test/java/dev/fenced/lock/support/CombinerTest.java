package dev.fenced.lock.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.LockTimeoutException;
import dev.fenced.lock.inprocess.InProcessLockService;
import dev.fenced.lock.none.NoLockService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CombinerTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  private final LeaseKeeper keeper = new LeaseKeeper();

  /** Holds handed out by the test, one future per acquire, completed when the test says. */
  private final List<CompletableFuture<String>> acquires =
      Collections.synchronizedList(new ArrayList<>());

  private final List<String> heads = Collections.synchronizedList(new ArrayList<>());
  private final List<String> released = Collections.synchronizedList(new ArrayList<>());

  /** Batches as run, each with a future the test completes. */
  private final List<Run> runs = Collections.synchronizedList(new ArrayList<>());

  private record Run(String hold, List<String> requests, CompletableFuture<List<String>> answer) {}

  @AfterEach
  void close() {
    keeper.close();
  }

  /** A combiner whose acquires and batches the test completes by hand; one batch per hold. */
  private Combiner<String, String, String> manual(int maxBatch) {
    return passing(maxBatch, 1, Set.of());
  }

  /**
   * A combiner whose acquires and batches the test completes by hand, with holds that serve up to
   * {@code perHold} batches while not in {@code ended}.
   */
  private Combiner<String, String, String> passing(int maxBatch, int perHold, Set<String> ended) {
    return new Combiner<>(
        (name, head, wait) -> {
          heads.add(head);
          CompletableFuture<String> hold = new CompletableFuture<>();
          acquires.add(hold);
          return hold;
        },
        (hold, requests) -> {
          CompletableFuture<List<String>> answer = new CompletableFuture<>();
          runs.add(new Run(hold, requests, answer));
          return answer;
        },
        hold -> {
          released.add(hold);
          return CompletableFuture.completedFuture(null);
        },
        maxBatch,
        perHold,
        hold -> !ended.contains(hold),
        keeper);
  }

  private void answer(int run) {
    runs.get(run).answer().complete(answers(runs.get(run).requests()));
  }

  private static List<String> answers(List<String> requests) {
    return requests.stream().map(r -> "answer-" + r).toList();
  }

  @Test
  void anIdleRequestIsServedAtOnceByItsOwnHold() {
    AtomicInteger holds = new AtomicInteger();
    Combiner<String, String, String> combiner =
        new Combiner<>(
            (name, head, wait) ->
                CompletableFuture.completedFuture("hold-" + holds.incrementAndGet()),
            (hold, requests) -> CompletableFuture.completedFuture(answers(requests)),
            hold -> {
              released.add(hold);
              return CompletableFuture.completedFuture(null);
            },
            64,
            keeper);

    CompletableFuture<String> answer = combiner.submit("n", "a", WAIT);

    // Nothing waited for company: answered before submit returned, by one hold of its own.
    assertThat(answer).isCompletedWithValue("answer-a");
    assertThat(released).containsExactly("hold-1");
    assertThat(combiner.queued("n")).isZero();
  }

  @Test
  void requestsQueuedBehindTheAcquireShareOneHoldAndGetTheirOwnAnswersInOrder() {
    Combiner<String, String, String> combiner = manual(64);
    CompletableFuture<String> a = combiner.submit("n", "a", WAIT);
    CompletableFuture<String> b = combiner.submit("n", "b", WAIT);
    CompletableFuture<String> c = combiner.submit("n", "c", WAIT);
    CompletableFuture<String> d = combiner.submit("n", "d", WAIT);
    assertThat(acquires).hasSize(1); // one acquire in flight per queue
    assertThat(heads).containsExactly("a");

    acquires.get(0).complete("hold-1");

    assertThat(runs).hasSize(1);
    assertThat(runs.get(0).requests()).containsExactly("a", "b", "c", "d");
    assertThat(released).isEmpty(); // held while the batch runs
    runs.get(0).answer().complete(answers(runs.get(0).requests()));
    assertThat(a).isCompletedWithValue("answer-a");
    assertThat(b).isCompletedWithValue("answer-b");
    assertThat(c).isCompletedWithValue("answer-c");
    assertThat(d).isCompletedWithValue("answer-d");
    assertThat(released).containsExactly("hold-1");
    assertThat(acquires).hasSize(1); // nothing left: no further acquire
  }

  @Test
  void aBatchHoldsAtMostMaxBatchAndTheRestFormTheNextWhoseAcquireStartsAtOnce() {
    Combiner<String, String, String> combiner = manual(2);
    List<CompletableFuture<String>> answers = new ArrayList<>();
    for (String r : List.of("a", "b", "c", "d", "e")) {
      answers.add(combiner.submit("n", r, WAIT));
    }

    acquires.get(0).complete("hold-1");
    assertThat(runs.get(0).requests()).containsExactly("a", "b");
    // The next head asks for the lock while the first batch still runs: no gap between holds.
    assertThat(acquires).hasSize(2);
    assertThat(heads).containsExactly("a", "c");

    acquires.get(1).complete("hold-2");
    assertThat(runs.get(1).requests()).containsExactly("c", "d");
    acquires.get(2).complete("hold-3");
    assertThat(runs.get(2).requests()).containsExactly("e");
    for (Run run : List.copyOf(runs)) {
      run.answer().complete(answers(run.requests()));
    }

    assertThat(answers).allSatisfy(f -> assertThat(f).isCompleted());
    assertThat(answers.get(4)).isCompletedWithValue("answer-e");
    assertThat(released).containsExactlyInAnyOrder("hold-1", "hold-2", "hold-3");
    assertThat(acquires).hasSize(3);
  }

  @Test
  void aFailedBatchFailsEveryRequestInItAndOnlyThose() {
    Combiner<String, String, String> combiner = manual(2);
    CompletableFuture<String> a = combiner.submit("n", "a", WAIT);
    CompletableFuture<String> b = combiner.submit("n", "b", WAIT);
    CompletableFuture<String> c = combiner.submit("n", "c", WAIT);
    acquires.get(0).complete("hold-1");
    acquires.get(1).complete("hold-2");

    IllegalStateException boom = new IllegalStateException("rolled back");
    runs.get(0).answer().completeExceptionally(boom);
    runs.get(1).answer().complete(answers(runs.get(1).requests()));

    assertThatThrownBy(a::get).hasCause(boom);
    assertThatThrownBy(b::get).hasCause(boom);
    assertThat(c).isCompletedWithValue("answer-c");
    assertThat(released).containsExactlyInAnyOrder("hold-1", "hold-2"); // released after failure
  }

  @Test
  void aBatchThatAnswersTheWrongNumberOfResultsFailsEveryRequest() {
    Combiner<String, String, String> combiner = manual(8);
    CompletableFuture<String> a = combiner.submit("n", "a", WAIT);
    CompletableFuture<String> b = combiner.submit("n", "b", WAIT);
    acquires.get(0).complete("hold-1");

    runs.get(0).answer().complete(List.of("only one"));

    assertThatThrownBy(a::get).hasCauseInstanceOf(IllegalStateException.class);
    assertThatThrownBy(b::get).hasMessageContaining("answered 1 results for 2 requests");
  }

  @Test
  void aFailedAcquireFailsOnlyItsHeadAndTheNextRequestTriesForItself() {
    Combiner<String, String, String> combiner = manual(8);
    CompletableFuture<String> a = combiner.submit("n", "a", WAIT);
    CompletableFuture<String> b = combiner.submit("n", "b", WAIT);
    BackendUnavailableException down =
        new BackendUnavailableException("Test", "n", new RuntimeException("down"));

    acquires.get(0).completeExceptionally(down);

    assertThatThrownBy(a::get).hasCause(down);
    assertThat(b).isNotDone();
    assertThat(heads).containsExactly("a", "b");
    acquires.get(1).complete("hold-2");
    runs.get(0).answer().complete(answers(runs.get(0).requests()));
    assertThat(b).isCompletedWithValue("answer-b");
  }

  @Test
  void aQueuedRequestWhoseWaitPassesFailsWithATimeoutAndIsNotRun() {
    Combiner<String, String, String> combiner = manual(8);
    CompletableFuture<String> a = combiner.submit("n", "a", WAIT);
    CompletableFuture<String> late = combiner.submit("n", "late", Duration.ofMillis(50));

    await().atMost(Duration.ofSeconds(10)).until(late::isDone);
    assertThatThrownBy(late::get).hasCauseInstanceOf(LockTimeoutException.class);
    acquires.get(0).complete("hold-1");

    assertThat(runs.get(0).requests()).containsExactly("a");
    runs.get(0).answer().complete(answers(runs.get(0).requests()));
    assertThat(a).isCompletedWithValue("answer-a");
  }

  @Test
  void theRequestAnAcquireIsInFlightForGetsThatAcquiresAnswerNotItsOwnTimeout() throws Exception {
    Combiner<String, String, String> combiner = manual(8);
    CompletableFuture<String> head = combiner.submit("n", "head", Duration.ofMillis(50));
    CompletableFuture<String> behind = combiner.submit("n", "behind", Duration.ofMillis(50));

    await().atMost(Duration.ofSeconds(10)).until(behind::isDone); // queued: its own deadline
    assertThatThrownBy(behind::get).hasCauseInstanceOf(LockTimeoutException.class);
    Thread.sleep(100); // past the head's deadline too: its acquire decides for it
    assertThat(head).isNotDone();

    acquires.get(0).complete("hold-1");
    runs.get(0).answer().complete(answers(runs.get(0).requests()));
    assertThat(head).isCompletedWithValue("answer-head");
  }

  @Test
  void aCancelledRequestIsWithdrawnAndAHoldNobodyNeedsIsReleasedAtOnce() {
    Combiner<String, String, String> combiner = manual(8);
    CompletableFuture<String> a = combiner.submit("n", "a", WAIT);
    CompletableFuture<String> b = combiner.submit("n", "b", WAIT);
    b.cancel(false);
    acquires.get(0).complete("hold-1");
    assertThat(runs.get(0).requests()).containsExactly("a");
    runs.get(0).answer().complete(answers(runs.get(0).requests()));

    CompletableFuture<String> c = combiner.submit("n", "c", WAIT);
    c.cancel(false);
    acquires.get(1).complete("hold-2");

    assertThat(runs).hasSize(1); // nobody left for hold-2
    assertThat(released).containsExactly("hold-1", "hold-2");
    assertThat(a).isCompletedWithValue("answer-a");
  }

  @Test
  void requestsQueuedWhileABatchRunsAreServedByTheSameHoldUpToTheBound() {
    Combiner<String, String, String> combiner = passing(64, 2, Set.of());
    CompletableFuture<String> a = combiner.submit("n", "a", WAIT);
    acquires.get(0).complete("hold-1");
    CompletableFuture<String> b = combiner.submit("n", "b", WAIT);
    CompletableFuture<String> c = combiner.submit("n", "c", WAIT);
    // The running batch's hold will serve them: no acquire meanwhile.
    assertThat(acquires).hasSize(1);

    answer(0);
    assertThat(a).isCompletedWithValue("answer-a");
    assertThat(runs).hasSize(2);
    assertThat(runs.get(1).hold()).isEqualTo("hold-1");
    assertThat(runs.get(1).requests()).containsExactly("b", "c");
    assertThat(released).isEmpty();

    CompletableFuture<String> d = combiner.submit("n", "d", WAIT);
    answer(1);
    assertThat(b).isCompletedWithValue("answer-b");
    assertThat(c).isCompletedWithValue("answer-c");
    // Two batches served: the hold is released, and d asks for the lock anew.
    assertThat(released).containsExactly("hold-1");
    assertThat(acquires).hasSize(2);
    assertThat(heads).containsExactly("a", "d");

    acquires.get(1).complete("hold-2");
    answer(2);
    assertThat(d).isCompletedWithValue("answer-d");
    assertThat(released).containsExactly("hold-1", "hold-2");
    assertThat(acquires).hasSize(2);
    assertThat(combiner.queued("n")).isZero();
  }

  @Test
  void aHoldThatCannotServeMoreIsFollowedByTheNextAcquireWhileItsBatchRuns() {
    Combiner<String, String, String> combiner = passing(64, 8, Set.of("hold-1"));
    combiner.submit("n", "a", WAIT);
    acquires.get(0).complete("hold-1");
    combiner.submit("n", "b", WAIT);
    // hold-1 serves one batch only (a hold its batch ends, or one without exclusion): the next
    // head asks for the lock at once, as without passing.
    assertThat(heads).containsExactly("a", "b");
    answer(0);
    assertThat(released).containsExactly("hold-1");
    assertThat(runs).hasSize(1);
  }

  @Test
  void aHoldThatEndedOrABatchThatFailedServesNoFurtherBatch() {
    Set<String> ended = new java.util.HashSet<>();
    Combiner<String, String, String> combiner = passing(64, 8, ended);
    combiner.submit("n", "a", WAIT);
    acquires.get(0).complete("hold-1");
    CompletableFuture<String> b = combiner.submit("n", "b", WAIT);
    assertThat(heads).containsExactly("a");
    ended.add("hold-1"); // its lease ran out while the batch ran

    answer(0);
    // hold-1 is no longer held: released, and b waits for a hold of its own.
    assertThat(released).containsExactly("hold-1");
    assertThat(runs).hasSize(1);
    assertThat(heads).containsExactly("a", "b");

    acquires.get(1).complete("hold-2");
    CompletableFuture<String> c = combiner.submit("n", "c", WAIT);
    runs.get(1).answer().completeExceptionally(new IllegalStateException("rolled back"));
    assertThat(b).isCompletedExceptionally();
    // A failed batch ends its hold even though it is still held; c asks anew.
    assertThat(released).containsExactly("hold-1", "hold-2");
    assertThat(heads).containsExactly("a", "b", "c");
    acquires.get(2).complete("hold-3");
    answer(2);
    assertThat(c).isCompletedWithValue("answer-c");
  }

  @Test
  void groupsOfOneNameNeverShareABatch() {
    Combiner<String, String, String> combiner = manual(8);
    combiner.submit("n", "x", "x1", WAIT);
    combiner.submit("n", "y", "y1", WAIT);
    combiner.submit("n", "x", "x2", WAIT);
    combiner.submit("n", "y", "y2", WAIT);

    assertThat(acquires).hasSize(2);
    acquires.get(0).complete("hold-x");
    acquires.get(1).complete("hold-y");

    assertThat(runs.get(0).requests()).containsExactly("x1", "x2");
    assertThat(runs.get(1).requests()).containsExactly("y1", "y2");
  }

  @Test
  void badArgumentsNameTheField() {
    Combiner<String, String, String> combiner = manual(8);
    assertThatThrownBy(() -> combiner.submit(" ", "a", WAIT)).hasMessageContaining("name");
    assertThatThrownBy(() -> combiner.submit("n", "a", Duration.ofMillis(-1)))
        .hasMessageContaining("maxWait");
    assertThatThrownBy(
            () ->
                new Combiner<String, String, String>(
                    (n, h, w) -> null, (h, r) -> null, h -> null, 0, keeper))
        .hasMessageContaining("maxBatch");
  }

  /**
   * A read-then-write counter under a real in-process lock, 16 threads: exact, with fewer holds
   * than requests. The same workload under the None backend loses increments, so the exact count is
   * the lock's doing and not the harness's.
   */
  @Test
  void combinedHoldsKeepAReadThenWriteCounterExactAndWithoutALockItLosesUpdates() throws Exception {
    LockSettings settings =
        new LockSettings(
            Duration.ofSeconds(10),
            Duration.ofSeconds(3),
            Duration.ofSeconds(30),
            LockSettings.Fencing.OPTIONAL,
            0);
    int requests = 4_000;
    try (InProcessLockService locked = new InProcessLockService(settings, keeper);
        NoLockService none = new NoLockService(settings, keeper)) {
      Counted exact = count(locked, requests);
      assertThat(exact.value()).isEqualTo(requests);
      assertThat(exact.holds()).isLessThan(requests);

      Counted racy = count(none, requests);
      assertThat(racy.value()).isLessThan(requests);

      // Holds that serve several batches in a row: still exact, with fewer holds.
      Counted passed = count(locked, requests, 4);
      assertThat(passed.value()).isEqualTo(requests);
    }
  }

  private record Counted(long value, int holds) {}

  private Counted count(dev.fenced.lock.LockService locks, int requests) throws Exception {
    return count(locks, requests, 1);
  }

  private Counted count(dev.fenced.lock.LockService locks, int requests, int perHold)
      throws Exception {
    AtomicLong counter = new AtomicLong();
    AtomicInteger holds = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(16);
    // Each batch reads, yields the processor, then writes back read + batch size: the lost update
    // of a read-modify-write, unless one hold at a time runs.
    Combiner<LockHandle, Integer, Long> combiner =
        new Combiner<>(
            (name, head, wait) -> locks.acquire(name, wait),
            (hold, batch) ->
                CompletableFuture.supplyAsync(
                    () -> {
                      holds.incrementAndGet();
                      long read = counter.get();
                      Thread.yield();
                      sleepQuietly();
                      counter.set(read + batch.size());
                      List<Long> answers = new ArrayList<>();
                      for (int i = 0; i < batch.size(); i++) {
                        answers.add(read + i + 1);
                      }
                      return answers;
                    },
                    pool),
            LockHandle::release,
            64,
            perHold,
            LockHandle::isHeld,
            keeper);
    ConcurrentLinkedQueue<CompletableFuture<Long>> all = new ConcurrentLinkedQueue<>();
    ExecutorService clients = Executors.newFixedThreadPool(16);
    try {
      for (int i = 0; i < requests; i++) {
        int n = i;
        clients.execute(() -> all.add(combiner.submit("counter", n, WAIT)));
      }
      clients.shutdown();
      assertThat(clients.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
      for (CompletionStage<Long> answer : all) {
        try {
          answer.toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          throw new AssertionError("a request failed", e.getCause());
        }
      }
    } finally {
      pool.shutdownNow();
    }
    return new Counted(counter.get(), holds.get());
  }

  private static void sleepQuietly() {
    try {
      Thread.sleep(0, 200_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
