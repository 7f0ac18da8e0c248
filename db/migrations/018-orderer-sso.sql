-- Sign-in through an orderer's own identity provider (OpenID Connect), optional per orderer.
-- The client secret must be read back to call the token endpoint, so it is sealed to the service's
-- X25519 key (WEBHOOK_KEY_FILE), never stored in clear. login_claim names the ID token's claim
-- matched against officers' login ids; create_accounts lets a sign-in create a missing officer;
-- provider_mfa lets the provider's amr/acr stand for Kakunin's second factor.
CREATE TABLE orderer_sso (
  orderer_id           INTEGER PRIMARY KEY REFERENCES orderers (id),
  issuer               TEXT    NOT NULL CHECK (length(issuer) BETWEEN 8 AND 500),
  client_id            TEXT    NOT NULL CHECK (length(client_id) BETWEEN 1 AND 255),
  client_secret_sealed TEXT    NOT NULL,
  login_claim          TEXT    NOT NULL DEFAULT 'email' CHECK (length(login_claim) BETWEEN 1 AND 64),
  create_accounts      INTEGER NOT NULL DEFAULT 0 CHECK (create_accounts IN (0, 1)),
  provider_mfa         INTEGER NOT NULL DEFAULT 0 CHECK (provider_mfa IN (0, 1)),
  updated_at           TEXT    NOT NULL
);

-- The e-mail domains whose login ids an orderer's provider signs in: the login page chooses the
-- provider by the domain typed, never by looking the account up. One orderer per domain.
CREATE TABLE sso_login_domains (
  domain     TEXT    PRIMARY KEY CHECK (length(domain) BETWEEN 3 AND 253),
  orderer_id INTEGER NOT NULL REFERENCES orderer_sso (orderer_id) ON DELETE CASCADE
);
CREATE INDEX sso_login_domains_by_orderer ON sso_login_domains (orderer_id, domain);

-- Sign-ins sent to a provider and not yet back: keyed by the SHA-256 of the random handle in the
-- browser's short-lived cookie (state, nonce and PKCE verifier are derived from the handle, so
-- nothing here is usable without the cookie), deleted when the provider's answer arrives.
CREATE TABLE sso_pending (
  handle_hash TEXT    PRIMARY KEY,
  orderer_id  INTEGER NOT NULL REFERENCES orderers (id),
  created_at  TEXT    NOT NULL,
  expires_at  TEXT    NOT NULL
);
CREATE INDEX sso_pending_by_expiry ON sso_pending (expires_at);
