package dev.fenced.bench;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/** A {@link ReentrantLock} per name: what a single process uses without any library. */
final class JdkLockTarget implements LockTarget {

  private final ConcurrentMap<String, ReentrantLock> locks = new ConcurrentHashMap<>();

  @Override
  public Object acquire(String name) throws InterruptedException {
    ReentrantLock lock = locks.computeIfAbsent(name, n -> new ReentrantLock());
    if (!lock.tryLock(FencedTarget.MAX_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("ReentrantLock " + name + " not acquired in time");
    }
    return lock;
  }

  @Override
  public void release(Object hold) {
    ((ReentrantLock) hold).unlock();
  }

  @Override
  public void close() {}
}
