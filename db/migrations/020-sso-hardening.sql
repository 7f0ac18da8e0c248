-- Hardening sign-in through an orderer's identity provider (issue 18, review).
--
-- An officer's account is tied to the provider's subject (the ID token's `sub`, which the user
-- cannot edit, unlike an e-mail address) at their first sign-in through it; afterwards only that
-- subject signs in as them, and one subject names at most one officer of an orderer. The links go
-- with the orderer's setting (`orderer sso CODE --remove`) and are cleared when its issuer or
-- client id changes (a new provider, or a new client of a pairwise provider, has other subjects).
CREATE TABLE sso_subjects (
  officer_id INTEGER PRIMARY KEY REFERENCES officers (id),
  orderer_id INTEGER NOT NULL REFERENCES orderer_sso (orderer_id) ON DELETE CASCADE,
  issuer     TEXT    NOT NULL CHECK (length(issuer) BETWEEN 8 AND 500),
  subject    TEXT    NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
  linked_at  TEXT    NOT NULL,
  UNIQUE (orderer_id, issuer, subject)
);

-- The cap on sign-ins waiting is per orderer (one orderer's flood cannot stop another's), counted
-- with this index.
CREATE INDEX sso_pending_by_orderer ON sso_pending (orderer_id, expires_at);

-- A new throttle scope: sign-ins started through a provider, per client address ('sso_address').
-- SQLite cannot change a CHECK in place: the table is rebuilt, its counters kept.
CREATE TABLE throttle_counters_new (
  scope         TEXT    NOT NULL CHECK (scope IN ('officer', 'officer_contract', 'contract', 'address', 'login', 'device', 'sso_address')),
  key           TEXT    NOT NULL,
  failures      INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
  window_start  INTEGER NOT NULL,
  blocked_until INTEGER NOT NULL DEFAULT 0,
  locked        INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
  touched_at    INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
) WITHOUT ROWID;
INSERT INTO throttle_counters_new (scope, key, failures, window_start, blocked_until, locked, touched_at)
  SELECT scope, key, failures, window_start, blocked_until, locked, touched_at FROM throttle_counters;
DROP TABLE throttle_counters;
ALTER TABLE throttle_counters_new RENAME TO throttle_counters;
CREATE INDEX throttle_counters_by_age ON throttle_counters (touched_at);
