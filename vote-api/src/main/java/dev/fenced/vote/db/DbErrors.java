package dev.fenced.vote.db;

import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import java.io.IOException;
import java.util.concurrent.TimeoutException;

/** Classifies database failures by walking the cause chain (Hibernate and Vert.x wrap them). */
public final class DbErrors {

  private DbErrors() {}

  /**
   * The database could not be reached, shed load, cancelled a statement that ran too long, or
   * picked this transaction as a deadlock or serialization victim: the work can be tried again.
   */
  public static boolean isTransient(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof PgException pg) {
        String state = pg.getSqlState();
        return state != null
            && (state.startsWith("08") // connection exception
                || state.startsWith("53") // insufficient resources
                || state.startsWith("57P") // admin or crash shutdown, cannot connect now
                || state.equals("57014") // statement_timeout
                || state.equals("40001") // serialization failure
                || state.equals("40P01")); // deadlock victim
      }
      if (t instanceof ClosedConnectionException
          || t instanceof IOException
          || t instanceof TimeoutException
          || t instanceof io.netty.channel.ConnectTimeoutException) {
        return true;
      }
      if (t.getClass().getName().equals("io.vertx.core.impl.NoStackTraceThrowable")
          && String.valueOf(t.getMessage()).toLowerCase().contains("timeout")) {
        return true; // the pool gave up waiting for a connection
      }
    }
    return false;
  }

  /** A unique or primary key was violated (SQLSTATE 23505). */
  public static boolean isUniqueViolation(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof PgException pg && "23505".equals(pg.getSqlState())) {
        return true;
      }
    }
    return false;
  }
}
