package dev.fenced.lock.ledger;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.UnaryOperator;

/**
 * Reads and changes one backend's {@link Ledger} by compare-and-set, so the operator and any number
 * of services may write it at once without losing an entry.
 */
public final class BackendLedger {

  /** Conflicting writers in a row before giving up; each conflict means someone else succeeded. */
  static final int MAX_TRIES = 16;

  private final LedgerStore store;

  public BackendLedger(LedgerStore store) {
    this.store = store;
  }

  /** The ledger as stored now. */
  public CompletionStage<Ledger> read() {
    return store.read().thenApply(s -> Ledger.parse(s.document()));
  }

  /** The backend's current incarnation (see {@link LedgerStore#incarnation()}). */
  public CompletionStage<Incarnation> incarnation() {
    return store.incarnation();
  }

  /** Where the ledger lives, for messages. */
  public String where() {
    return store.where();
  }

  /**
   * Applies {@code change} to the stored ledger and stores the result, reading again and
   * re-applying whenever another writer came first. A change that changes nothing writes nothing.
   *
   * @return the ledger as stored afterwards
   */
  public CompletionStage<Ledger> update(UnaryOperator<Ledger> change) {
    return attempt(change, 1);
  }

  private CompletionStage<Ledger> attempt(UnaryOperator<Ledger> change, int tryNumber) {
    return store
        .read()
        .thenCompose(
            snapshot -> {
              Ledger before = Ledger.parse(snapshot.document());
              Ledger after = change.apply(before);
              if (after.equals(before)) {
                return CompletableFuture.completedFuture(before);
              }
              return store
                  .compareAndSet(snapshot, after.toJson())
                  .thenCompose(
                      written -> {
                        if (written) {
                          return CompletableFuture.completedFuture(after);
                        }
                        if (tryNumber >= MAX_TRIES) {
                          return CompletableFuture.failedFuture(
                              new IllegalStateException(
                                  store.where()
                                      + " kept changing under "
                                      + MAX_TRIES
                                      + " attempts to update it"));
                        }
                        return attempt(change, tryNumber + 1);
                      });
            });
  }

  /** Retires {@code policy}'s entry: the policy is gone, its epoch still counts. */
  public CompletionStage<Ledger> retire(String policy) {
    return update(l -> l.retire(policy));
  }
}
