package dev.fenced.lock.etcd;

import dev.fenced.lock.support.Failures;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.common.exception.EtcdException;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * How this backend talks to etcd: a client whose every call has a deadline, and the classification
 * of what comes back.
 */
final class EtcdCalls {

  /** The one long-lived stream: a waiter's watch on its predecessor ends when the key goes. */
  private static final String WATCH_METHOD = "etcdserverpb.Watch/Watch";

  private EtcdCalls() {}

  /**
   * A client whose requests wait for a connection (so a reconnect after a blip is ridden out) but
   * never longer than {@code requestTimeout}: while etcd is down, every call fails within that
   * time.
   */
  static Client newClient(EtcdLockConfig config) {
    Duration timeout = config.requestTimeout();
    return Client.builder()
        .endpoints(config.endpoints().toArray(String[]::new))
        .connectTimeout(
            timeout.compareTo(Duration.ofSeconds(2)) < 0 ? timeout : Duration.ofSeconds(2))
        .waitForReady(true)
        .retryMaxAttempts(2)
        .retryDelay(100)
        .retryMaxDelay(500)
        .retryMaxDuration(timeout)
        // etcd refuses pings more often than every 5 s by default (too_many_pings).
        .keepaliveTime(Duration.ofSeconds(10))
        .keepaliveTimeout(Duration.ofSeconds(3))
        .interceptor(new Deadlines(timeout))
        .build();
  }

  /**
   * Bounds a call on the client side as well, for clients built elsewhere without deadlines; the
   * gRPC deadline of our own clients normally fires first with the clearer message.
   */
  static <T> CompletableFuture<T> bounded(CompletableFuture<T> call, Duration requestTimeout) {
    return call.orTimeout(requestTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
  }

  /** True when etcd answered that the lease (or key) does not exist: a definite answer. */
  static boolean isNotFound(Throwable error) {
    Throwable cause = Failures.unwrap(error);
    while (cause != null) {
      if (cause instanceof EtcdException etcd
          && etcd.getErrorCode() == io.etcd.jetcd.common.exception.ErrorCode.NOT_FOUND) {
        return true;
      }
      if (cause.getCause() == cause) {
        break;
      }
      cause = cause.getCause();
    }
    return false;
  }

  /** Adds {@code timeout} to every call but the watch stream. */
  private static final class Deadlines implements ClientInterceptor {
    private final long timeoutMillis;

    Deadlines(Duration timeout) {
      this.timeoutMillis = timeout.toMillis();
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(
        MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      if (options.getDeadline() == null && !WATCH_METHOD.equals(method.getFullMethodName())) {
        options = options.withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS);
      }
      return next.newCall(method, options);
    }
  }
}
