package dev.fenced.lock.redis;

import dev.fenced.lock.support.LeaseKeeper;
import dev.fenced.lock.support.Waiters;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One dedicated connection per service, subscribed to the release channel, turning every published
 * lock name into a {@link Waiters#wake(String)}. It reconnects by itself with a bounded back-off;
 * after each (re)subscription it wakes every waiter, since releases published while it was away are
 * lost (pub/sub keeps no history).
 */
final class ReleaseSubscriber {

  private static final Logger LOG = LoggerFactory.getLogger(ReleaseSubscriber.class);
  private static final long FIRST_RETRY_MILLIS = 50;
  private static final long MAX_RETRY_MILLIS = 2_000;

  private final Vertx vertx;
  private final Redis client;
  private final String channel;
  private final Waiters waiters;
  private final long timeoutMillis;
  private final Runnable onDropped;
  private final AtomicReference<RedisConnection> connection = new AtomicReference<>();
  private volatile boolean subscribed;
  private volatile boolean closed;
  private volatile long retryMillis = FIRST_RETRY_MILLIS;
  private volatile long retryTimer = -1;

  /**
   * @param onDropped told when the subscribed connection drops: the server restarted, died, or a
   *     Sentinel switched the primary, so the server that answers next may be another incarnation
   */
  ReleaseSubscriber(
      Vertx vertx,
      Redis client,
      String channel,
      Waiters waiters,
      long timeoutMillis,
      Runnable onDropped) {
    this.vertx = vertx;
    this.client = client;
    this.channel = channel;
    this.waiters = waiters;
    this.timeoutMillis = timeoutMillis;
    this.onDropped = onDropped;
  }

  void start() {
    connect();
  }

  /** Whether release notifications are flowing right now. */
  boolean isSubscribed() {
    return subscribed;
  }

  void close() {
    closed = true;
    subscribed = false;
    vertx.cancelTimer(retryTimer);
    RedisConnection current = connection.getAndSet(null);
    if (current != null) {
      current.close();
    }
  }

  private void connect() {
    if (closed) {
      return;
    }
    client
        .connect()
        .timeout(timeoutMillis, TimeUnit.MILLISECONDS)
        .onSuccess(this::subscribe)
        .onFailure(this::retryLater);
  }

  private void subscribe(RedisConnection conn) {
    if (closed || !connection.compareAndSet(null, conn)) {
      conn.close();
      return;
    }
    conn.handler(this::onMessage);
    conn.exceptionHandler(error -> dropped(conn, error));
    conn.endHandler(v -> dropped(conn, null));
    conn.send(Request.cmd(Command.SUBSCRIBE).arg(channel))
        .timeout(timeoutMillis, TimeUnit.MILLISECONDS)
        .onSuccess(
            reply -> {
              if (connection.get() != conn) {
                return;
              }
              subscribed = true;
              retryMillis = FIRST_RETRY_MILLIS;
              LOG.debug("subscribed to {}", channel);
              // Releases published while nobody listened are gone: let every waiter look again.
              waiters.wakeAll();
            })
        .onFailure(error -> dropped(conn, error));
  }

  private void onMessage(Response message) {
    // RESP2 delivers ["message", channel, payload] as an array, RESP3 as a push of the same shape.
    if (message == null || message.size() != 3) {
      return;
    }
    Response kind = message.get(0);
    Response payload = message.get(2);
    if (kind != null && "message".equals(kind.toString()) && payload != null) {
      waiters.wake(payload.toString());
    }
  }

  private void dropped(RedisConnection conn, Throwable error) {
    if (!connection.compareAndSet(conn, null)) {
      return; // already handled, or an older connection
    }
    subscribed = false;
    conn.close();
    if (!closed) {
      onDropped.run();
    }
    retryLater(error);
  }

  private void retryLater(Throwable error) {
    if (closed) {
      return;
    }
    long delay = LeaseKeeper.jitter(retryMillis * 1_000_000L) / 1_000_000L;
    retryMillis = Math.min(retryMillis * 2, MAX_RETRY_MILLIS);
    LOG.debug("release subscription on {} lost; retrying in {} ms", channel, delay, error);
    retryTimer = vertx.setTimer(Math.max(1, delay), id -> connect());
  }
}
