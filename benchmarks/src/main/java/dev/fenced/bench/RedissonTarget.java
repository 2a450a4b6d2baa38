package dev.fenced.bench;

import java.util.concurrent.TimeUnit;
import org.redisson.Redisson;
import org.redisson.api.RFencedLock;
import org.redisson.api.RLock;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * Redisson's {@code RLock} (a Lua-scripted hash with a watchdog, pub/sub wake-up) or its {@code
 * RFencedLock} (the same plus a token from a counter), with the library's defaults: one client,
 * watchdog lease 30 s. Both locks belong to the thread that took them.
 */
final class RedissonTarget implements LockTarget {

  private final RedissonClient client;
  private final boolean fenced;

  RedissonTarget(boolean fenced) {
    Config config = new Config();
    config.useSingleServer().setAddress(Servers.redisUrl());
    this.client = Redisson.create(config);
    this.fenced = fenced;
  }

  @Override
  public Object acquire(String name) throws InterruptedException {
    String key = "redisson:bench:" + name;
    if (fenced) {
      RFencedLock lock = client.getFencedLock(key);
      Long token = lock.tryLockAndGetToken(FencedTarget.MAX_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      if (token == null) {
        throw new IllegalStateException("RFencedLock " + key + " not acquired in time");
      }
      return lock;
    }
    RLock lock = client.getLock(key);
    if (!lock.tryLock(FencedTarget.MAX_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("RLock " + key + " not acquired in time");
    }
    return lock;
  }

  @Override
  public void release(Object hold) {
    ((RLock) hold).unlock();
  }

  @Override
  public void close() {
    client.shutdown();
  }
}
