package dev.fenced.lock.etcd;

import dev.fenced.lock.support.Failures;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.common.exception.EtcdException;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
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
        .waitForReady(false)
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

  /**
   * True when etcd answered that the lease (or key) does not exist: a definite answer. jetcd turns
   * the answer into an {@link EtcdException} for lease calls, but hands a transaction's on as the
   * gRPC status (a put on a revoked lease).
   */
  static boolean isNotFound(Throwable error) {
    Throwable cause = Failures.unwrap(error);
    while (cause != null) {
      if (cause instanceof EtcdException etcd
          && etcd.getErrorCode() == io.etcd.jetcd.common.exception.ErrorCode.NOT_FOUND) {
        return true;
      }
      if ((cause instanceof io.grpc.StatusRuntimeException
              || cause instanceof io.grpc.StatusException)
          && io.grpc.Status.fromThrowable(cause).getCode() == io.grpc.Status.Code.NOT_FOUND) {
        return true;
      }
      if (cause.getCause() == cause) {
        break;
      }
      cause = cause.getCause();
    }
    return false;
  }

  /**
   * Adds {@code timeout} to every call but the watch stream, counted from when the call starts: a
   * deadline set when jetcd creates the call would also count time spent before it is sent (jetcd's
   * retry scheduling, a busy machine).
   */
  private static final class Deadlines implements ClientInterceptor {
    private final long timeoutMillis;

    Deadlines(Duration timeout) {
      this.timeoutMillis = timeout.toMillis();
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(
        MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      if (options.getDeadline() != null || WATCH_METHOD.equals(method.getFullMethodName())) {
        return next.newCall(method, options);
      }
      return new DeadlineFromStart<>(method, options, next, timeoutMillis);
    }
  }

  /** A call created on {@link #start}, with its deadline counted from there. */
  private static final class DeadlineFromStart<Q, R> extends ClientCall<Q, R> {
    private final MethodDescriptor<Q, R> method;
    private final CallOptions options;
    private final Channel next;
    private final long timeoutMillis;
    private ClientCall<Q, R> call;

    DeadlineFromStart(
        MethodDescriptor<Q, R> method, CallOptions options, Channel next, long timeoutMillis) {
      this.method = method;
      this.options = options;
      this.next = next;
      this.timeoutMillis = timeoutMillis;
    }

    @Override
    public void start(Listener<R> listener, Metadata headers) {
      call = next.newCall(method, options.withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS));
      call.start(listener, headers);
    }

    @Override
    public void request(int numMessages) {
      call.request(numMessages);
    }

    @Override
    public void cancel(String message, Throwable cause) {
      if (call != null) {
        call.cancel(message, cause);
      }
    }

    @Override
    public void halfClose() {
      call.halfClose();
    }

    @Override
    public void sendMessage(Q message) {
      call.sendMessage(message);
    }

    @Override
    public boolean isReady() {
      return call != null && call.isReady();
    }

    @Override
    public void setMessageCompression(boolean enabled) {
      call.setMessageCompression(enabled);
    }

    @Override
    public Attributes getAttributes() {
      return call == null ? Attributes.EMPTY : call.getAttributes();
    }
  }
}
