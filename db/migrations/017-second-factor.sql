-- A second factor (TOTP, RFC 6238) per officer. The secret must be read back to check a code, so
-- it is stored sealed to the service's X25519 key (WEBHOOK_KEY_FILE, the same key as the webhook
-- secrets), never in clear. An officer has at most one confirmed factor and at most one being
-- enrolled (a re-enrolment keeps the old one working until the new one is confirmed).
-- last_time_step: the RFC 6238 time step of the last accepted code; a code of that step or an
-- older one is refused (replay).
CREATE TABLE second_factors (
  id             INTEGER PRIMARY KEY,
  officer_id     INTEGER NOT NULL REFERENCES officers (id),
  secret_sealed  TEXT    NOT NULL,
  confirmed_at   TEXT,
  last_time_step INTEGER NOT NULL DEFAULT 0,
  created_at     TEXT    NOT NULL
);
CREATE UNIQUE INDEX second_factors_confirmed ON second_factors (officer_id) WHERE confirmed_at IS NOT NULL;
CREATE UNIQUE INDEX second_factors_pending ON second_factors (officer_id) WHERE confirmed_at IS NULL;

-- Ten single-use recovery codes per officer, each stored as SHA-256 of the officer and the code
-- (80 random bits each: a slow hash would add nothing), marked used rather than deleted.
CREATE TABLE recovery_codes (
  id         INTEGER PRIMARY KEY,
  officer_id INTEGER NOT NULL REFERENCES officers (id),
  code_hash  TEXT    NOT NULL,
  used_at    TEXT,
  created_at TEXT    NOT NULL,
  UNIQUE (officer_id, code_hash)
);

-- The orderer requires a second factor of all its officers (administrators always need one).
ALTER TABLE orderers ADD COLUMN mfa_required INTEGER NOT NULL DEFAULT 0 CHECK (mfa_required IN (0, 1));
