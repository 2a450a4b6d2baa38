-- tally-worker owns polls by shard (lock tally:shard-{i}-of-{n}), a fixed number of them, so the
-- cost of ownership does not grow with the number of polls. It finds the polls that have new
-- ballots with one range scan over the ballots' transaction ids past a cursor, across all polls,
-- instead of asking every poll: this index serves that scan. Idle polls are never read.
CREATE INDEX ballots_tx ON ballots (tx);

-- One row per shard of a shard count. fence/fence_holder: the newest hold of the shard's lock
-- that folded (a fold first raises them through a fenced update, so a stale owner's fold is
-- refused and two folds of one shard run one after the other). horizon: every ballot of the
-- shard's polls whose transaction id is below it is folded; a new owner starts looking for new
-- ballots there. A bigint holding an xid8 value; it only rises.
-- The shard count is part of the key: polls map to other shards under another count, so those
-- shards are other rows and other locks.
CREATE TABLE tally_shards (
    shard_count  integer NOT NULL CHECK (shard_count > 0),
    shard        integer NOT NULL CHECK (shard >= 0 AND shard < shard_count),
    horizon      bigint  NOT NULL DEFAULT 0,
    fence        bigint  NOT NULL DEFAULT 0,
    fence_holder text,
    PRIMARY KEY (shard_count, shard)
);

-- tally_watermarks keeps one row per poll (horizon, tallied); tally-worker moves a poll's horizon
-- only from the value it read (compare-and-set) in the shard's fenced transaction. Its fence and
-- fence_holder columns are no longer written by tally-worker: the shard's row carries the fence.
