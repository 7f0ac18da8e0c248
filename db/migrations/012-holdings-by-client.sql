-- A guarantee can now be first verified by an API client rather than an officer, and the API lists
-- an orderer's holdings page by page. The table is rebuilt with:
-- - first_verified_by (officer) or first_verified_by_client (API client), exactly one of them;
-- - id, an ever-increasing key given at first verification and never changed, so that a client
--   paging through the list in id order sees every holding once, however many are added meanwhile.
CREATE TABLE orderer_guarantees_new (
  id                       INTEGER PRIMARY KEY,
  orderer_id               INTEGER NOT NULL REFERENCES orderers (id),
  guarantee_id             INTEGER NOT NULL REFERENCES guarantees (id),
  first_verified_at        TEXT    NOT NULL,
  first_verified_by        INTEGER REFERENCES officers (id),
  first_verified_by_client INTEGER REFERENCES api_clients (id),
  last_verified_at         TEXT    NOT NULL,
  last_opened_at           TEXT    NOT NULL,
  last_opened_version_id   INTEGER NOT NULL REFERENCES guarantee_versions (id),
  last_opened_status       TEXT    NOT NULL CHECK (last_opened_status IN ('valid', 'cancelled')),
  UNIQUE (orderer_id, guarantee_id),
  CHECK ((first_verified_by IS NULL) <> (first_verified_by_client IS NULL))
);
-- Existing holdings keep their order of first verification.
INSERT INTO orderer_guarantees_new (orderer_id, guarantee_id, first_verified_at, first_verified_by, last_verified_at,
                                    last_opened_at, last_opened_version_id, last_opened_status)
  SELECT orderer_id, guarantee_id, first_verified_at, first_verified_by, last_verified_at,
         last_opened_at, last_opened_version_id, last_opened_status
  FROM orderer_guarantees ORDER BY first_verified_at, guarantee_id;
DROP TABLE orderer_guarantees;
ALTER TABLE orderer_guarantees_new RENAME TO orderer_guarantees;
-- The API's pages (an orderer's holdings by id) and the web list (newest verification first); the
-- UNIQUE constraint above serves the lookups of one holding. The status, expiry and change filters
-- are computed from the current version (a view), so they are judged on the orderer's rows only.
CREATE INDEX orderer_guarantees_pages ON orderer_guarantees (orderer_id, id);
CREATE INDEX orderer_guarantees_verified ON orderer_guarantees (orderer_id, last_verified_at);
