package dev.fenced.bench;

/**
 * One thing a benchmark takes and gives back: a fenced backend, a peer library, or the raw round
 * trips a backend needs for one cycle. Every {@link #acquire(String)} that returns is matched by
 * one {@link #release(Object)} on the same thread (some peers tie a hold to its thread).
 */
public interface LockTarget extends AutoCloseable {

  /** Blocks until {@code name} is held (or, for a round-trip limit, the first half is done). */
  Object acquire(String name) throws Exception;

  /** Gives back what {@link #acquire(String)} returned. */
  void release(Object hold) throws Exception;

  @Override
  void close() throws Exception;
}
