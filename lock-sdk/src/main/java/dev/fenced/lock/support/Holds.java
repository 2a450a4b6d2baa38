package dev.fenced.lock.support;

import dev.fenced.lock.LockHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * Handing a won hold to the caller. A caller may stop waiting before the backend answers: it
 * cancels the future, or a timeout of its own ({@code orTimeout}) completes it. A hold won after
 * that reaches nobody, so nobody would ever release it, and its renewals would keep it for as long
 * as the process lives. Every acquisition therefore hands its hold over with {@link #handOver},
 * which gives the hold back when the caller's future was already completed.
 */
public final class Holds {

  private Holds() {}

  /**
   * Completes {@code future} with {@code handle}; if the future was already completed (the caller
   * gave up), releases the hold instead.
   *
   * @return whether the caller received the hold
   */
  public static <H extends LockHandle> boolean handOver(
      CompletableFuture<? super H> future, H handle) {
    if (future.complete(handle)) {
      return true;
    }
    handle.release();
    return false;
  }

  /**
   * A future for the caller that follows {@code inner}: its hold is handed over (cast to {@code
   * type}), its failure passed through {@code failure}, both on {@code callbacks}, so the caller's
   * continuations never run on the thread that completed {@code inner}; and when the caller
   * completes or cancels the returned future first, {@code inner} is cancelled, so the acquisition
   * behind it stops waiting and cleans up.
   */
  public static <H extends LockHandle> CompletableFuture<H> relay(
      CompletableFuture<? extends LockHandle> inner,
      Function<Throwable, Throwable> failure,
      Class<H> type,
      Executor callbacks) {
    CompletableFuture<H> outer = new CompletableFuture<>();
    inner.whenCompleteAsync(
        (handle, error) -> {
          if (error != null) {
            outer.completeExceptionally(failure.apply(error));
          } else {
            handOver(outer, type.cast(handle));
          }
        },
        callbacks);
    outer.whenComplete(
        (handle, error) -> {
          if (!inner.isDone()) {
            inner.cancel(false);
          }
        });
    return outer;
  }
}
