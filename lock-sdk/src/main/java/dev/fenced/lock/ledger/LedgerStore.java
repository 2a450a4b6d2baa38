package dev.fenced.lock.ledger;

import java.util.concurrent.CompletionStage;

/**
 * Where one backend keeps its {@link Ledger}, and how it tells its current {@link Incarnation}.
 * Each backend package has one; {@link BackendLedger} builds every operation on these three calls.
 */
public interface LedgerStore {

  /**
   * The stored document and the version a {@link #compareAndSet} must present.
   *
   * @param document the stored JSON, or null when nothing is stored
   * @param version whatever the store compares (a revision, a resourceVersion, the old text)
   */
  record Snapshot(String document, Object version) {}

  /** Reads the ledger as stored now. */
  CompletionStage<Snapshot> read();

  /**
   * Stores {@code document} only if the ledger is still as {@code expected} read it.
   *
   * @return false when someone else wrote in between (read again and retry)
   */
  CompletionStage<Boolean> compareAndSet(Snapshot expected, String document);

  /**
   * The backend's current incarnation, read from the server (one or two round trips). Provisioning
   * creates whatever marker it is partly made of, so call {@code provision()} first.
   */
  CompletionStage<Incarnation> incarnation();

  /** Where the ledger lives, for messages: e.g. {@code Redis key fenced:ledger}. */
  String where();
}
