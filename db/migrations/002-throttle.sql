-- Failure counters for throttling and lockout, keyed on what was submitted (an officer id, a
-- normalised contract number, a client address, a login), so real and unknown identifiers behave
-- alike. In SQLite so that they survive a restart.
CREATE TABLE throttle_counters (
  scope         TEXT    NOT NULL CHECK (scope IN ('officer', 'contract', 'address', 'login')),
  key           TEXT    NOT NULL,
  failures      INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
  window_start  INTEGER NOT NULL,
  blocked_until INTEGER NOT NULL DEFAULT 0,
  locked        INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
  PRIMARY KEY (scope, key)
) WITHOUT ROWID;
