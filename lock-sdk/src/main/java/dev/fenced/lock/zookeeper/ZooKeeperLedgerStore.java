package dev.fenced.lock.zookeeper;

import dev.fenced.lock.ledger.Incarnation;
import dev.fenced.lock.ledger.LedgerStore;
import dev.fenced.lock.support.Failures;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;

/**
 * The ZooKeeper ledger: the data of the base path node itself, replaced with {@code setData} at the
 * version read.
 *
 * <p>The incarnation is the base path's creation zxid: every lock name's parent node (whose
 * sequence numbers are the fencing counters) lives under it, so a base path deleted and created
 * again, by hand or on another ensemble, has another one. A lock name's parent deleted on its own
 * is not seen here; it is created again above the fence floor ({@link FenceFloor}).
 */
final class ZooKeeperLedgerStore implements LedgerStore {

  /** The version of a base path that does not exist yet. */
  private static final int ABSENT = -2;

  private final ZooKeeperLockService service;
  private final String basePath;

  ZooKeeperLedgerStore(ZooKeeperLockService service, String basePath) {
    this.service = service;
    this.basePath = basePath;
  }

  @Override
  public CompletionStage<Snapshot> read() {
    CompletableFuture<Snapshot> done = new CompletableFuture<>();
    service
        .data(basePath)
        .whenComplete(
            (event, error) -> {
              if (error != null) {
                service.completeLater(done, null, Failures.unwrap(error));
              } else if (event == null) {
                service.completeLater(done, new Snapshot(null, ABSENT), null);
              } else {
                byte[] data = event.getData();
                String document =
                    data == null || data.length == 0
                        ? null
                        : new String(data, StandardCharsets.UTF_8);
                service.completeLater(
                    done, new Snapshot(document, event.getStat().getVersion()), null);
              }
            });
    return done;
  }

  @Override
  public CompletionStage<Boolean> compareAndSet(Snapshot expected, String document) {
    int version = (Integer) expected.version();
    byte[] data = document.getBytes(StandardCharsets.UTF_8);
    CompletableFuture<Boolean> done = new CompletableFuture<>();
    CompletableFuture<org.apache.curator.framework.api.CuratorEvent> write =
        version == ABSENT
            ? service.call(
                cb ->
                    service
                        .client()
                        .create()
                        .creatingParentsIfNeeded()
                        .inBackground(cb)
                        .forPath(basePath, data))
            : service.call(
                cb ->
                    service
                        .client()
                        .setData()
                        .withVersion(version)
                        .inBackground(cb)
                        .forPath(basePath, data));
    write.whenComplete(
        (event, error) -> {
          Code code = error == null ? Code.get(event.getResultCode()) : null;
          if (code == Code.OK) {
            service.completeLater(done, true, null);
          } else if (code == Code.BADVERSION || code == Code.NODEEXISTS || code == Code.NONODE) {
            service.completeLater(done, false, null);
          } else {
            service.completeLater(
                done, null, error != null ? error : KeeperException.create(code, basePath));
          }
        });
    return done;
  }

  @Override
  public CompletionStage<Incarnation> incarnation() {
    return service
        .exists(basePath)
        .thenApply(
            stat ->
                stat == null
                    ? Incarnation.of(
                        "zookeeper basePath=none", "ZooKeeper base path " + basePath + " missing")
                    : Incarnation.of(
                        "zookeeper basePath czxid=" + Long.toHexString(stat.getCzxid()),
                        "ZooKeeper base path "
                            + basePath
                            + " created at zxid 0x"
                            + Long.toHexString(stat.getCzxid())
                            + " (a path deleted and created again has another)"));
  }

  @Override
  public String where() {
    return "ZooKeeper node " + basePath;
  }
}
