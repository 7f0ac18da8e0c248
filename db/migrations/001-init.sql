-- Kakunin schema, version 1.
-- Timestamps are UTC ISO-8601 with milliseconds ("2026-11-25T04:08:00.000Z"); calendar dates are
-- "YYYY-MM-DD" as printed on the certificate; yen are INTEGER.

CREATE TABLE issuers (
  id                   INTEGER PRIMARY KEY,
  code                 TEXT    NOT NULL UNIQUE CHECK (code GLOB '[a-z0-9]*' AND length(code) BETWEEN 2 AND 32),
  name                 TEXT    NOT NULL CHECK (length(name) > 0),
  address              TEXT    NOT NULL CHECK (length(address) > 0),
  representative_title TEXT    NOT NULL CHECK (length(representative_title) > 0),
  representative_name  TEXT    NOT NULL CHECK (length(representative_name) > 0),
  created_at           TEXT    NOT NULL
);

CREATE TABLE orderers (
  id                   INTEGER PRIMARY KEY,
  code                 TEXT    NOT NULL UNIQUE CHECK (code GLOB '[0-9][0-9][0-9][0-9][0-9][0-9]'),
  name                 TEXT    NOT NULL CHECK (length(name) > 0),
  accepts_e_guarantees INTEGER NOT NULL DEFAULT 1 CHECK (accepts_e_guarantees IN (0, 1)),
  created_at           TEXT    NOT NULL
);

CREATE TABLE officers (
  id                   INTEGER PRIMARY KEY,
  login                TEXT    NOT NULL UNIQUE CHECK (length(login) BETWEEN 3 AND 64),
  display_name         TEXT    NOT NULL CHECK (length(display_name) > 0),
  orderer_id           INTEGER NOT NULL REFERENCES orderers (id),
  password_hash        TEXT    NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
  active               INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  must_change_password INTEGER NOT NULL DEFAULT 1 CHECK (must_change_password IN (0, 1)),
  password_changed_at  TEXT    NOT NULL,
  created_at           TEXT    NOT NULL
);
CREATE INDEX officers_orderer ON officers (orderer_id);

-- One row per guarantee contract. The certificate's content lives in guarantee_versions; this row
-- holds only what is not part of any one certificate: who may view it, its key and its status.
CREATE TABLE guarantees (
  id               INTEGER PRIMARY KEY,
  contract_number  TEXT    NOT NULL UNIQUE
                   CHECK (contract_number GLOB '[0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9]'),
  product          TEXT    NOT NULL CHECK (product IN ('advance', 'interim', 'contract')),
  issuer_id        INTEGER NOT NULL REFERENCES issuers (id),
  orderer_id       INTEGER NOT NULL REFERENCES orderers (id),
  auth_key_hash    TEXT    NOT NULL CHECK (auth_key_hash LIKE '$argon2id$%'),
  key_rotated_at   TEXT,
  status           TEXT    NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'cancelled')),
  cancelled_at     TEXT,
  cancel_reason    TEXT,
  created_at       TEXT    NOT NULL,
  CHECK ((status = 'valid' AND cancelled_at IS NULL AND cancel_reason IS NULL)
      OR (status = 'cancelled' AND cancelled_at IS NOT NULL AND length(cancel_reason) > 0))
);
CREATE INDEX guarantees_orderer ON guarantees (orderer_id);

-- Every issued state of a certificate, immutable (see the triggers below).
-- kind 'new' is 新規 (amendment_number 0), 'amendment' is 変更-N, 'correction' is 訂正 of the version
-- named by corrects_version_id and carries that version's amendment_number.
CREATE TABLE guarantee_versions (
  id                  INTEGER PRIMARY KEY,
  guarantee_id        INTEGER NOT NULL REFERENCES guarantees (id),
  sequence            INTEGER NOT NULL CHECK (sequence >= 1),
  kind                TEXT    NOT NULL CHECK (kind IN ('new', 'amendment', 'correction')),
  amendment_number    INTEGER NOT NULL CHECK (amendment_number >= 0),
  corrects_version_id INTEGER REFERENCES guarantee_versions (id),
  reached_platform_at TEXT    NOT NULL,
  content             TEXT    NOT NULL CHECK (json_valid(content)),
  UNIQUE (guarantee_id, sequence),
  CHECK ((kind = 'correction') = (corrects_version_id IS NOT NULL)),
  CHECK (kind <> 'new' OR (amendment_number = 0 AND sequence = 1)),
  CHECK (kind <> 'amendment' OR amendment_number >= 1)
);

-- A version leaves the default history when it is corrected (訂正) or withdrawn (変更取消).
-- Kept apart from the version itself so that versions stay immutable; append-only too.
CREATE TABLE version_retractions (
  version_id     INTEGER PRIMARY KEY REFERENCES guarantee_versions (id),
  cause          TEXT    NOT NULL CHECK (cause IN ('corrected', 'withdrawn')),
  retracted_at   TEXT    NOT NULL
);

CREATE TRIGGER guarantee_versions_no_update BEFORE UPDATE ON guarantee_versions
BEGIN SELECT RAISE(ABORT, 'guarantee versions are immutable'); END;
CREATE TRIGGER guarantee_versions_no_delete BEFORE DELETE ON guarantee_versions
BEGIN SELECT RAISE(ABORT, 'guarantee versions are immutable'); END;
CREATE TRIGGER version_retractions_no_update BEFORE UPDATE ON version_retractions
BEGIN SELECT RAISE(ABORT, 'version retractions are append-only'); END;
CREATE TRIGGER version_retractions_no_delete BEFORE DELETE ON version_retractions
BEGIN SELECT RAISE(ABORT, 'version retractions are append-only'); END;

-- What an orderer organisation has verified: colleagues reopen these without the key.
-- last_opened_* remember what the organisation last saw, to flag amendments and cancellations.
CREATE TABLE orderer_guarantees (
  orderer_id               INTEGER NOT NULL REFERENCES orderers (id),
  guarantee_id             INTEGER NOT NULL REFERENCES guarantees (id),
  first_verified_at        TEXT    NOT NULL,
  first_verified_by        INTEGER NOT NULL REFERENCES officers (id),
  last_verified_at         TEXT    NOT NULL,
  last_opened_at           TEXT    NOT NULL,
  last_opened_version_id   INTEGER NOT NULL REFERENCES guarantee_versions (id),
  last_opened_status       TEXT    NOT NULL CHECK (last_opened_status IN ('valid', 'cancelled')),
  PRIMARY KEY (orderer_id, guarantee_id)
) WITHOUT ROWID;

-- Append-only, hash-chained audit trail: hash = sha256(prev_hash || canonical row content).
CREATE TABLE audit_events (
  id              INTEGER PRIMARY KEY,
  occurred_at     TEXT    NOT NULL,
  event           TEXT    NOT NULL,
  outcome         TEXT    NOT NULL,
  actor_kind      TEXT    NOT NULL CHECK (actor_kind IN ('officer', 'admin', 'anonymous', 'system')),
  actor           TEXT,
  officer_id      INTEGER,
  orderer_code    TEXT,
  client_address  TEXT,
  contract_number TEXT,
  detail          TEXT    CHECK (detail IS NULL OR json_valid(detail)),
  prev_hash       TEXT    NOT NULL,
  hash            TEXT    NOT NULL UNIQUE
);
CREATE INDEX audit_events_orderer_time ON audit_events (orderer_code, occurred_at);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

CREATE TABLE sessions (
  sid         TEXT    PRIMARY KEY,
  officer_id  INTEGER,
  data        TEXT    NOT NULL,
  expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_officer ON sessions (officer_id);
