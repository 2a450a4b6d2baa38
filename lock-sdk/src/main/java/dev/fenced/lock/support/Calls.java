package dev.fenced.lock.support;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * How a backend starts one request, whatever its client: every failure arrives as a failed stage,
 * never as a throw from the call site, so one {@code whenComplete} sees them all. Each backend has
 * one {@code call(...)} adapter built on these (bounding the request's time as its client allows);
 * what a failure means for the caller is decided once, by {@link AbstractLockService#failure}.
 */
public final class Calls {

  private Calls() {}

  /** The request's stage, or a failed stage when starting the request threw. */
  public static <T> CompletableFuture<T> start(Supplier<? extends CompletionStage<T>> request) {
    try {
      return request.get().toCompletableFuture();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Runs a blocking request on {@code executor}; a rejected task (the service is closing) fails the
   * stage instead of throwing.
   */
  public static <T> CompletableFuture<T> blocking(Executor executor, Callable<T> request) {
    CompletableFuture<T> result = new CompletableFuture<>();
    try {
      executor.execute(
          () -> {
            try {
              result.complete(request.call());
            } catch (Throwable t) {
              result.completeExceptionally(t);
            }
          });
    } catch (RejectedExecutionException e) {
      result.completeExceptionally(new IllegalStateException("the lock service is closed", e));
    }
    return result;
  }
}
