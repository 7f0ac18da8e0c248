-- DOS-04: where an anonymous session (the login form's CSRF token) came from and when it started,
-- so that one address cannot fill the table with them. Both stay NULL for sessions written before.
ALTER TABLE sessions ADD COLUMN client_address TEXT;
ALTER TABLE sessions ADD COLUMN created_at INTEGER;
CREATE INDEX sessions_anonymous_by_address ON sessions (client_address, created_at) WHERE officer_id IS NULL;
