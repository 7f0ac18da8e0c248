-- Issue 13: the throttles must not become a weapon. New scopes: 'device' (a browser's device
-- cookie, RL-03) and 'officer_contract' (one officer on one contract number); 'contract' is now
-- keyed "NUMBER/ORDERER" (the number and the officer's orderer), so that another orderer's
-- failures never delay the rightful orderer. touched_at is the last write, so that counters
-- nobody uses any more (unknown login ids above all) can be purged. SQLite cannot change a CHECK
-- in place: the table is rebuilt.
CREATE TABLE throttle_counters_new (
  scope         TEXT    NOT NULL CHECK (scope IN ('officer', 'officer_contract', 'contract', 'address', 'login', 'device')),
  key           TEXT    NOT NULL,
  failures      INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
  window_start  INTEGER NOT NULL,
  blocked_until INTEGER NOT NULL DEFAULT 0,
  locked        INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
  touched_at    INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
) WITHOUT ROWID;
-- The old per-number counters counted everybody's failures together (the weapon this removes) and
-- cannot be told apart by orderer: they go, with their locks. Logins, addresses and officers stay.
INSERT INTO throttle_counters_new (scope, key, failures, window_start, blocked_until, locked, touched_at)
  SELECT scope, key, failures, window_start, blocked_until, locked, max(window_start, blocked_until)
    FROM throttle_counters WHERE scope <> 'contract';
DROP TABLE throttle_counters;
ALTER TABLE throttle_counters_new RENAME TO throttle_counters;
CREATE INDEX throttle_counters_by_age ON throttle_counters (touched_at);
