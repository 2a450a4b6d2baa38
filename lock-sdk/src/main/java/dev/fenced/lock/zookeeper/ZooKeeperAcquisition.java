package dev.fenced.lock.zookeeper;

import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.InvalidLockPolicyException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockTimeoutException;
import dev.fenced.lock.support.Failures;
import dev.fenced.lock.support.Holds;
import dev.fenced.lock.support.Owners;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import org.apache.curator.framework.WatcherRemoveCuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;

/**
 * One acquire, as the classic ZooKeeper lock recipe: create an ephemeral sequential child under the
 * lock's parent, list the children, hold when ours has the lowest sequence, otherwise watch the
 * immediate predecessor only and list again when it changes. Every step is a background request;
 * nothing here blocks a thread.
 *
 * <p>The deadline ends the wait. When it passes while a request is in flight on a live connection,
 * that request still decides (so a zero wait still tries once); when the connection is down, the
 * acquire fails as {@link BackendUnavailableException} at once. Whatever ends the acquire without a
 * hold deletes our node.
 */
final class ZooKeeperAcquisition {

  private enum Phase {
    /** The create request is in flight. */
    CREATING,
    /** The children listing is in flight. */
    LISTING,
    /** The request that sets the watch on the predecessor is in flight. */
    WATCHING,
    /** The watch is set; nothing in flight. */
    WAITING,
    DONE
  }

  /** Parent creations one acquire tries before it gives up (someone keeps deleting it). */
  private static final int MAX_PARENT_CREATES = 3;

  private final ZooKeeperLockService service;
  private final String name;
  private final String parentPath;
  private final Duration maxWait;
  private final String ownerId = Owners.newOwnerId();
  private final CompletableFuture<LockHandle> result = new CompletableFuture<>();

  /** Every watch of this acquisition is set through it, so all go when the acquisition ends. */
  private final WatcherRemoveCuratorFramework watching;

  // Guarded by this. `generation` identifies the latest step: answers to older steps are dropped,
  // so a reconnect re-check and a watch firing at once cannot both act.
  private Phase phase = Phase.CREATING;
  private int generation;
  private boolean deadlinePassed;
  private String nodePath;
  private long sessionId;
  private int parentsCreated;
  private boolean createSent;
  private ScheduledFuture<?> deadline;

  ZooKeeperAcquisition(
      ZooKeeperLockService service, String name, String parentPath, Duration maxWait) {
    this.service = service;
    this.name = name;
    this.parentPath = parentPath;
    this.maxWait = maxWait;
    this.watching = service.client().newWatcherRemoveCuratorFramework();
  }

  String name() {
    return name;
  }

  CompletableFuture<LockHandle> start() {
    synchronized (this) {
      deadline = service.keeper().schedule(this::deadlinePassed, maxWait.toNanos());
    }
    // The caller may stop waiting first (a cancel, a timeout of its own): leave the queue then.
    result.whenComplete(
        (handle, error) -> fail(new CancellationException("the caller stopped waiting")));
    create();
    return result;
  }

  /** After a reconnect: the watch may belong to a session that ended, so look again. */
  void recheck() {
    synchronized (this) {
      if (phase != Phase.WAITING) {
        return; // a request is in flight and will answer
      }
    }
    list();
  }

  /** The service is closing: give up without a hold. */
  void abort(Throwable reason) {
    fail(reason);
  }

  private void create() {
    int step;
    synchronized (this) {
      if (phase == Phase.DONE) {
        return;
      }
      phase = Phase.CREATING;
      nodePath = null;
      step = ++generation;
      createSent = true;
    }
    byte[] owner = ownerId.getBytes(StandardCharsets.UTF_8);
    service
        .call(
            cb ->
                service
                    .client()
                    .create()
                    .withMode(CreateMode.EPHEMERAL_SEQUENTIAL)
                    .inBackground(cb)
                    .forPath(LockNodes.childPrefixPath(parentPath, ownerId), owner))
        .whenComplete((event, error) -> guarded(() -> created(step, event, error)));
  }

