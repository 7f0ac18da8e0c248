-- Webhook endpoints (issue 16): where an orderer's events are POSTed, signed as Standard Webhooks
-- specify. The signing secret must be read back to sign, so it is stored sealed to the service's
-- X25519 key (WEBHOOK_KEY_FILE), never in clear. endpoint_id is the public name (wh_…) and the
-- outbox rows' recipient: random, so a removed endpoint's pending rows can never reach a new one.
-- 'gone': the receiver answered 410 Gone, and nothing more is sent to it.
CREATE TABLE webhook_endpoints (
  id               INTEGER PRIMARY KEY,
  endpoint_id      TEXT    NOT NULL UNIQUE,
  orderer_id       INTEGER NOT NULL REFERENCES orderers (id),
  url              TEXT    NOT NULL CHECK (length(url) BETWEEN 9 AND 2000),
  secret_sealed    TEXT    NOT NULL,
  state            TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'gone')),
  created_at       TEXT    NOT NULL,
  state_changed_at TEXT,
  UNIQUE (orderer_id, url)
);
