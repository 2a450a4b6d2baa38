-- Live tally-worker replicas. Each replica upserts its row every heartbeat; rows seen within the
-- membership expiry count as live, and each replica owns at most ceil(polls / live workers) polls.
-- The row only shares the work out: who may fold a poll is decided by the lock tally:{poll} and its
-- fencing token, never by this table.
CREATE TABLE tally_workers (
    worker_id    text        PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);
