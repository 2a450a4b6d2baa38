package dev.fenced.lock.redis;

import dev.fenced.lock.ledger.Incarnation;
import dev.fenced.lock.ledger.LedgerStore;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The Redis ledger: the string key {@code <prefix>:ledger}, replaced by a compare-and-set script.
 *
 * <p>The incarnation is the server's {@code run_id} (new at every start of the process, different
 * on every server, so a restart or a failover to a replica changes it) together with the marker
 * {@code <prefix>:incarnation}, a random id that provisioning sets once ({@code SET NX}): a server
 * that lost its keys ({@code FLUSHALL}, a restart without persistence, a replica that never had
 * them) has no marker or a new one even where the run_id stays.
 */
final class RedisLedgerStore implements LedgerStore {

  /** KEYS[1] the ledger; ARGV[1] the expected document ('' for none), ARGV[2] the new one. */
  static final RedisScript COMPARE_AND_SET =
      new RedisScript(
          "ledger-cas",
          """
          local stored = redis.call('GET', KEYS[1]) or ''
          if stored ~= ARGV[1] then
            return 0
          end
          redis.call('SET', KEYS[1], ARGV[2])
          return 1
          """);

  private final Redis client;
  private final RedisKeys keys;
  private final long timeoutMillis;

  RedisLedgerStore(Redis client, RedisKeys keys, long timeoutMillis) {
    this.client = client;
    this.keys = keys;
    this.timeoutMillis = timeoutMillis;
  }

  /** Sets the incarnation marker unless one exists; part of provisioning. */
  Future<Void> provisionMarker() {
    return send(Request.cmd(Command.SET)
            .arg(keys.incarnation())
            .arg(UUID.randomUUID().toString())
            .arg("NX"))
        .mapEmpty();
  }

  @Override
  public CompletionStage<Snapshot> read() {
    return send(Request.cmd(Command.GET).arg(keys.ledger()))
        .map(
            r -> {
              String document = r == null ? null : r.toString();
              return new Snapshot(document, document);
            })
        .toCompletionStage();
  }

  @Override
  public CompletionStage<Boolean> compareAndSet(Snapshot expected, String document) {
    String before = expected.document() == null ? "" : expected.document();
    return COMPARE_AND_SET
        .run(client, timeoutMillis, List.of(keys.ledger()), List.of(before, document))
        .map(r -> r.toLong() == 1L)
        .toCompletionStage();
  }

  @Override
  public CompletionStage<Incarnation> incarnation() {
    return client
        .batch(
            List.of(
                Request.cmd(Command.INFO).arg("server"),
                Request.cmd(Command.GET).arg(keys.incarnation())))
        .timeout(timeoutMillis, TimeUnit.MILLISECONDS)
        .map(
            replies -> {
              Map<String, String> info = RedisLockService.parseInfo(replies.get(0).toString());
              String runId = info.getOrDefault("run_id", "unknown");
              Response marker = replies.get(1);
              String markerId = marker == null ? "none" : marker.toString();
              return Incarnation.of(
                  "redis run_id=" + runId + " marker=" + markerId,
                  "Redis server run_id "
                      + runId
                      + " (changes at every restart and failover) and marker "
                      + keys.incarnation()
                      + (marker == null ? " missing (the keys are gone)" : " = " + markerId));
            })
        .toCompletionStage();
  }

  /** The marker id that is part of an incarnation this store read, or null when there was none. */
  static String markerOf(Incarnation incarnation) {
    return part(incarnation, "marker", "none");
  }

  /** The server {@code run_id} that is part of an incarnation this store read, or null. */
  static String runIdOf(Incarnation incarnation) {
    return part(incarnation, "run_id", "unknown");
  }

  /**
   * The value of {@code key=} in an incarnation id this store wrote ({@code redis run_id=<id>
   * marker=<id>}; neither value has spaces), or null when it is missing or {@code absent}.
   */
  private static String part(Incarnation incarnation, String key, String absent) {
    for (String field : incarnation.id().split(" ")) {
      if (field.startsWith(key + "=")) {
        String value = field.substring(key.length() + 1);
        return value.isEmpty() || value.equals(absent) ? null : value;
      }
    }
    return null;
  }

  @Override
  public String where() {
    return "Redis key " + keys.ledger();
  }

  private Future<Response> send(Request request) {
    return client.send(request).timeout(timeoutMillis, TimeUnit.MILLISECONDS);
  }
}
