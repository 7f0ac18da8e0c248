-- An orderer administrator's invitation of a new officer by e-mail: a single-use link valid 72 hours
-- to set a password. Only the token's SHA-256 is kept (the token itself went out in the mail). The
-- invited officer's account stays disabled, with a password nobody knows, until the link is used.
-- One invitation per officer: a new one replaces the old token.
CREATE TABLE officer_invitations (
  id          INTEGER PRIMARY KEY,
  officer_id  INTEGER NOT NULL UNIQUE REFERENCES officers (id),
  token_hash  TEXT    NOT NULL UNIQUE CHECK (length(token_hash) = 64),
  address     TEXT    NOT NULL,
  invited_by  TEXT    NOT NULL,
  created_at  TEXT    NOT NULL,
  expires_at  TEXT    NOT NULL,
  accepted_at TEXT
);
