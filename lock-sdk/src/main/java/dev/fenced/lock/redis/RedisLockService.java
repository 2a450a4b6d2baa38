package dev.fenced.lock.redis;

import dev.fenced.lock.BackendProbe;
import dev.fenced.lock.BackendUnavailableException;
import dev.fenced.lock.LockHandle;
import dev.fenced.lock.LockSettings;
import dev.fenced.lock.ledger.BackendLedger;
import dev.fenced.lock.ledger.Incarnation;
import dev.fenced.lock.support.AbstractLockHandle;
import dev.fenced.lock.support.AbstractLockService;
import dev.fenced.lock.support.AcquireLoop;
import dev.fenced.lock.support.AcquireLoop.Attempt;
import dev.fenced.lock.support.LeaseKeeper;
import dev.fenced.lock.support.Owners;
import dev.fenced.lock.support.Waiters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisRole;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Locks in Redis: {@code SET NX PX} with a random owner, a per-name {@code INCR} counter for the
 * fencing token, compare-owner renewal and release in Lua, and pub/sub to wake waiters.
 *
 * <ul>
 *   <li>Acquire is one script, one round trip: set the lock key if absent with the lease as its
 *       TTL, and if set, increment the fence key and return it; otherwise return the lock's
 *       remaining TTL, which caps how long the waiter sleeps.
 *   <li>Release deletes the key only if it still holds this owner. Waiters queue per name in each
 *       service and only the head tries ({@link Waiters}). The releasing service wakes its own head
 *       as soon as the release is answered; the script publishes the lock name on the release
 *       channel only when some attempt was refused during the hold (a flag the acquire script
 *       raises), and every other service's subscriber then wakes its head: one attempt per service
 *       per release, not one per waiter, and no message at all for an uncontended release.
 *   <li>When the releasing service has a waiter of its own for the name and no other service was
 *       refused during the hold, the release script hands the lock straight to that waiter (a new
 *       owner and the next fence, in the same round trip) instead of deleting it: the waiter holds
 *       without an acquire round trip of its own. Once another service asks, releases delete and
 *       publish again, so no service keeps a lock from the others.
 *   <li>Services take turns: a refused service joins the name's line once, and a release gives the
 *       first other service in line the turn for {@link #TURN_MILLIS}, during which every other
 *       service's attempt is refused. Services hold in the order they asked, instead of the
 *       releasing service, whose waiter is woken first, winning the race after its own release.
 *   <li>Renewal extends the TTL only if the key still holds this owner; a refusal means another
 *       holder took over and the handle reports {@code RENEWAL_REJECTED}.
 * </ul>
 *
 * <p>Expiry is judged by the Redis server's clock. The service can promise only what Redis keeps:
 * without AOF a restart forgets holds and resets the fence counters (tokens repeat), and a failover
 * to an asynchronous replica can lose a hold or a fence increment; see {@link #probe()}.
 */
public final class RedisLockService extends AbstractLockService {

  public static final String BACKEND = "Redis";

  private final Vertx vertx;
  private final Redis client;
  private final boolean ownsClient;
  private final RedisKeys keys;
  private final long timeoutMillis;
  private final Duration maxBackoff;
  private final Waiters waiters = new Waiters();
  private final ReleaseSubscriber subscriber;
  private final AtomicLong attempts = new AtomicLong();
  private final RedisLedgerStore ledgerStore;

  /** The marker the epoch was confirmed for; null until a confirmation (no check then). */
  private volatile String expectedMarker;

  /** The server process the epoch was confirmed on; null until a confirmation (no check then). */
  private volatile String expectedRunId;

  /**
   * The lease as {@code PX} takes it: whole milliseconds, rounded up, so the server never expires a
   * hold before the local deadline (which counts the exact lease from before the request).
   */
  private final long leaseMillis;

  /**
   * How long a service that a release chose holds the turn (the others' attempts are refused)
   * before it lapses: long enough for the release's message to reach it and its attempt to arrive,
   * short enough that a service that gave up or died while in line delays the others only this
   * once. Never longer than the lease.
   */
  static final long TURN_MILLIS = 100;

  private final long turnMillis;

  /** Identifies this service's refused attempts in the waiting flag and the line. */
  private final String serviceId = Owners.newOwnerId();

  /** Holds a release handed to this service's own waiters, until the head takes it. */
  private final Map<String, Handle> handedOver = new ConcurrentHashMap<>();

  /**
   * A service with its own client and connections to {@code config.connectionString()}.
   *
   * @param vertx owned by the caller, who closes it after this service
   * @param keeper the timer for renewals and back-off; null to give this service its own
   */
  public RedisLockService(
      Vertx vertx, RedisLockConfig config, LockSettings settings, LeaseKeeper keeper) {
    this(vertx, createClient(vertx, config), true, config, settings, keeper);
  }

  /**
   * A service on an existing client, e.g. the one a Quarkus application already has. The client's
   * own options (endpoint, password, pool) apply; {@code config} gives the key prefix, timeouts and
   * back-off ({@link RedisLockConfig#forClient(String)}). The client stays open when this service
   * closes. The service takes one connection from it for as long as it lives, for its release
   * subscription.
   */
  public RedisLockService(
      Vertx vertx,
      Redis client,
      RedisLockConfig config,
      LockSettings settings,
      LeaseKeeper keeper) {
    this(vertx, client, false, config, settings, keeper);
  }

  private RedisLockService(
      Vertx vertx,
      Redis client,
      boolean ownsClient,
      RedisLockConfig config,
      LockSettings settings,
      LeaseKeeper keeper) {
    super(Objects.requireNonNull(settings, "settings must be set"), keeper);
    this.vertx = Objects.requireNonNull(vertx, "vertx must be set");
    this.client = Objects.requireNonNull(client, "client must be set");
    this.ownsClient = ownsClient;
    Objects.requireNonNull(config, "config must be set");
    this.keys = new RedisKeys(config.keyPrefix());
    this.leaseMillis = TimeUnit.NANOSECONDS.toMillis(settings.leaseDuration().toNanos() + 999_999);
    this.turnMillis = Math.min(TURN_MILLIS, leaseMillis);
    this.timeoutMillis = config.requestTimeout().toMillis();
    this.maxBackoff = config.maxBackoff();
    this.ledgerStore = new RedisLedgerStore(client, keys, timeoutMillis);
    this.subscriber =
        new ReleaseSubscriber(
            vertx, client, keys.releaseChannel(), waiters, timeoutMillis, this::incarnationDoubt);
    subscriber.start();
  }

  private static Redis createClient(Vertx vertx, RedisLockConfig config) {
    Objects.requireNonNull(config, "config must be set");
    if (config.connectionString() == null && config.sentinel() == null) {
      throw new IllegalArgumentException(
          "connectionString or sentinel must be set when the service creates its own client");
    }
    int timeout = (int) Math.min(Integer.MAX_VALUE, config.requestTimeout().toMillis());
    RedisOptions options = new RedisOptions();
    if (config.sentinel() != null) {
      // The Sentinels name the primary; connections follow the failovers they announce.
      options
          .setType(RedisClientType.SENTINEL)
          .setEndpoints(new ArrayList<>(config.sentinel().endpoints()))
          .setMasterName(config.sentinel().masterName())
          .setRole(RedisRole.MASTER)
          .setAutoFailover(true);
    } else {
      options.setConnectionString(config.connectionString());
    }
    options
        .setMaxPoolSize(config.maxPoolSize())
        // Waiting for a pooled connection is bounded by the request timeout, not by a queue.
        .setMaxPoolWaiting(1024)
        .setMaxWaitingHandlers(4096)
        .setNetClientOptions(new NetClientOptions().setConnectTimeout(timeout).setTcpNoDelay(true));
    if (config.password() != null) {
      options.setPassword(config.password());
    }
    return Redis.createClient(vertx, options);
  }

  @Override
  public String backend() {
    return BACKEND;
  }

  @Override
  protected CompletionStage<LockHandle> doAcquire(String name, Duration maxWait) {
    CompletionStage<LockHandle> loop =
        AcquireLoop.run(name, maxWait, keeper, waiters, maxBackoff, () -> tryAcquire(name));
    // The loop itself goes back to the caller, so that a caller who gives up cancels it; a stage
    // derived from it would take the cancel and leave the loop waiting. Once it ended in failure
    // (after it stopped counting as a waiter), a hold handed over meanwhile may reach nobody.
    loop.whenCompleteAsync(
        (handle, error) -> {
          if (error != null) {
            returnUnclaimed(name);
          }
        },
        callbacks());
    return loop;
  }

  private CompletionStage<Attempt<LockHandle>> tryAcquire(String name) {
    Handle handed = handedOver.remove(name);
    if (handed != null) {
      if (isClosed()) {
        handed.release();
        return CompletableFuture.failedFuture(
            new IllegalStateException("the lock service was closed"));
      }
      return CompletableFuture.completedFuture(Attempt.acquired(started(handed)));
    }
    attempts.incrementAndGet();
    String owner = Owners.newOwnerId();
    long sentAt = System.nanoTime();
    String marker = expectedMarker;
    String runId = expectedRunId;
    return LockScripts.ACQUIRE
        .run(
            client,
            timeoutMillis,
            List.of(
                keys.lock(name),
                keys.fence(name),
                keys.waiting(name),
                keys.incarnation(),
                keys.fenceFloor(),
                keys.line(name),
                keys.turn(name)),
            List.of(
                owner,
                Long.toString(leaseMillis),
                marker == null ? "" : marker,
                serviceId,
                runId == null ? "" : runId))
        .<Attempt<LockHandle>>map(
            reply -> {
              if (reply.get(0).toLong() == -1L) {
                incarnationDoubt();
                throw new BackendUnavailableException(
                    BACKEND,
                    name,
                    new IllegalStateException(
                        "the server is no longer the incarnation the fencing epoch was set for"
                            + " (marker "
                            + keys.incarnation()
                            + " = "
                            + marker
                            + ", run_id "
                            + runId
                            + "): restarted, flushed, or a replica promoted by a failover; no"
                            + " hold until the fencing epoch rises"));
              }
              long value = reply.get(1).toLong();
              if (reply.get(0).toLong() == 1L) {
                if (isClosed()) {
                  throw new IllegalStateException("the lock service was closed");
                }
                Handle handle = new Handle(name, token(value), owner, sentAt);
                return Attempt.acquired(started(handle));
              }
              // value is the PTTL: -1 only for a key someone wrote without a TTL.
              return Attempt.busy(value > 0 ? TimeUnit.MILLISECONDS.toNanos(value) : 0);
            })
        .onFailure(error -> forgetOrphan(name, owner))
        .toCompletionStage();
  }

  /**
   * A request that failed may still have run on the server (a timeout, a connection lost after the
   * write): remove a hold nobody will ever renew rather than block the lock for a whole lease.
   */
  private void forgetOrphan(String name, String owner) {
    releaseScript(name, owner);
  }

  /** The {@link LockScripts#RELEASE} of {@code owner}'s hold; 1 when it was still that hold. */
  private Future<Response> releaseScript(String name, String owner) {
    return LockScripts.RELEASE.run(
        client,
        timeoutMillis,
        List.of(keys.lock(name), keys.waiting(name), keys.line(name), keys.turn(name)),
        List.of(owner, keys.releaseChannel(), name, serviceId, Long.toString(turnMillis)));
  }

  /** Releases a handed-over hold when no waiter of this service is left to take it. */
  private void returnUnclaimed(String name) {
    if (waiters.waiting(name) == 0) {
      Handle handed = handedOver.remove(name);
      if (handed != null) {
        handed.release();
      }
    }
  }

  /**
   * Loads the scripts into the server's cache, sets the incarnation marker {@code
   * <prefix>:incarnation} unless it exists, and builds the fence floor {@code <prefix>:fence-floor}
   * from the fence counters when it is missing. Idempotent.
   */
  @Override
  public CompletionStage<Void> provision() {
    return typed(
        () ->
            Future.all(LockScripts.ALL.stream().map(s -> s.load(client, timeoutMillis)).toList())
                .compose(loaded -> ledgerStore.provisionMarker())
                .compose(marked -> provisionFenceFloor())
                .toCompletionStage());
  }

  /**
   * A prefix from before the fence floor, or one whose floor was deleted, has counters the floor
   * does not cover: read them all once ({@code SCAN}, which returns every key present for its whole
   * run) and raise the floor to the highest, rounded down to a multiple of the step. Counters that
   * rise meanwhile raise the floor themselves (the acquire script), and raising never lowers it.
   */
  private Future<Void> provisionFenceFloor() {
    return send(Request.cmd(Command.EXISTS).arg(keys.fenceFloor()))
        .compose(
            exists ->
                exists.toLong() == 1L
                    ? Future.succeededFuture()
                    : highestFence("0", 0L)
                        .compose(
                            highest ->
                                LockScripts.RAISE_FENCE_FLOOR.run(
                                    client,
                                    timeoutMillis,
                                    List.of(keys.fenceFloor()),
                                    List.of(
                                        Long.toString(
                                            highest - highest % LockScripts.FENCE_FLOOR_STEP))))
                        .mapEmpty());
  }

  private Future<Long> highestFence(String cursor, long highest) {
    return send(Request.cmd(Command.SCAN)
            .arg(cursor)
            .arg("MATCH")
            .arg(keys.fencePattern())
            .arg("COUNT")
            .arg(1000))
        .compose(
            page -> {
              String next = page.get(0).toString();
              Response found = page.get(1);
              Future<Long> max = Future.succeededFuture(highest);
              if (found.size() > 0) {
                Request mget = Request.cmd(Command.MGET);
                found.forEach(key -> mget.arg(key.toString()));
                max = send(mget).map(values -> Math.max(highest, highestCounter(values)));
              }
              return next.equals("0") ? max : max.compose(m -> highestFence(next, m));
            });
  }

  /** The highest counter among values read back; a value that is no counter is left out. */
  private static long highestCounter(Response values) {
    long highest = 0;
    for (Response value : values) {
      if (value != null) {
        try {
          highest = Math.max(highest, Long.parseLong(value.toString()));
        } catch (NumberFormatException notACounter) {
          // A key that only looks like a fence counter.
        }
      }
    }
    return highest;
  }

  /**
   * PING round trip, server version, and whether fencing survives a restart: only with AOF on does
   * Redis bring back the fence counters (and the holds) after a restart.
   */
  @Override
  public CompletionStage<BackendProbe> probe() {
    try {
      long start = System.nanoTime();
      return send(Request.cmd(Command.PING))
          .compose(
              pong -> {
                Duration latency = Duration.ofNanos(System.nanoTime() - start);
                return send(Request.cmd(Command.INFO))
                    .compose(
                        info ->
                            send(Request.cmd(Command.CONFIG).arg("GET").arg("appendfsync"))
                                .map(RedisLockService::configValue)
                                .otherwise((String) null) // CONFIG may be disabled (managed Redis)
                                .map(
                                    fsync -> describe(latency, parseInfo(info.toString()), fsync)));
              })
          .otherwise(error -> BackendProbe.down(BACKEND, error))
          .toCompletionStage();
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(BackendProbe.down(BACKEND, e));
    }
  }

  /**
   * From now on the acquire script refuses holds unless the server still has the marker and is
   * still the process ({@code run_id}) that were part of {@code incarnation}: a server that lost
   * its keys, restarted, or was promoted in a failover grants nothing at the old epoch.
   */
  @Override
  public void confirmIncarnation(Incarnation incarnation) {
    expectedMarker = RedisLedgerStore.markerOf(incarnation);
    expectedRunId = RedisLedgerStore.runIdOf(incarnation);
  }

  /** The ledger in {@code <prefix>:ledger}; see {@link RedisLedgerStore}. */
  @Override
  public Optional<BackendLedger> ledger() {
    return Optional.of(new BackendLedger(ledgerStore));
  }

  private static BackendProbe describe(Duration latency, Map<String, String> info, String fsync) {
    String version = info.getOrDefault("redis_version", "unknown version");
    boolean aof = "1".equals(info.get("aof_enabled"));
    String detail;
    if (aof) {
      detail =
          "Redis "
              + version
              + ", AOF on"
              + (fsync == null ? "" : " (appendfsync " + fsync + ")")
              + ": fence counters and holds survive a restart"
              + ("always".equals(fsync)
                  ? ""
                  : "; a crash of the host can still lose the last second of writes");
    } else {
      detail =
          "Redis "
              + version
              + ", AOF off: a restart resets the fence counters, so tokens can repeat,"
              + " and forgets every hold";
    }
    String eviction = evictionPolicy(info);
    String replication = replication(info);
    // allkeys-* may evict fence counters (tokens repeat); volatile-* only keys with a TTL.
    boolean fencesMayBeEvicted = eviction != null && eviction.startsWith("allkeys-");
    return BackendProbe.up(
        BACKEND,
        latency,
        aof && !fencesMayBeEvicted,
        detail
            + (eviction == null ? "" : "; " + describeEviction(eviction, info.get("maxmemory")))
            + (replication == null ? "" : "; " + replication));
  }

  /**
   * The policy by which the server may evict keys under {@code maxmemory}, or null when it evicts
   * nothing (no limit, or {@code noeviction}).
   */
  private static String evictionPolicy(Map<String, String> info) {
    String policy = info.get("maxmemory_policy");
    long limit;
    try {
      limit = Long.parseLong(info.getOrDefault("maxmemory", "0"));
    } catch (NumberFormatException e) {
      limit = 0;
    }
    return policy == null || policy.equals("noeviction") || limit == 0 ? null : policy;
  }

  /**
   * {@code allkeys-*} may evict fence counters (tokens repeat) and lock keys; {@code volatile-*}
   * only keys with a TTL, which every lock key has (two holders).
   */
  private static String describeEviction(String policy, String limit) {
    return "maxmemory-policy "
        + policy
        + " with maxmemory "
        + limit
        + ": under memory pressure the server evicts "
        + (policy.startsWith("allkeys-")
            ? "fence counters (tokens repeat) and lock keys (two holders)"
            : "lock keys, which carry a TTL (two holders)")
        + "; run with maxmemory-policy noeviction";
  }

  /** The server's replicas, which Redis feeds asynchronously; null when it has none. */
  private static String replication(Map<String, String> info) {
    String role = info.get("role");
    if ("slave".equals(role)) {
      return "this server is a replica: it refuses the writes a hold needs";
    }
    int replicas;
    try {
      replicas = Integer.parseInt(info.getOrDefault("connected_slaves", "0"));
    } catch (NumberFormatException e) {
      replicas = 0;
    }
    if (replicas == 0) {
      return null;
    }
    return replicas
        + " asynchronous replica(s): a failover can lose the last fence increments and holds;"
        + " the acquire script's run_id check raises the epoch before the first hold on a"
        + " promoted replica";
  }

  private static String configValue(Response reply) {
    // RESP2: [name, value]; RESP3: a map.
    if (reply == null) {
      return null;
    }
    if (reply.isMap()) {
      Response value = reply.get("appendfsync");
      return value == null ? null : value.toString();
    }
    return reply.size() == 2 ? reply.get(1).toString() : null;
  }

  static Map<String, String> parseInfo(String info) {
    Map<String, String> fields = new HashMap<>();
    for (String line : info.split("\r?\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && !line.startsWith("#")) {
        fields.put(line.substring(0, colon), line.substring(colon + 1).trim());
      }
    }
    return fields;
  }

  private Future<Response> send(Request request) {
    return client.send(request).timeout(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  /** Acquire attempts this service has sent; for tests that tell a wake-up from a back-off. */
  long acquireAttempts() {
    return attempts.get();
  }

  /** Whether release notifications reach this service right now. */
  boolean isSubscribed() {
    return subscriber.isSubscribed();
  }

  @Override
  protected void closeBackend() {
    // Like the live holds, a hold handed over but not taken lapses with its lease.
    handedOver.clear();
    subscriber.close();
    if (ownsClient) {
      client.close();
    }
  }

  private final class Handle extends AbstractLockHandle {

    Handle(String name, long token, String owner, long sentAt) {
      super(BACKEND, name, token, owner, settings, keeper, sentAt);
    }

    @Override
    protected CompletionStage<Boolean> renewOnBackend() {
      return LockScripts.RENEW
          .run(
              client,
              timeoutMillis,
              List.of(keys.lock(name())),
              List.of(ownerId(), Long.toString(leaseMillis)))
          .map(reply -> reply.toLong() == 1L)
          .toCompletionStage();
    }

    @Override
    protected CompletionStage<Boolean> releaseOnBackend() {
      if (waiters.waiting(name()) > 0 && !isClosed()) {
        return handOff();
      }
      return releaseScript(name(), ownerId())
          .map(
              reply -> {
                // This service's own next waiter learns of the release right here, without
                // waiting for (or needing) the published message.
                waiters.wake(name());
                return reply.toLong() == 1L;
              })
          .toCompletionStage();
    }

    /** Release and, when no other service waits, hold again for this service's next waiter. */
    private CompletionStage<Boolean> handOff() {
      String next = Owners.newOwnerId();
      long sentAt = System.nanoTime();
      return LockScripts.HAND_OFF
          .run(
              client,
              timeoutMillis,
              List.of(
                  keys.lock(name()),
                  keys.waiting(name()),
                  keys.fence(name()),
                  keys.fenceFloor(),
                  keys.line(name()),
                  keys.turn(name())),
              List.of(
                  ownerId(),
                  keys.releaseChannel(),
                  name(),
                  serviceId,
                  next,
                  Long.toString(settings.leaseDuration().toMillis()),
                  Long.toString(turnMillis)))
          .map(
              reply -> {
                long outcome = reply.get(0).toLong();
                if (outcome == 2L) {
                  handedOver.put(
                      name(), new Handle(name(), token(reply.get(1).toLong()), next, sentAt));
                }
                waiters.wake(name());
                if (outcome == 2L) {
                  returnUnclaimed(name());
                }
                return outcome != 0L;
              })
          .onFailure(error -> forgetOrphan(name(), next))
          .toCompletionStage();
    }
  }
}
