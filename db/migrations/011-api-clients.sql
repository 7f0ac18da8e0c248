-- API clients (issue 16): an orderer's own systems, authenticated by OAuth 2.0 client credentials.
-- The secret is 256 random bits, so a plain SHA-256 of it cannot be brute-forced: no argon2 needed,
-- and the token endpoint stays cheap. Only the hash is stored.
CREATE TABLE api_clients (
  id              INTEGER PRIMARY KEY,
  client_id       TEXT    NOT NULL UNIQUE,
  orderer_id      INTEGER NOT NULL REFERENCES orderers (id),
  name            TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  secret_hash     TEXT    NOT NULL CHECK (length(secret_hash) = 64),
  active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at      TEXT    NOT NULL,
  secret_set_at   TEXT    NOT NULL
);
CREATE INDEX api_clients_orderer ON api_clients (orderer_id);

-- The audit trail names API clients as actors of their own kind. SQLite cannot widen a CHECK in
-- place: the table is rebuilt with every row copied as it is (ids, hashes, content), so the hash
-- chain still verifies. DROP TABLE fires no DELETE trigger; the triggers go with the old table and
-- are recreated exactly as 001 made them.
CREATE TABLE audit_events_new (
  id              INTEGER PRIMARY KEY,
  occurred_at     TEXT    NOT NULL,
  event           TEXT    NOT NULL,
  outcome         TEXT    NOT NULL,
  actor_kind      TEXT    NOT NULL CHECK (actor_kind IN ('officer', 'admin', 'anonymous', 'system', 'api-client')),
  actor           TEXT,
  officer_id      INTEGER,
  orderer_code    TEXT,
  client_address  TEXT,
  contract_number TEXT,
  detail          TEXT    CHECK (detail IS NULL OR json_valid(detail)),
  prev_hash       TEXT    NOT NULL,
  hash            TEXT    NOT NULL UNIQUE
);
INSERT INTO audit_events_new (id, occurred_at, event, outcome, actor_kind, actor, officer_id, orderer_code,
                              client_address, contract_number, detail, prev_hash, hash)
  SELECT id, occurred_at, event, outcome, actor_kind, actor, officer_id, orderer_code,
         client_address, contract_number, detail, prev_hash, hash
  FROM audit_events ORDER BY id;
DROP TABLE audit_events;
ALTER TABLE audit_events_new RENAME TO audit_events;
CREATE INDEX audit_events_orderer_time ON audit_events (orderer_code, occurred_at);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