  private void created(int step, CuratorEvent event, Throwable error) {
    if (error == null && event.getResultCode() == KeeperException.Code.NONODE.intValue()) {
      createParent(step); // nothing was created
      return;
    }
    if (error != null || event.getResultCode() != KeeperException.Code.OK.intValue()) {
      // The create may have reached the server though its answer did not: find and delete the
      // node by its owner id once ZooKeeper answers, or it would queue ahead of everyone for as
      // long as the session lives (also when this acquire already failed meanwhile).
      service.removeNodesOf(parentPath, ownerId);
      fail(error != null ? error : failure(event, parentPath));
      return;
    }
    String path = event.getName();
    synchronized (this) {
      if (phase == Phase.DONE) {
        // We gave up while the create was in flight. Its answer may come from a create the client
        // sent again after a lost answer, and the first one may have made a node too: remove
        // every node of this owner, not only the one answered.
        service.removeNodesOf(parentPath, ownerId);
        return;
      }
      if (step != generation) {
        service.deleteGuaranteed(path); // an older create's node; a newer one is on its way
        return;
      }
      nodePath = path;
    }
    if (LockNodes.sequence(path) < 0) {
      fail(
          new IllegalStateException(
              "the sequence under "
                  + parentPath
                  + " overflowed its 32 bits ("
                  + path
                  + "); fencing tokens for this name cannot continue"));
      return;
    }
    Stat stat = event.getStat();
    if (stat != null) {
      sessionCreated(stat.getEphemeralOwner());
      return;
    }
    // A client that answers without a stat: ask for the node's owner.
    service
        .exists(path)
        .whenComplete(
            (found, failure) ->
                guarded(
                    () -> {
                      if (failure != null) {
                        fail(failure);
                      } else if (found == null) {
                        create(); // our session ended meanwhile
                      } else {
                        sessionCreated(found.getEphemeralOwner());
                      }
                    }));
  }

  /**
   * The lock name has no parent yet, or its parent was deleted: create it with an offset above
   * every token issued ({@link FenceFloor}), then queue again.
   */
  private void createParent(int step) {
    boolean giveUp;
    synchronized (this) {
      if (phase == Phase.DONE || step != generation) {
        return;
      }
      giveUp = ++parentsCreated > MAX_PARENT_CREATES;
    }
    if (giveUp) {
      fail(
          new IllegalStateException(
              parentPath + " was deleted again each time it was created; giving up this acquire"));
      return;
    }
    service
        .fenceFloor()
        .newParentData()
        .thenCompose(
            data ->
                service.call(
                    cb ->
                        service
                            .client()
                            .create()
                            .creatingParentsIfNeeded()
                            .inBackground(cb)
                            .forPath(parentPath, data)))
        .whenComplete(
            (event, error) ->
                guarded(
                    () -> {
                      int code = error == null ? event.getResultCode() : 0;
                      if (error != null) {
                        fail(error);
                      } else if (code == KeeperException.Code.OK.intValue()
                          || code == KeeperException.Code.NODEEXISTS.intValue()) {
                        create();
                      } else {
                        fail(failure(event, parentPath));
                      }
                    }));
  }

  private void sessionCreated(long owner) {
    int granted = service.negotiatedSessionTimeoutMs();
    long leaseMs = service.settings().leaseDuration().toMillis();
    if (granted > 0 && granted < leaseMs) {
      fail(
          new InvalidLockPolicyException(
              name,
              "leaseDuration ("
                  + service.settings().leaseDuration()
                  + ") is longer than the ZooKeeper session timeout the server granted ("
                  + granted
                  + " ms): a holder could lose its node before its lease ends. Shorten"
                  + " leaseDuration or raise the server's maxSessionTimeout."));
      return;
    }
    synchronized (this) {
      sessionId = owner;
    }
    list();
  }

  private void list() {
    int step;
    synchronized (this) {
      if (phase == Phase.DONE) {
        return;
      }
      phase = Phase.LISTING;
      step = ++generation;
    }
    long sentAt = System.nanoTime();
    service
        .call(cb -> service.client().getChildren().inBackground(cb).forPath(parentPath))
        .whenComplete((event, error) -> guarded(() -> listed(step, sentAt, event, error)));
  }

