package dev.fenced.operator;

import dev.fenced.lock.BackendProbe;
import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.ledger.BackendLedger;
import dev.fenced.lock.ledger.Epochs;
import dev.fenced.lock.ledger.Incarnation;
import dev.fenced.lock.ledger.LedgerEntry;
import dev.fenced.lock.policy.v1alpha1.LockPolicyStatus;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The fencing epoch and what it belongs to: reads the backend's incarnation and ledger, decides by
 * {@link Epochs#forOperator} (a new policy starts above every epoch the ledger records; a move or a
 * backend incident raises it), records the policy's entry in the ledger, and puts epoch, identity
 * and incarnation into status. A raise is announced with an Event (a Warning when the backend had
 * an incident).
 *
 * <p>It runs on every pass, so the periodic recheck of a Ready policy is also the operator's check
 * of its backend's incarnation. The highest progress seen of each policy's backend (the etcd
 * revision) is kept in memory, to notice a restore that keeps the cluster id.
 */
final class EpochStep implements ReconcileStep {

  private final BackendCalls calls;
  private final PolicyEvents events;

  /** Highest incarnation progress seen, by policy uid. */
  private final Map<String, Long> progress = new ConcurrentHashMap<>();

  EpochStep(BackendCalls calls, PolicyEvents events) {
    this.calls = calls;
    this.events = events;
  }

  /**
   * The epoch of a backend with no ledger (InProcess, None): the first identity gets epoch 1; an
   * identity other than the recorded one raises it by one; an epoch without a recorded identity
   * (written by hand or cut short) is raised by one too, since a larger epoch is always safe and a
   * smaller one never is.
   */
  static long withoutBackend(LockPolicyStatus status, String identity) {
    Long epoch = status.getEpoch();
    if (epoch == null || epoch < 1) {
      return 1;
    }
    if (status.getBackendIdentity() == null || !status.getBackendIdentity().equals(identity)) {
      return epoch + 1;
    }
    return epoch;
  }

  @Override
  public Outcome run(Pass pass) {
    BackendLedger ledger =
        pass.service
            .ledger()
            .orElseThrow(
                () -> new IllegalStateException(pass.service.backend() + " keeps no ledger"));
    LockPolicyStatus before = pass.before;
    boolean sameBackend = pass.identity.equals(before.getBackendIdentity());
    if (!sameBackend) {
      progress.remove(pass.uid);
    }
    long seen = progress.getOrDefault(pass.uid, -1L);
    String key = pass.ref.toString();
    long generation = pass.policy.getMetadata().getGeneration();
    AtomicReference<Epochs.Decision> decided = new AtomicReference<>();
    Incarnation now;
    try {
      now = calls.await(ledger.incarnation());
      Incarnation current = now;
      calls.await(
          ledger.update(
              l -> {
                LedgerEntry entry = l.entry(key).orElse(null);
                Epochs.Decision d = alreadyDecided(entry, pass, current);
                if (d == null) {
                  d =
                      Epochs.forOperator(
                          before.getEpoch(),
                          before.getBackendIdentity(),
                          before.getBackendIncarnation(),
                          pass.identity,
                          l,
                          key,
                          current,
                          seen);
                }
                decided.set(d);
                LedgerEntry wanted =
                    LedgerEntry.adopted(
                        pass.uid, pass.service.backend(), generation, d.epoch(), current);
                boolean unchanged =
                    entry != null
                        && !entry.retired()
                        && entry.uid().equals(wanted.uid())
                        && entry.backend().equals(wanted.backend())
                        && entry.generation() == generation
                        && entry.epoch() == d.epoch()
                        && entry.recorded(current);
                // An unchanged entry is not rewritten: no write per recheck.
                return unchanged ? l : l.with(key, wanted);
              }));
    } catch (BackendUnavailableException e) {
      return pass.unreachable(BackendProbe.down(pass.service.backend(), e.getCause()).detail());
    } catch (RuntimeException e) {
      return pass.provisioningFailed(
          "recording epoch in " + ledger.where() + " failed: " + e.getMessage());
    }
    Epochs.Decision d = decided.get();
    progress.merge(pass.uid, now.progress(), Math::max);
    pass.next.setEpoch(d.epoch());
    pass.next.setBackendIdentity(pass.identity);
    pass.next.setBackendIncarnation(now.id());
    if (d.raised() && d.reason() != null) {
      events.emit(
          pass.policy,
          d.incident() ? PolicyEvents.WARNING : PolicyEvents.NORMAL,
          d.incident() ? Reasons.BACKEND_INCIDENT : Reasons.EPOCH_RAISED,
          "epoch "
              + (before.getEpoch() == null ? "" : before.getEpoch() + " -> ")
              + d.epoch()
              + ": "
              + d.reason()
              + (d.incident() ? "; the backend is now " + now.detail() : ""));
    }
    return Outcome.NEXT;
  }

  /**
   * The decision an earlier pass already recorded in the ledger when its status write was lost: the
   * entry is this policy's (same uid), for this incarnation, with an epoch above the status's. Not
   * raising again keeps one incident (or move) one step.
   */
  private static Epochs.Decision alreadyDecided(LedgerEntry entry, Pass pass, Incarnation now) {
    Long status = pass.before.getEpoch();
    if (entry == null
        || entry.retired()
        || pass.uid == null
        || !pass.uid.equals(entry.uid())
        || !entry.recorded(now)
        || entry.epoch() <= (status == null ? 0 : status)) {
      return null;
    }
    return new Epochs.Decision(
        entry.epoch(), true, "as recorded in the ledger by an earlier pass", false);
  }

  /** A policy is gone: forget what was seen of its backend. */
  void forget(String uid) {
    progress.remove(uid);
  }
}
