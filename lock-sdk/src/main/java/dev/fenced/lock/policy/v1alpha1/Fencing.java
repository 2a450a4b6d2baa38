package dev.fenced.lock.policy.v1alpha1;

/** Whether storage must check the fencing token of every hold. */
public enum Fencing {
  /** Every write under the lock must carry the token and storage must reject older ones. */
  Required,
  /** Tokens are issued where the backend can, but nothing insists that storage checks them. */
  Optional
}
