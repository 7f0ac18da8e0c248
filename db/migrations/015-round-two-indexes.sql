-- Indexes behind the round-two statements that test/db/query-plans.test.ts found reading more
-- than they need: the holders of one guarantee (each change's events) in orderer order; the
-- outbox's due rows of one channel (mail, webhook) in due order; one orderer's webhook endpoints;
-- the daily scan's holdings expiring within its window and its contracts still running.
DROP INDEX orderer_guarantees_guarantee;
CREATE INDEX orderer_guarantees_guarantee ON orderer_guarantees (guarantee_id, orderer_id);
-- The (orderer_id, last_verified_at DESC, guarantee_id DESC) index of migration 014 serves what this one did.
DROP INDEX orderer_guarantees_verified;
CREATE INDEX orderer_guarantees_valid_expiry ON orderer_guarantees (guarantee_expiry) WHERE guarantee_status = 'valid';

DROP INDEX outbox_pending;
CREATE INDEX outbox_due ON outbox (channel, next_attempt_at, id) WHERE sent_at IS NULL AND failed_at IS NULL;

CREATE INDEX webhook_endpoints_by_orderer ON webhook_endpoints (orderer_id, id);

CREATE INDEX contracts_running ON contracts (period_to);
