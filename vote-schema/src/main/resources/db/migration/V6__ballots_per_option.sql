-- ballots: how many ballots this option has, kept exact in the transaction that inserts them
-- (ballots = ballots + inserted, an atomic increment that needs no lock, under every policy,
-- None included: only count, the lock-protected read-modify-write, is meant to race). It lets a
-- poll's results be read in one query whose cost does not depend on the number of its ballots,
-- and it is per option, so the locks of two options never contend on one row.
-- Backfilled from the ballots present; vote-api replicas older than this migration do not keep it,
-- so upgrade them all before relying on it.
ALTER TABLE counters ADD COLUMN ballots bigint NOT NULL DEFAULT 0;

UPDATE counters c
   SET ballots = b.n
  FROM (SELECT poll_id, option, count(*) AS n FROM ballots GROUP BY poll_id, option) b
 WHERE b.poll_id = c.poll_id AND b.option = c.option;
