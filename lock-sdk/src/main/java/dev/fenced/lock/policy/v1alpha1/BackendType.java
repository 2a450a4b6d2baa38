package dev.fenced.lock.policy.v1alpha1;

/** The kinds of backend a {@link LockPolicy} can choose; the names are the wire values. */
public enum BackendType {
  Redis,
  Postgres,
  Etcd,
  ZooKeeper,
  KubernetesLease,
  /** A lock inside one JVM: correct for a single replica, no exclusion across replicas. */
  InProcess,
  /** No lock at all; it exists to show the race. */
  None
}
