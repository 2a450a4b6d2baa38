-- The voting schema. Ballots are the source of truth; counters are the lock-protected live counts
-- (read-modify-write under vote:{poll}:{option}, fenced); tallies are what tally-worker folds from
-- the ballots exactly once.

CREATE TABLE polls (
    id         text PRIMARY KEY,
    title      text        NOT NULL,
    options    text[]      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- tx: the inserting transaction's id. tally-worker folds the ballots whose transaction is below the
-- snapshot horizon (pg_snapshot_xmin), where every transaction has finished, so a ballot that
-- commits late is never skipped and none is folded twice.
CREATE TABLE ballots (
    seq     bigserial   PRIMARY KEY,
    poll_id text        NOT NULL REFERENCES polls (id),
    voter   text        NOT NULL,
    option  text        NOT NULL,
    cast_at timestamptz NOT NULL DEFAULT now(),
    tx      xid8        NOT NULL DEFAULT pg_current_xact_id(),
    UNIQUE (poll_id, voter)
);
CREATE INDEX ballots_poll_tx ON ballots (poll_id, tx);

-- fence: the newest fencing token that wrote the row; a write with an older token is refused.
CREATE TABLE counters (
    poll_id text   NOT NULL REFERENCES polls (id),
    option  text   NOT NULL,
    count   bigint NOT NULL DEFAULT 0,
    fence   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (poll_id, option)
);

CREATE TABLE tallies (
    poll_id text   NOT NULL REFERENCES polls (id),
    option  text   NOT NULL,
    count   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (poll_id, option)
);

-- horizon: every ballot of this poll whose tx is below it has been folded into tallies.
CREATE TABLE tally_watermarks (
    poll_id text   PRIMARY KEY REFERENCES polls (id),
    horizon xid8   NOT NULL DEFAULT '0'::xid8,
    tallied bigint NOT NULL DEFAULT 0,
    fence   bigint NOT NULL DEFAULT 0
);
