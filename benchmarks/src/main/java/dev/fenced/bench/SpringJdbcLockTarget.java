package dev.fenced.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import org.springframework.integration.jdbc.lock.DefaultLockRepository;
import org.springframework.integration.jdbc.lock.JdbcLockRegistry;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

/**
 * Spring Integration's {@code JdbcLockRegistry} on PostgreSQL ({@code INT_LOCK} rows: insert or
 * take over an expired row, delete on unlock; waiters poll every {@code idleBetweenTries}, 100 ms
 * by default). One registry with its own client id and one JDBC connection per benchmark thread, as
 * separate processes would have: a registry shared by threads would queue them on its local {@code
 * ReentrantLock} and hide the database.
 */
final class SpringJdbcLockTarget implements LockTarget {

  private static final String TABLE =
      "CREATE TABLE IF NOT EXISTS INT_LOCK (LOCK_KEY CHAR(36) NOT NULL, REGION VARCHAR(100) NOT"
          + " NULL, CLIENT_ID CHAR(36), CREATED_DATE TIMESTAMP NOT NULL, EXPIRED_AFTER TIMESTAMP"
          + " NOT NULL, constraint INT_LOCK_PK primary key (LOCK_KEY, REGION))";

  private final List<AutoCloseable> opened = new CopyOnWriteArrayList<>();
  private final ThreadLocal<JdbcLockRegistry> registry = ThreadLocal.withInitial(this::newRegistry);

  SpringJdbcLockTarget() throws Exception {
    try (Connection c =
            DriverManager.getConnection(Servers.jdbcUrl(), Servers.pgUser(), Servers.pgPassword());
        Statement s = c.createStatement()) {
      s.execute(TABLE);
    }
  }

  private JdbcLockRegistry newRegistry() {
    SingleConnectionDataSource dataSource =
        new SingleConnectionDataSource(
            Servers.jdbcUrl(), Servers.pgUser(), Servers.pgPassword(), true);
    DefaultLockRepository repository =
        new DefaultLockRepository(dataSource, UUID.randomUUID().toString());
    repository.setTransactionManager(new DataSourceTransactionManager(dataSource));
    repository.afterPropertiesSet();
    repository.afterSingletonsInstantiated();
    repository.start();
    opened.add(repository::close);
    opened.add(dataSource::destroy);
    return new JdbcLockRegistry(repository);
  }

  @Override
  public Object acquire(String name) throws InterruptedException {
    Lock lock = registry.get().obtain(name);
    if (!lock.tryLock(FencedTarget.MAX_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("JdbcLockRegistry lock " + name + " not acquired in time");
    }
    return lock;
  }

  @Override
  public void release(Object hold) {
    ((Lock) hold).unlock();
  }

  @Override
  public void close() throws Exception {
    for (AutoCloseable c : opened) {
      c.close();
    }
  }
}
