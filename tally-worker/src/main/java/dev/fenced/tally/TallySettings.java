package dev.fenced.tally;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;

/**
 * How a {@link TallyWorker} runs.
 *
 * @param workerId this replica's name in the membership table; unique per process
 * @param foldInterval how often each owned poll is folded
 * @param heartbeatInterval how often the worker beats, recounts the live workers and rebalances
 * @param memberExpiry a worker silent for this long no longer counts as live; keep it shorter than
 *     the tally locks' lease, so a crashed worker's polls are wanted by the others by the time its
 *     leases lapse
 * @param shards how many shards the polls are spread over (locks {@code tally:shard-{i}-of-{n}}):
 *     the most workers that can share the folding, and the number of locks held whatever the number
 *     of polls; every replica must use the same count
 */
public record TallySettings(
    String workerId,
    Duration foldInterval,
    Duration heartbeatInterval,
    Duration memberExpiry,
    int shards) {

  /** The default shard count. */
  public static final int DEFAULT_SHARDS = 16;

  public TallySettings {
    if (workerId == null || workerId.isBlank()) {
      throw new IllegalArgumentException("tally.worker-id must not be blank");
    }
    positive("tally.fold-interval", foldInterval);
    positive("tally.heartbeat-interval", heartbeatInterval);
    positive("tally.member-expiry", memberExpiry);
    if (memberExpiry.compareTo(heartbeatInterval) <= 0) {
      throw new IllegalArgumentException(
          "tally.member-expiry ("
              + memberExpiry
              + ") must be longer than tally.heartbeat-interval ("
              + heartbeatInterval
              + ")");
    }
    if (shards < 1 || shards > Sharding.MAX_SHARDS) {
      throw new IllegalArgumentException(
          "tally.shards must be between 1 and " + Sharding.MAX_SHARDS + ", was " + shards);
    }
  }

  /** The same settings with {@code shards} shards. */
  public TallySettings withShards(int shards) {
    return new TallySettings(workerId, foldInterval, heartbeatInterval, memberExpiry, shards);
  }

  /** {@code hostname-pid-random}: unique even for two processes on one host. */
  public static String defaultWorkerId() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      host = "unknown-host";
    }
    long pid = ProcessHandle.current().pid();
    String random = UUID.randomUUID().toString().substring(0, 8);
    return host + "-" + pid + "-" + random;
  }

  private static void positive(String field, Duration value) {
    Objects.requireNonNull(value, field + " must be set");
    if (value.isZero() || value.isNegative()) {
      throw new IllegalArgumentException(field + " must be positive, was " + value);
    }
  }
}
