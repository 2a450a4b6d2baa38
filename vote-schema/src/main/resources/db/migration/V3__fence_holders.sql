-- fence_holder: the identity of the hold whose token is in fence. A write with an equal token is
-- accepted only from that same hold, so a token handed out twice (an asynchronous replica promoted
-- before it had the last counter increment, a re-created lock backend) never lets two holders
-- write. A NULL holder (never written, or written before this column existed) accepts an equal
-- token as before; that write records its holder.
ALTER TABLE counters ADD COLUMN fence_holder text;
ALTER TABLE tally_watermarks ADD COLUMN fence_holder text;
