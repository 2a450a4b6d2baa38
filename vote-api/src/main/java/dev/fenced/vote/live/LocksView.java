package dev.fenced.vote.live;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * The locks behind one poll as one replica sees them: which LockPolicy governs each option's lock
 * {@code vote:{poll}:{option}} and the newest fencing token in its counter row, and, per policy in
 * force, this replica's own lock metrics since it started. Values this replica has no series for
 * yet are null (the page shows "—"), never zero made up.
 *
 * @param poll the poll id
 * @param replica the replica that answered (metrics differ per replica)
 * @param locks one per option, in the poll's order
 * @param policies the policies governing those locks
 * @param votes this replica's vote requests by outcome ({@code fenced.votes}), all polls
 * @param problems policies the service could not accept, or backend moves it refused
 */
public record LocksView(
    String poll,
    String replica,
    List<OptionLock> locks,
    List<PolicyView> policies,
    Map<String, Long> votes,
    List<String> problems) {

  /**
   * One option's lock.
   *
   * @param option the option
   * @param lock the lock name
   * @param policy the governing policy ({@code namespace/name}), null when none governs it
   * @param fence the newest fencing token that wrote the option's counter (0: never written)
   * @param fenceEpoch the policy epoch in that token's high bits
   * @param fenceCounter the backend's own counter in its low bits
   */
  public record OptionLock(
      String option, String lock, String policy, long fence, long fenceEpoch, long fenceCounter) {}

  /**
   * A LockPolicy in force.
   *
   * @param ref {@code namespace/name}
   * @param backend the backend as the lock service names it ({@code Redis}, {@code
   *     Postgres/LockTable}, ...)
   * @param epoch the fencing epoch, raised with every move to another backend
   * @param ready the {@code Ready} condition's status ("True", "False", "Unknown"), null without
   * @param readyReason its reason
   * @param readyMessage its message
   * @param lockNames the lock name patterns the policy governs
   * @param maxWait the longest an acquire waits
   * @param leaseDuration how long a hold lasts without renewal
   * @param fencing Required or Optional
   * @param metrics this replica's series for this policy's backend
   */
  public record PolicyView(
      String ref,
      String backend,
      long epoch,
      String ready,
      String readyReason,
      String readyMessage,
      List<String> lockNames,
      String maxWait,
      String leaseDuration,
      String fencing,
      Metrics metrics) {}

  /**
   * A backend's lock metrics on this replica since it started; null where no series exists yet.
   *
   * @param waitAcquired lock wait of the acquires that got the lock ({@code fenced.lock.wait})
   * @param failedAcquires acquires that gave up ({@code fenced.lock.wait}, outcome failed)
   * @param hold how long holds lasted ({@code fenced.lock.hold})
   * @param votesPerHold votes served per hold ({@code fenced.lock.batch.votes})
   * @param fenceRejections counter writes refused by the fence ({@code fenced.fence.rejections})
   */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record Metrics(
      Latency waitAcquired,
      Long failedAcquires,
      Latency hold,
      PerHold votesPerHold,
      Long fenceRejections) {}

  /**
   * A timer's count and estimated quantiles in milliseconds (null when it has no buckets).
   *
   * @param count how many were recorded
   * @param p50Ms the median
   * @param p99Ms the 99th percentile
   */
  public record Latency(long count, Double p50Ms, Double p99Ms) {}

  /**
   * Votes per hold.
   *
   * @param holds how many holds were counted
   * @param mean votes per hold on average
   * @param p50 the median, null without histogram buckets
   * @param p99 the 99th percentile, null without histogram buckets
   */
  public record PerHold(long holds, double mean, Double p50, Double p99) {}
}
