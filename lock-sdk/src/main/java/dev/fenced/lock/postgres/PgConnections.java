package dev.fenced.lock.postgres;

import io.netty.channel.Channel;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.impl.SocketConnectionBase;
import io.vertx.sqlclient.impl.SqlConnectionInternal;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Time limits for statements, which the Vert.x PostgreSQL client does not have: a frozen server or
 * a network that drops packets leaves a statement waiting forever, and the connection with it.
 *
 * <p>A connection whose statement timed out cannot be used again (its answer may still arrive, in
 * front of the next statement's) and must not go back to the pool, which would hand it to the next
 * borrower, still waiting. {@link #discard} closes its socket instead: the pool drops it, and the
 * server ends the session (releasing whatever it held) once it notices. Vert.x 4.5 has no public
 * call for that, so it reaches the socket through the client's internal types, and falls back to
 * {@code close()} if they ever change.
 */
final class PgConnections {

  private static final Logger LOG = LoggerFactory.getLogger(PgConnections.class);

  private PgConnections() {}

  /** The statement's outcome, or a {@link TimeoutException} after {@code millis}. */
  static <T> Future<T> within(Vertx vertx, Future<T> statement, long millis) {
    Promise<T> outcome = Promise.promise();
    long timer =
        vertx.setTimer(
            Math.max(1, millis),
            id ->
                outcome.tryFail(
                    new TimeoutException("PostgreSQL did not answer within " + millis + " ms")));
    statement.onComplete(
        ar -> {
          vertx.cancelTimer(timer);
          if (ar.succeeded()) {
            outcome.tryComplete(ar.result());
          } else {
            outcome.tryFail(ar.cause());
          }
        });
    return outcome.future();
  }

  /** Whether a failure is a statement that went unanswered for its time limit. */
  static boolean timedOut(Throwable error) {
    return error instanceof TimeoutException;
  }

  /** Closes the connection's socket, so it can neither be used nor go back to the pool. */
  static void discard(SqlConnection conn) {
    try {
      if (conn instanceof SqlConnectionInternal internal
          && internal.unwrap().unwrap() instanceof SocketConnectionBase socket) {
        // Closed at the head of the pipeline: a close through the whole pipeline only makes the
        // client's encoder send Terminate and leave the closing to the server, which here never
        // answers.
        Channel channel = socket.socket().channelHandlerContext().channel();
        // The pool still counts the connection as lent. Given back at once, it would be lent
        // again before the pool has seen its socket close; given back once the client reports
        // it closed, the pool has already dropped it and opens another.
        conn.closeHandler(closed -> conn.close());
        channel.pipeline().firstContext().close();
        return;
      }
    } catch (RuntimeException | LinkageError e) {
      LOG.debug("cannot reach the socket of a PostgreSQL connection; closing it instead", e);
    }
    conn.close();
  }
}
