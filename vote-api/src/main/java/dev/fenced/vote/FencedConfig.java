package dev.fenced.vote;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/**
 * The service's own settings ({@code fenced.*}; environment {@code FENCED_*}). Where policies and
 * Secrets come from ({@code fenced.policies.*}, {@code fenced.secrets.*}) is lock-quarkus's {@code
 * LocksConfig}, shared with tally-worker.
 */
@ConfigMapping(prefix = "fenced")
public interface FencedConfig {

  Vote vote();

  Results results();

  Db db();

  Pg pg();

  /** Where PostgreSQL is (env {@code FENCED_PG_HOST}, {@code _PORT}, {@code _DATABASE}). */
  interface Pg {
    @WithDefault("127.0.0.1")
    String host();

    @WithDefault("15432")
    int port();

    @WithDefault("fenced")
    String database();
  }

  interface Db {
    /** The time limit of one attempt at a poll query (retried when transient). */
    @WithDefault("5s")
    Duration timeout();
  }

  /** How a vote is counted. */
  enum Counter {
    /** Under the lock {@code vote:{poll}:{option}}: read the counter, write it back fenced. */
    LOCKED,
    /** No lock at all: one statement inserts the ballot and runs {@code count = count + 1}. */
    ATOMIC
  }

  interface Vote {
    /**
     * {@code locked} (the default): each vote's counter is read and written back under the lock
     * {@code vote:{poll}:{option}} of the governing LockPolicy, fenced by the hold's token; {@code
     * atomic}: no lock at all, the database increments the counter in the ballot's own statement,
     * the baseline the locks are measured against (env {@code FENCED_VOTE_COUNTER}).
     */
    @WithDefault("locked")
    Counter counter();

    Combining combining();

    /**
     * Look the voter up before queueing for the lock, so a repeated vote gets its 409 without
     * waiting for a hold (env {@code FENCED_VOTE_CHECK_DUPLICATES_FIRST}). Off by default: the read
     * costs every vote a database round trip, while a repeated vote left to the batch's insert
     * rides along in a hold that runs anyway and gets the same 409. The vote's own insert decides
     * either way: a voter whose first vote is in flight is told apart there.
     */
    @WithDefault("false")
    boolean checkDuplicatesFirst();

    /**
     * The longest one statement of a vote may run: PostgreSQL's {@code statement_timeout}, set on
     * the service's connections (and, under Postgres RowLock, in the lock's transaction), so the
     * server gives up and the vote is rolled back, never half recorded. A PostgreSQL duration such
     * as {@code 5s} or {@code 500ms} (env {@code FENCED_VOTE_STATEMENT_TIMEOUT}).
     */
    @WithDefault("5s")
    Duration statementTimeout();

    /** The {@code Retry-After} of a 503 answer (env {@code FENCED_VOTE_RETRY_AFTER}). */
    @WithDefault("1s")
    Duration retryAfter();
  }

  /** Combining: the votes queued in this replica for one lock share one hold. */
  interface Combining {
    /**
     * On: one hold serves every vote already queued for its lock, up to {@link #maxBatch()}; off:
     * one hold per vote (env {@code FENCED_VOTE_COMBINING_ENABLED}).
     */
    @WithDefault("true")
    boolean enabled();

    /**
     * The most votes one hold serves (env {@code FENCED_VOTE_COMBINING_MAX_BATCH}); the hold never
     * waits for more to arrive.
     */
    @WithDefault("64")
    int maxBatch();

    /**
     * The most batches one hold serves in a row (env {@code
     * FENCED_VOTE_COMBINING_MAX_BATCHES_PER_HOLD}): when a batch commits and its hold is still
     * held, the votes queued meanwhile run as the next batch under the same hold, without a release
     * and an acquire in between; after this many the hold is released, so other replicas get their
     * turn. 1 releases after every batch.
     */
    @WithDefault("4")
    int maxBatchesPerHold();

    /** The batch size in force: {@link #maxBatch()}, or 1 when combining is off. */
    default int batchLimit() {
      int limit = atLeastOne("max-batch", "MAX_BATCH", maxBatch());
      return enabled() ? limit : 1;
    }

    /** The batches per hold in force: {@link #maxBatchesPerHold()}, or 1 when combining is off. */
    default int holdLimit() {
      int limit = atLeastOne("max-batches-per-hold", "MAX_BATCHES_PER_HOLD", maxBatchesPerHold());
      return enabled() ? limit : 1;
    }

    private static int atLeastOne(String key, String env, int value) {
      if (value < 1) {
        throw new IllegalArgumentException(
            "fenced.vote.combining."
                + key
                + " (env FENCED_VOTE_COMBINING_"
                + env
                + ") must be at least 1, was "
                + value);
      }
      return value;
    }
  }

  interface Results {
    /**
     * How long this replica reuses a poll's results before reading them again (env {@code
     * FENCED_RESULTS_CACHE_TTL}); concurrent reads of one poll share one query. A vote recorded by
     * this replica makes its next read fresh. {@code 0s} reads on every request.
     */
    @WithDefault("500ms")
    Duration cacheTtl();
  }
}
