import type { Db } from "../db/database.js";
import type { GuaranteeStatus } from "../guarantees/guarantee.repository.js";

/** A row of orderer_guarantees: an orderer proved possession of the key once. */
export type Grant = {
  ordererId: number;
  guaranteeId: number;
  firstVerifiedAt: string;
  lastVerifiedAt: string;
  lastOpenedAt: string;
  lastOpenedVersionId: number;
  lastOpenedStatus: GuaranteeStatus;
};

type GrantRow = {
  orderer_id: number; guarantee_id: number; first_verified_at: string; last_verified_at: string; last_opened_at: string;
  last_opened_version_id: number; last_opened_status: GuaranteeStatus;
};

const toGrant = (r: GrantRow): Grant => ({
  ordererId: r.orderer_id, guaranteeId: r.guarantee_id, firstVerifiedAt: r.first_verified_at, lastVerifiedAt: r.last_verified_at,
  lastOpenedAt: r.last_opened_at, lastOpenedVersionId: r.last_opened_version_id, lastOpenedStatus: r.last_opened_status,
});

export function createGrantRepository(db: Db) {
  const find = db.prepare<[number, number], GrantRow>("SELECT * FROM orderer_guarantees WHERE orderer_id = ? AND guarantee_id = ?");
  const upsertVerified = db.prepare(`
    INSERT INTO orderer_guarantees (orderer_id, guarantee_id, first_verified_at, first_verified_by, last_verified_at,
                                    last_opened_at, last_opened_version_id, last_opened_status)
    VALUES (@ordererId, @guaranteeId, @at, @officerId, @at, @at, @versionId, @status)
    ON CONFLICT (orderer_id, guarantee_id) DO UPDATE SET
      last_verified_at = excluded.last_verified_at, last_opened_at = excluded.last_opened_at,
      last_opened_version_id = excluded.last_opened_version_id, last_opened_status = excluded.last_opened_status`);
  const markOpened = db.prepare(`
    UPDATE orderer_guarantees SET last_opened_at = @at, last_opened_version_id = @versionId, last_opened_status = @status
    WHERE orderer_id = @ordererId AND guarantee_id = @guaranteeId`);
  return {
    find: (ordererId: number, guaranteeId: number) => { const r = find.get(ordererId, guaranteeId); return r && toGrant(r); },
    recordVerified: (g: { ordererId: number; guaranteeId: number; officerId: number; at: string; versionId: number; status: GuaranteeStatus }) =>
      void upsertVerified.run(g),
    /** Remembers what the organisation last saw, for the "changed since" marks of the verified list. */
    recordOpened: (g: { ordererId: number; guaranteeId: number; at: string; versionId: number; status: GuaranteeStatus }) => void markOpened.run(g),
  };
}

export type GrantRepository = ReturnType<typeof createGrantRepository>;
