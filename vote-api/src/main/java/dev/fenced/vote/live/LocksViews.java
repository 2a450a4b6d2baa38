package dev.fenced.vote.live;

import dev.fenced.lock.FencingTokens;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.policy.PolicyConditions;
import dev.fenced.lock.policy.PolicyLocks;
import dev.fenced.lock.policy.PolicyLocks.ActivePolicy;
import dev.fenced.lock.policy.PolicyProblem;
import dev.fenced.lock.policy.v1alpha1.LockPolicy;
import dev.fenced.vote.api.PollView;
import dev.fenced.vote.live.LocksView.OptionLock;
import dev.fenced.vote.live.LocksView.PolicyView;
import dev.fenced.vote.poll.PollService;
import io.fabric8.kubernetes.api.model.Condition;
import io.smallrye.mutiny.Uni;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Builds a poll's {@link LocksView}: the policies from this replica's {@link PolicyLocks}, the
 * fences from the {@code counters} table, the numbers from this replica's metrics.
 */
@ApplicationScoped
public class LocksViews {

  /** The newest fencing token that wrote each of the poll's counters. */
  static final String FENCES = "SELECT option, fence FROM counters WHERE poll_id = $1";

  private final PollService polls;
  private final PolicyLocks locks;
  private final Pool pool;
  private final LockMetricsReader metrics;
  private final Replica replica;

  LocksViews(
      PollService polls, PolicyLocks locks, Pool pool, LockMetricsReader metrics, Replica replica) {
    this.polls = polls;
    this.locks = locks;
    this.pool = pool;
    this.metrics = metrics;
    this.replica = replica;
  }

  /** The poll's locks now, or null when there is no such poll. */
  public Uni<LocksView> of(String pollId) {
    return polls
        .find(pollId)
        .chain(
            poll ->
                poll == null
                    ? Uni.createFrom().nullItem()
                    : fences(pollId).map(f -> view(poll, f)));
  }

  private Uni<Map<String, Long>> fences(String pollId) {
    return Uni.createFrom()
        .completionStage(
            () -> pool.preparedQuery(FENCES).execute(Tuple.of(pollId)).toCompletionStage())
        .map(
            rows -> {
              Map<String, Long> out = new HashMap<>();
              for (Row row : rows) {
                out.put(row.getString(0), row.getLong(1));
              }
              return out;
            });
  }

  private LocksView view(PollView poll, Map<String, Long> fences) {
    List<OptionLock> options = new ArrayList<>();
    Map<String, ActivePolicy> governing = new LinkedHashMap<>();
    for (String option : poll.options()) {
      // The counter lock's name, as the vote path takes it (design §5).
      String lock = "vote:" + poll.id() + ":" + option;
      Optional<ActivePolicy> policy = locks.resolve(lock);
      policy.ifPresent(p -> governing.putIfAbsent(p.ref().toString(), p));
      long fence = fences.getOrDefault(option, 0L);
      options.add(
          new OptionLock(
              option,
              lock,
              policy.map(p -> p.ref().toString()).orElse(null),
              fence,
              FencingTokens.epoch(fence),
              FencingTokens.counter(fence)));
    }
    List<PolicyView> policies = governing.values().stream().map(this::policy).toList();
    List<String> problems = locks.problems().stream().map(PolicyProblem::toString).toList();
    return new LocksView(poll.id(), replica.name(), options, policies, metrics.votes(), problems);
  }

  private PolicyView policy(ActivePolicy active) {
    LockPolicy policy = active.policy();
    LockSettings settings = active.settings();
    String backend = active.service().backend();
    Optional<Condition> ready = PolicyConditions.find(policy, PolicyConditions.READY);
    return new PolicyView(
        active.ref().toString(),
        backend,
        settings.epoch(),
        ready.map(Condition::getStatus).orElse(null),
        ready.map(Condition::getReason).orElse(null),
        ready.map(Condition::getMessage).orElse(null),
        List.copyOf(policy.getSpec().getLockNames()),
        text(settings.maxWait()),
        text(settings.leaseDuration()),
        settings.fencing() == LockSettings.Fencing.REQUIRED ? "Required" : "Optional",
        metrics.forBackend(backend, active.ref()));
  }

  /** A duration as a policy spells it: {@code 2s}, {@code 300ms}. */
  static String text(Duration d) {
    long millis = d.toMillis();
    return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
  }
}
