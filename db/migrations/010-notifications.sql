-- One event stream per orderer: what happened to the guarantees it holds and the contracts of its
-- register. The in-app notices are these rows; the mails (and later the webhooks) are derived from
-- them through the outbox. The id is the cursor a reader keeps.
CREATE TABLE events (
  id           INTEGER PRIMARY KEY,
  orderer_id   INTEGER NOT NULL REFERENCES orderers (id),
  kind         TEXT    NOT NULL CHECK (kind IN (
                 'version_amended', 'version_corrected', 'version_withdrawn', 'guarantee_cancelled',
                 'expiry_within_30', 'expiry_within_7', 'expiry_passed', 'guarantee_missing')),
  guarantee_id INTEGER REFERENCES guarantees (id),
  contract_id  INTEGER REFERENCES contracts (id),
  -- What the event is about, for the once-only rule: "version:12", "guarantee:3:2027-04-18",
  -- "contract:5". A re-run or a second process inserting the same event is ignored.
  subject      TEXT    NOT NULL,
  payload      TEXT    NOT NULL CHECK (json_valid(payload)),
  occurred_at  TEXT    NOT NULL,
  UNIQUE (orderer_id, subject, kind),
  CHECK ((guarantee_id IS NULL) <> (contract_id IS NULL))
);
-- The notices page (keyset on id) and the unread count read one orderer's rows by id.
CREATE INDEX events_by_orderer ON events (orderer_id, id);

-- What each officer has read: everything up to a mark ("mark all read"), plus the notices opened
-- one by one above it.
CREATE TABLE notice_read_marks (
  officer_id     INTEGER PRIMARY KEY REFERENCES officers (id),
  up_to_event_id INTEGER NOT NULL
);
CREATE TABLE notice_reads (
  officer_id INTEGER NOT NULL REFERENCES officers (id),
  event_id   INTEGER NOT NULL REFERENCES events (id),
  PRIMARY KEY (officer_id, event_id)
) WITHOUT ROWID;

-- An orderer's department mailboxes, the recipients of its notices.
CREATE TABLE orderer_mailboxes (
  orderer_id INTEGER NOT NULL REFERENCES orderers (id),
  address    TEXT    NOT NULL CHECK (length(address) BETWEEN 3 AND 254),
  created_at TEXT    NOT NULL,
  PRIMARY KEY (orderer_id, address)
) WITHOUT ROWID;

-- Messages waiting for delivery, one per (topic, recipient) and channel: 'mail' now ("event:12" or
-- a scan's digest, to a mailbox), 'webhook' later. The content is fixed when the row is written, so
-- a retry sends the same message under the same id. A row is done when sent_at is set, given up
-- when failed_at is; otherwise it is due at next_attempt_at.
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  channel         TEXT    NOT NULL CHECK (channel IN ('mail', 'webhook')),
  orderer_id      INTEGER NOT NULL REFERENCES orderers (id),
  topic           TEXT    NOT NULL,
  recipient       TEXT    NOT NULL,
  message_id      TEXT    NOT NULL UNIQUE,
  content         TEXT    NOT NULL CHECK (json_valid(content)),
  created_at      TEXT    NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at TEXT    NOT NULL,
  last_error      TEXT,
  sent_at         TEXT,
  failed_at       TEXT,
  UNIQUE (channel, topic, recipient),
  CHECK (sent_at IS NULL OR failed_at IS NULL)
);
-- The sender takes the next due row of the rows still pending.
CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE sent_at IS NULL AND failed_at IS NULL;