  private void listed(int step, long sentAt, CuratorEvent event, Throwable error) {
    if (error != null || event.getResultCode() != KeeperException.Code.OK.intValue()) {
      fail(error != null ? error : failure(event, parentPath));
      return;
    }
    List<String> children = LockNodes.sorted(event.getChildren());
    Stat parent = event.getStat();
    String predecessor;
    String vanished = null;
    long sequence = -1;
    Long offset = null;
    List<String> duplicates = new ArrayList<>();
    synchronized (this) {
      if (phase == Phase.DONE || step != generation) {
        return;
      }
      String own = ZKPaths.getNodeFromPath(nodePath);
      // A create the client retried after a lost answer may have made a second node of ours: it
      // would queue ahead of (or behind) us in our own session. Delete it and leave it out.
      for (String child : children) {
        if (child.startsWith(LockNodes.ownerPrefix(ownerId)) && !child.equals(own)) {
          duplicates.add(child);
        }
      }
      children.removeAll(duplicates);
      int index = children.indexOf(own);
      // A listing over a newer session than our node's proves nothing about the node's session:
      // treat the node as gone.
      boolean ownSession = service.currentSessionId() == sessionId;
      if (index == 0 && ownSession) {
        sequence = LockNodes.sequence(nodePath);
        offset = service.fenceFloor().cachedOffset(parentPath, parent);
        if (offset != null && service.fenceFloor().covers(offset + sequence)) {
          win(sentAt, offset + sequence);
          return;
        }
      }
      if (sequence >= 0) {
        predecessor = null; // first in line: the token is settled below
      } else if (deadlinePassed) {
        predecessor = null;
      } else if (index < 0 || !ownSession) {
        // Our node is gone: its session ended, or someone removed it. Queue again at the back.
        predecessor = null;
        vanished = nodePath;
      } else {
        predecessor = ZKPaths.makePath(parentPath, children.get(index - 1));
        phase = Phase.WATCHING;
      }
    }
    for (String duplicate : duplicates) {
      service.deleteGuaranteed(ZKPaths.makePath(parentPath, duplicate));
    }
    if (sequence >= 0) {
      settleToken(step, sentAt, parent, sequence, offset);
    } else if (vanished != null) {
      service.deleteGuaranteed(vanished); // harmless when gone; frees it when the session lingers
      create();
    } else if (predecessor == null) {
      fail(new LockTimeoutException(name, maxWait));
    } else {
      watch(step, predecessor);
    }
  }

  /**
   * First in line, but the token's counter is not known to be covered by the fence floor: read the
   * parent's offset unless {@code cached} (the listing's parent, as this service met it before),
   * raise the floor when the counter has passed it, and look at the children again after a raise,
   * so the hold is granted only with a token below the floor every new parent starts above.
   */
  private void settleToken(int step, long sentAt, Stat listed, long sequence, Long cached) {
    FenceFloor floor = service.fenceFloor();
    CompletableFuture<Long> offset =
        cached != null
            ? CompletableFuture.completedFuture(cached)
            : floor
                .readOffset(parentPath)
                .thenApply(
                    read ->
                        read == null || (listed != null && read.czxid() != listed.getCzxid())
                            ? null // another parent now
                            : read.offset());
    offset
        .thenCompose(
            known -> {
              if (known == null) {
                return CompletableFuture.completedFuture(-1L); // look again
              }
              long counter = known + sequence;
              return floor.covers(counter)
                  ? CompletableFuture.completedFuture(counter)
                  : floor.raiseFor(counter).thenApply(raised -> -1L);
            })
        .whenComplete(
            (counter, error) ->
                guarded(
                    () -> {
                      if (error != null) {
                        fail(error);
                        return;
                      }
                      synchronized (this) {
                        if (phase == Phase.DONE || step != generation) {
                          return; // a newer step decides
                        }
                        if (counter >= 0) {
                          win(sentAt, counter);
                          return;
                        }
                      }
                      list();
                    }));
  }

  private void watch(int step, String predecessor) {
    Watcher watcher =
        (WatchedEvent event) -> {
          // Only the predecessor's change counts: connection-state events reach every watcher
          // (reconnects are handled by recheck()), and removing the watch reports its removal.
          if (event.getType() == Watcher.Event.EventType.NodeDeleted
              || event.getType() == Watcher.Event.EventType.NodeDataChanged) {
            service.watchFired();
            guarded(this::predecessorChanged);
          }
        };
    service
        .call(cb -> watching.getData().usingWatcher(watcher).inBackground(cb).forPath(predecessor))
        .whenComplete((event, error) -> guarded(() -> watchSet(step, predecessor, event, error)));
  }

