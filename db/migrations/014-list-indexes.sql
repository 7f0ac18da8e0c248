-- 確認済みの保証 a page at a time, whatever an orderer holds. Each page is read from an index of
-- orderer_guarantees in the list's order (newest verification first, keyset on last_verified_at and
-- guarantee_id), and what the filters and the search look at is copied onto the holding, so that
-- rows passed over cost an index entry or one row of this table, not a join and a parse of the
-- certificate. The copies are kept by the triggers below: every write that changes a guarantee's
-- number, status, 保証期限 or 工事名 (issue, amendment, correction, withdrawal, cancellation) is
-- an insert into guarantees' tables or an update of guarantees.status.
ALTER TABLE orderer_guarantees ADD COLUMN contract_number TEXT;
ALTER TABLE orderer_guarantees ADD COLUMN guarantee_status TEXT;
ALTER TABLE orderer_guarantees ADD COLUMN guarantee_expiry TEXT;
ALTER TABLE orderer_guarantees ADD COLUMN project_name TEXT;

UPDATE orderer_guarantees SET
  contract_number  = (SELECT g.contract_number FROM guarantees g WHERE g.id = orderer_guarantees.guarantee_id),
  guarantee_status = (SELECT g.status FROM guarantees g WHERE g.id = orderer_guarantees.guarantee_id),
  guarantee_expiry = (SELECT json_extract(v.content, '$.guaranteeExpiry') FROM current_versions v WHERE v.guarantee_id = orderer_guarantees.guarantee_id),
  project_name     = (SELECT json_extract(v.content, '$.projectName') FROM current_versions v WHERE v.guarantee_id = orderer_guarantees.guarantee_id);

CREATE TRIGGER orderer_guarantees_copy AFTER INSERT ON orderer_guarantees
BEGIN
  UPDATE orderer_guarantees SET
    contract_number  = (SELECT g.contract_number FROM guarantees g WHERE g.id = NEW.guarantee_id),
    guarantee_status = (SELECT g.status FROM guarantees g WHERE g.id = NEW.guarantee_id),
    guarantee_expiry = (SELECT json_extract(v.content, '$.guaranteeExpiry') FROM current_versions v WHERE v.guarantee_id = NEW.guarantee_id),
    project_name     = (SELECT json_extract(v.content, '$.projectName') FROM current_versions v WHERE v.guarantee_id = NEW.guarantee_id)
  WHERE orderer_id = NEW.orderer_id AND guarantee_id = NEW.guarantee_id;
END;

CREATE TRIGGER guarantees_status_to_holdings AFTER UPDATE OF status ON guarantees
BEGIN
  UPDATE orderer_guarantees SET guarantee_status = NEW.status WHERE guarantee_id = NEW.id;
END;

CREATE TRIGGER guarantee_versions_to_holdings AFTER INSERT ON guarantee_versions
BEGIN
  UPDATE orderer_guarantees SET
    guarantee_expiry = (SELECT json_extract(v.content, '$.guaranteeExpiry') FROM current_versions v WHERE v.guarantee_id = NEW.guarantee_id),
    project_name     = (SELECT json_extract(v.content, '$.projectName') FROM current_versions v WHERE v.guarantee_id = NEW.guarantee_id)
  WHERE guarantee_id = NEW.guarantee_id;
END;

CREATE TRIGGER version_retractions_to_holdings AFTER INSERT ON version_retractions
BEGIN
  UPDATE orderer_guarantees SET
    guarantee_expiry = (SELECT json_extract(v.content, '$.guaranteeExpiry') FROM current_versions v
                         WHERE v.guarantee_id = (SELECT guarantee_id FROM guarantee_versions WHERE id = NEW.version_id)),
    project_name     = (SELECT json_extract(v.content, '$.projectName') FROM current_versions v
                         WHERE v.guarantee_id = (SELECT guarantee_id FROM guarantee_versions WHERE id = NEW.version_id))
  WHERE guarantee_id = (SELECT guarantee_id FROM guarantee_versions WHERE id = NEW.version_id);
END;

-- The triggers find a guarantee's holdings (one per orderer that verified it) by guarantee.
CREATE INDEX orderer_guarantees_guarantee ON orderer_guarantees (guarantee_id);
-- Every holding of an orderer, newest verification first: the unfiltered list and the search.
CREATE INDEX orderer_guarantees_recent ON orderer_guarantees (orderer_id, last_verified_at DESC, guarantee_id DESC);
-- Those of one stored status (取消 apart from the rest), in the same order, with the 保証期限 in the
-- entry: 有効 and 期限切れ are told apart without reading the row.
CREATE INDEX orderer_guarantees_by_status ON orderer_guarantees (orderer_id, guarantee_status, last_verified_at DESC, guarantee_id DESC, guarantee_expiry);
