-- 確認済みの保証 pages through an orderer's holdings newest verification first (keyset on
-- last_verified_at, guarantee_id): this index gives each page in order without sorting every
-- guarantee the orderer holds, however many that is.
CREATE INDEX orderer_guarantees_recent ON orderer_guarantees (orderer_id, last_verified_at DESC, guarantee_id DESC);
