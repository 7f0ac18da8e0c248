-- An officer's session that was ended (logout, revocation, disabling, a password reset or change)
-- stays as a marker until its expiry, holding no data, so that a request still in flight for it
-- cannot write it back when it saves the session. The purge removes it with the expired rows.
ALTER TABLE sessions ADD COLUMN ended INTEGER NOT NULL DEFAULT 0 CHECK (ended IN (0, 1));
