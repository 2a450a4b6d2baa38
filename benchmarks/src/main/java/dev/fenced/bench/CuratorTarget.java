package dev.fenced.bench;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * Curator's {@code InterProcessMutex}: an ephemeral sequential node per acquire, a watch on the
 * predecessor. One client (one ZooKeeper session) for the process, one mutex object per lock name
 * shared by the threads, as the recipe intends; the hold belongs to the thread that took it.
 */
final class CuratorTarget implements LockTarget {

  private final CuratorFramework client;
  private final ConcurrentMap<String, InterProcessMutex> mutexes = new ConcurrentHashMap<>();

  CuratorTarget() {
    client =
        CuratorFrameworkFactory.newClient(
            Servers.zkConnect(), 10_000, 3_000, new ExponentialBackoffRetry(100, 3));
    client.start();
  }

  @Override
  public Object acquire(String name) throws Exception {
    InterProcessMutex mutex =
        mutexes.computeIfAbsent(
            name, n -> new InterProcessMutex(client, "/curator/bench/" + n.replace('/', '_')));
    if (!mutex.acquire(FencedTarget.MAX_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("InterProcessMutex " + name + " not acquired in time");
    }
    return mutex;
  }

  @Override
  public void release(Object hold) throws Exception {
    ((InterProcessMutex) hold).release();
  }

  @Override
  public void close() {
    client.close();
  }
}
