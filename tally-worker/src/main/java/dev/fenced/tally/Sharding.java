package dev.fenced.tally;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Spreads the polls over a fixed number of shards and the shards over the live workers.
 *
 * <p>A poll's shard is the CRC-32 of its id's UTF-8 bytes modulo the shard count: the same in every
 * process and every release, so all workers agree on it without asking the database. Each shard is
 * owned through the lock {@code tally:shard-{i}-of-{n}}; the count is part of the name, so workers
 * running with two different counts never mistake one shard for another.
 *
 * <p>Which worker wants which shard follows from the live workers alone: the worker at position
 * {@code r} of the sorted live ids wants the shards {@code i} with {@code i % live == r}. Two
 * workers that see the same members want disjoint sets that cover every shard, whether or not the
 * lock excludes anyone; a worker that sees itself alone wants them all.
 *
 * @param count the number of shards, at least 1
 */
record Sharding(int count) {

  /** Lock names are this prefix and the shard ({@code shard-3-of-16}). */
  static final String LOCK_PREFIX = "tally:";

  /** The most shards a worker may be configured with. */
  static final int MAX_SHARDS = 4096;

  Sharding {
    if (count < 1 || count > MAX_SHARDS) {
      throw new IllegalArgumentException(
          "tally.shards must be between 1 and " + MAX_SHARDS + ", was " + count);
    }
  }

  int shardOf(String poll) {
    CRC32 crc = new CRC32();
    crc.update(poll.getBytes(StandardCharsets.UTF_8));
    return (int) (crc.getValue() % count);
  }

  String lockName(int shard) {
    return LOCK_PREFIX + "shard-" + shard + "-of-" + count;
  }

  /**
   * The shards the worker at {@code rank} among {@code live} workers wants, in ascending order.
   *
   * @param rank the worker's position among the sorted live worker ids, from 0
   * @param live the number of live workers, at least 1
   */
  List<Integer> wanted(int rank, int live) {
    if (live < 1 || rank < 0 || rank >= live) {
      throw new IllegalArgumentException("rank " + rank + " of " + live + " live workers");
    }
    List<Integer> shards = new ArrayList<>();
    for (int shard = rank; shard < count; shard += live) {
      shards.add(shard);
    }
    return shards;
  }
}
