-- 確認済みの保証 pages through an orderer's holdings newest verification first (keyset on
-- last_verified_at, guarantee_id): this index gives each page in order without sorting every
-- guarantee the orderer holds, however many that is.
CREATE INDEX orderer_guarantees_recent ON orderer_guarantees (orderer_id, last_verified_at DESC, guarantee_id DESC);
-- `admin locks` lists the locked counters of a scope: only those, not every counter ever kept.
CREATE INDEX throttle_counters_locked ON throttle_counters (scope, key) WHERE locked = 1;
