-- An orderer's own administrators (所属管理者): an officer of role 'admin' also manages the
-- orderer's officers. The last login is kept on the officer, for the administrators' list.
ALTER TABLE officers ADD COLUMN role TEXT NOT NULL DEFAULT 'officer' CHECK (role IN ('officer', 'admin'));
ALTER TABLE officers ADD COLUMN last_login_at TEXT;
