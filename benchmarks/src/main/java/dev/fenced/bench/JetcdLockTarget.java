package dev.fenced.bench;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.lock.LockResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * etcd's own Lock service through jetcd ({@code client.getLockClient()}): the server creates a key
 * under the name bound to the caller's lease and waits for every older key to go. Used as etcd's
 * documentation suggests: one lease granted per thread up front and kept alive, shared by all its
 * holds (fenced today grants one lease per hold).
 */
final class JetcdLockTarget implements LockTarget {

  private final Client client;
  private final ThreadLocal<Long> lease;

  JetcdLockTarget() {
    client = Client.builder().endpoints(Servers.etcdEndpoints().split(",")).build();
    lease =
        ThreadLocal.withInitial(
            () -> {
              try {
                long id = client.getLeaseClient().grant(30).get(5, TimeUnit.SECONDS).getID();
                client.getLeaseClient().keepAlive(id, NoOpObserver.INSTANCE);
                return id;
              } catch (Exception e) {
                throw new IllegalStateException("etcd lease grant failed", e);
              }
            });
  }

  @Override
  public Object acquire(String name) throws Exception {
    ByteSequence key = ByteSequence.from("/jetcd/bench/" + name, StandardCharsets.UTF_8);
    LockResponse response =
        client
            .getLockClient()
            .lock(key, lease.get())
            .get(FencedTarget.MAX_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    return response.getKey();
  }

  @Override
  public void release(Object hold) throws Exception {
    client.getLockClient().unlock((ByteSequence) hold).get(5, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    client.close();
  }

  /** Keep-alive answers need no handling here: a lapse would show as failed acquires. */
  private enum NoOpObserver
      implements io.grpc.stub.StreamObserver<io.etcd.jetcd.lease.LeaseKeepAliveResponse> {
    INSTANCE;

    @Override
    public void onNext(io.etcd.jetcd.lease.LeaseKeepAliveResponse value) {}

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }
}