  private void watchSet(int step, String predecessor, CuratorEvent event, Throwable error) {
    int code = error == null ? event.getResultCode() : KeeperException.Code.OK.intValue();
    if (error == null && code == KeeperException.Code.NONODE.intValue()) {
      boolean current;
      synchronized (this) {
        current = phase == Phase.WATCHING && step == generation;
      }
      if (current) {
        list(); // gone before the watch was set: look again
      }
      return;
    }
    if (error != null || code != KeeperException.Code.OK.intValue()) {
      fail(error != null ? error : failure(event, predecessor));
      return;
    }
    boolean timedOut;
    synchronized (this) {
      if (phase != Phase.WATCHING || step != generation) {
        return;
      }
      phase = Phase.WAITING;
      timedOut = deadlinePassed;
    }
    if (timedOut) {
      fail(new LockTimeoutException(name, maxWait));
    }
  }

  private void predecessorChanged() {
    synchronized (this) {
      if (phase == Phase.DONE) {
        return;
      }
    }
    list();
  }

  private void deadlinePassed() {
    Throwable outcome;
    synchronized (this) {
      if (phase == Phase.DONE) {
        return;
      }
      deadlinePassed = true;
      if (!service.isConnected()) {
        outcome =
            new KeeperException.ConnectionLossException() {
              @Override
              public String getMessage() {
                return "not connected to ZooKeeper when the wait of " + maxWait + " ended";
              }
            };
      } else if (phase == Phase.WAITING) {
        outcome = new LockTimeoutException(name, maxWait);
      } else {
        // The request in flight decides, on a live connection; but not for longer than a request
        // may take, so no acquire outlives its wait by more than that.
        service.keeper().schedule(this::noAnswer, service.operationTimeout().toNanos());
        return;
      }
    }
    fail(outcome);
  }

  private void noAnswer() {
    fail(
        new KeeperException.OperationTimeoutException() {
          @Override
          public String getMessage() {
            return "ZooKeeper did not answer within "
                + service.operationTimeout()
                + " after the wait of "
                + maxWait
                + " ended";
          }
        });
  }

  /** Called with this monitor held. */
  private void win(long sentAt, long counter) {
    if (service.isClosedForAcquire()) {
      phase = Phase.DONE;
      deadline.cancel(false);
      service.deleteGuaranteed(nodePath);
      service.finished(this);
      watching.removeWatchers();
      result.completeExceptionally(new IllegalStateException("the lock service was closed"));
      return;
    }
    phase = Phase.DONE;
    deadline.cancel(false);
    LockHandle handle = service.won(name, counter, ownerId, sentAt, nodePath, sessionId);
    service.finished(this);
    watching.removeWatchers();
    Holds.handOver(result, handle);
  }

  private void fail(Throwable reason) {
    String path;
    boolean sent;
    synchronized (this) {
      if (phase == Phase.DONE) {
        return;
      }
      phase = Phase.DONE;
      if (deadline != null) {
        deadline.cancel(false);
      }
      path = nodePath;
      sent = createSent;
    }
    if (path != null) {
      service.deleteGuaranteed(path);
    }
    if (sent) {
      // A create answered after the client sent it again (its first answer lost in an outage) may
      // have left a second node of this owner, which would queue ahead of everyone for as long as
      // the session lives: look for every node of this owner, and delete what is left.
      service.removeNodesOf(parentPath, ownerId);
    }
    watching.removeWatchers(); // a watch on a node that stays held would outlive this acquire
    service.finished(this);
    result.completeExceptionally(Failures.unwrap(reason));
  }

  /** Runs one step of the recipe; a bug in it fails this acquire instead of leaving it hanging. */
  private void guarded(Runnable step) {
    try {
      step.run();
    } catch (RuntimeException e) {
      fail(e);
    }
  }

  private static KeeperException failure(CuratorEvent event, String path) {
    return KeeperException.create(KeeperException.Code.get(event.getResultCode()), path);
  }
}
