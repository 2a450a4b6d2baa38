package dev.fenced.operator;

import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.support.Failures;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Waits for a backend call at most {@code fenced.operator.backend-timeout}, so no reconcile blocks
 * longer; a call that does not answer in time is an unreachable backend.
 */
final class BackendCalls {

  private final Duration timeout;

  BackendCalls(Duration timeout) {
    this.timeout = timeout;
  }

  <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new BackendUnavailableException(
          "backend", null, new TimeoutException("no answer within " + timeout));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BackendUnavailableException("backend", null, e);
    } catch (ExecutionException e) {
      Throwable cause = Failures.unwrap(e.getCause());
      throw cause instanceof RuntimeException r
          ? r
          : new BackendUnavailableException("backend", null, cause);
    }
  }
}
