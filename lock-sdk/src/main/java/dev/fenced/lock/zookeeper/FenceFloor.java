package dev.fenced.lock.zookeeper;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.data.Stat;

/**
 * Keeps the tokens of a lock name rising when its parent node is deleted and created again.
 *
 * <p>ZooKeeper numbers a parent's children from 0 again when the parent is created again, so the
 * counter behind a token is the parent's <em>offset</em> plus the holder node's sequence. The
 * offset is the parent's data: a decimal number that fenced writes when it creates the parent (a
 * parent written without one, e.g. by an older fenced or by Curator's {@code
 * creatingParentsIfNeeded}, counts from 0).
 *
 * <p>The base path's child {@value #NODE} holds the <em>fence floor</em>: a multiple of {@link
 * #STEP} such that every token granted under the base path is below {@code floor + STEP}. A hold is
 * granted only once that is true of its token: a service that wins with a counter its known floor
 * does not cover raises the floor (compare-and-set on the node's version) and looks at the children
 * again before it grants. A parent is created with the offset {@code floor + STEP}, above every
 * token granted under any parent before. That costs one read per service and one write per {@code
 * STEP} tokens of a name, and a read of the parent's data when a service first meets a parent
 * (cached by the parent's creation zxid, which the children listing returns anyway).
 */
final class FenceFloor {

  /** The floor node under the base path; lock names never encode to a name with a dot. */
  static final String NODE = ".fence-floor";

  /** How far apart the floor's values are. */
  static final long STEP = 1024;

  private static final int CACHED_PARENTS = 4096;
  private static final int WRITE_TRIES = 16;

  /** A parent's offset, and the creation zxid of the parent it was read from. */
  record Offset(long czxid, long offset) {}

  private final ZooKeeperLockService service;
  private final String path;

  /** The highest floor this service read or wrote; -1 before the first. The node only rises. */
  private final AtomicLong known = new AtomicLong(-1);

  private final Map<String, Offset> offsets =
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Offset> eldest) {
          return size() > CACHED_PARENTS;
        }
      };

  FenceFloor(ZooKeeperLockService service, String basePath) {
    this.service = service;
    this.path = ZKPaths.makePath(basePath, NODE);
  }

  /** Whether a token with this counter may be granted without raising the floor first. */
  boolean covers(long counter) {
    long floor = known.get();
    return floor >= 0 && counter < floor + STEP;
  }

  /** The offset of a parent whose stat a listing returned, when this service knows it already. */
  Long cachedOffset(String parentPath, Stat parent) {
    Offset cached;
    synchronized (offsets) {
      cached = offsets.get(parentPath);
    }
    return cached != null && parent != null && cached.czxid() == parent.getCzxid()
        ? cached.offset()
        : null;
  }

  /**
   * The offset of a parent, read from its data. Completes with null when the parent is gone; fails
   * when its data is not an offset.
   */
  CompletableFuture<Offset> readOffset(String parentPath) {
    return service
        .data(parentPath)
        .thenApply(
            event -> {
              if (event == null) {
                return null;
              }
              long offset =
                  parse(
                      event.getData(),
                      parentPath,
                      "Restore the number, or delete the node with its children: it is created"
                          + " again above every token issued");
              Offset read = new Offset(event.getStat().getCzxid(), offset);
              synchronized (offsets) {
                offsets.put(parentPath, read);
              }
              return read;
            });
  }

  /** The data of a parent created now: an offset above every token granted so far. */
  CompletableFuture<byte[]> newParentData() {
    // The highest floor this service knows: a floor node deleted by hand does not lower it.
    return read()
        .thenApply(floor -> Long.toString(known.get() + STEP).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Raises the floor until it covers {@code counter} (or finds it does already). Fails when the
   * node cannot be read or written, or keeps changing under this service.
   */
  CompletableFuture<Void> raiseFor(long counter) {
    return raiseFor(counter, WRITE_TRIES);
  }

  private CompletableFuture<Void> raiseFor(long counter, int triesLeft) {
    return read()
        .thenCompose(
            floor -> {
              long wanted = Math.max(counter - counter % STEP, known.get());
              if (floor != null && counter < floor.value + STEP) {
                return CompletableFuture.completedFuture(Code.OK);
              }
              byte[] data = Long.toString(wanted).getBytes(StandardCharsets.UTF_8);
              return service
                  .call(
                      cb -> {
                        if (floor == null) {
                          service.client().create().inBackground(cb).forPath(path, data);
                        } else {
                          service
                              .client()
                              .setData()
                              .withVersion(floor.version)
                              .inBackground(cb)
                              .forPath(path, data);
                        }
                      })
                  .thenApply(
                      event -> {
                        Code code = Code.get(event.getResultCode());
                        if (code == Code.OK) {
                          known.accumulateAndGet(wanted, Math::max);
                        }
                        return code;
                      });
            })
        .thenCompose(
            code -> {
              if (code == Code.OK) {
                return CompletableFuture.completedFuture(null);
              }
              if ((code == Code.BADVERSION || code == Code.NODEEXISTS) && triesLeft > 1) {
                return raiseFor(counter, triesLeft - 1); // another service raised it meanwhile
              }
              throw new CompletionException(
                  code == Code.BADVERSION || code == Code.NODEEXISTS
                      ? new IllegalStateException(
                          "the fence floor " + path + " kept changing; not raised for " + counter)
                      : KeeperException.create(code, path));
            });
  }

  private record Floor(long value, int version) {}

  /** The floor node as it is now, or null when it does not exist; remembers the highest seen. */
  private CompletableFuture<Floor> read() {
    return service
        .data(path)
        .thenApply(
            event -> {
              if (event == null) {
                known.accumulateAndGet(0, Math::max);
                return null;
              }
              long value =
                  parse(
                      event.getData(),
                      path,
                      "Write a number at least as high as the highest token issued under the base"
                          + " path");
              known.accumulateAndGet(value, Math::max);
              return new Floor(value, event.getStat().getVersion());
            });
  }

  /** A node's data as a non-negative decimal; empty data is 0. */
  static long parse(byte[] data, String node, String remedy) {
    if (data == null || data.length == 0) {
      return 0;
    }
    String text = new String(data, StandardCharsets.UTF_8);
    try {
      long value = Long.parseLong(text);
      if (value >= 0) {
        return value;
      }
    } catch (NumberFormatException notANumber) {
      // reported below
    }
    throw new IllegalStateException(
        "the data of "
            + node
            + " is not a fencing offset (a decimal number) but '"
            + (text.length() > 40 ? text.substring(0, 40) + "..." : text)
            + "'; fencing tokens cannot continue. "
            + remedy
            + ".");
  }
}
