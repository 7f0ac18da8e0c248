-- Signed checkpoints of the audit chain's head: the service signs (row id, row hash, rows up to it,
-- time) with its Ed25519 key. Kept apart from audit_events, so deleting audit rows cannot delete the
-- checkpoints that cover them; each is also written to the checkpoint log outside the database.
CREATE TABLE audit_checkpoints (
  id         INTEGER PRIMARY KEY,
  row_id     INTEGER NOT NULL,
  row_hash   TEXT    NOT NULL,
  rows       INTEGER NOT NULL,
  signed_at  TEXT    NOT NULL,
  signature  TEXT    NOT NULL
);

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'the audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'the audit checkpoints are append-only'); END;
