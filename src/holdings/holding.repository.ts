import type { Db } from "../db/database.js";
import type { CertificateContent, Product } from "../guarantees/certificate.schema.js";
import type { GuaranteeStatus } from "../guarantees/guarantee.repository.js";
import { storedStatusOf } from "../guarantees/guarantee-state.js";

/** A row of orderer_guarantees: an orderer holds a guarantee once one of its officers verified it with the key. */
export type Holding = {
  ordererId: number;
  guaranteeId: number;
  firstVerifiedAt: string;
  lastVerifiedAt: string;
  lastOpenedAt: string;
  lastOpenedVersionId: number;
  lastOpenedStatus: GuaranteeStatus;
};

type HoldingRow = {
  orderer_id: number; guarantee_id: number; first_verified_at: string; last_verified_at: string; last_opened_at: string;
  last_opened_version_id: number; last_opened_status: GuaranteeStatus;
};

const toHolding = (r: HoldingRow): Holding => ({
  ordererId: r.orderer_id, guaranteeId: r.guarantee_id, firstVerifiedAt: r.first_verified_at, lastVerifiedAt: r.last_verified_at,
  lastOpenedAt: r.last_opened_at, lastOpenedVersionId: r.last_opened_version_id, lastOpenedStatus: r.last_opened_status,
});

/** A guarantee an orderer holds, with its version in force, for 確認済みの保証. */
export type HeldGuarantee = {
  guaranteeId: number;
  contractNumber: string;
  product: Product;
  status: GuaranteeStatus;
  cancelledAt: string | null;
  cancelReason: string | null;
  lastVerifiedAt: string;
  lastOpenedVersionId: number;
  lastOpenedStatus: GuaranteeStatus;
  currentVersionId: number;
  content: CertificateContent;
};

/** The version in force or the status differs from what someone of the orderer last opened
 * (amended, corrected, withdrawn or cancelled since): 更新あり here, 変更あり in the contract register. */
export function changedSinceOpened(held: Pick<HeldGuarantee, "currentVersionId" | "lastOpenedVersionId" | "status" | "lastOpenedStatus">): boolean {
  return held.currentVersionId !== held.lastOpenedVersionId || held.status !== held.lastOpenedStatus;
}

export type HoldingFilter = {
  ordererId: number;
  /** "valid" and "expired" are judged against `today`, the Tokyo calendar date. */
  status: "valid" | "cancelled" | "expired" | "all";
  today: string;
  /** Text to find in the contract number or the 工事名, folded by foldForSearch; null for no search. */
  query: string | null;
  /** The query read as a full contract number, when it is one. */
  contractNumber: string | null;
  /** Keyset: only holdings after this one in the list's order (null for the first page). */
  after: { lastVerifiedAt: string; guaranteeId: number } | null;
  limit: number;
};

type HeldRow = {
  guarantee_id: number; contract_number: string; product: Product; status: GuaranteeStatus; cancelled_at: string | null;
  cancel_reason: string | null; last_verified_at: string; last_opened_version_id: number; last_opened_status: GuaranteeStatus;
  current_version_id: number; content: string;
};

const toHeld = (r: HeldRow): HeldGuarantee => ({
  guaranteeId: r.guarantee_id, contractNumber: r.contract_number, product: r.product, status: r.status, cancelledAt: r.cancelled_at,
  cancelReason: r.cancel_reason, lastVerifiedAt: r.last_verified_at, lastOpenedVersionId: r.last_opened_version_id,
  lastOpenedStatus: r.last_opened_status, currentVersionId: r.current_version_id, content: JSON.parse(r.content) as CertificateContent,
});

// Filtering is done here rather than in TypeScript over a page, so that search and the status
// filter see every guarantee the orderer holds however many there are. Pages are keyset on
// (last_verified_at, guarantee_id) down an index in that order (db/migrations/*-list-indexes.sql), and the filters
// read the copies of the number, status, 保証期限 and 工事名 on the holding, so that rows passed
// over cost an index entry or a row of orderer_guarantees; only the page's rows are joined to
// their guarantee and version in force. The state is the one rule, guarantee_state
// (registerGuaranteeFunctions). instr() rather than LIKE: the officer's text is matched literally,
// % and _ included. The 工事名 is stored as written (NFC), so both sides are folded with search_fold.
const SELECT_HELD = `
  SELECT og.guarantee_id, g.contract_number, g.product, g.status, g.cancelled_at, g.cancel_reason,
         og.last_verified_at, og.last_opened_version_id, og.last_opened_status,
         v.id AS current_version_id, v.content
  FROM orderer_guarantees og
  JOIN guarantees g ON g.id = og.guarantee_id
  JOIN current_versions v ON v.guarantee_id = g.id`;
const AFTER = `og.last_verified_at <= @afterAt AND (og.last_verified_at < @afterAt OR og.guarantee_id < @afterGuaranteeId)`;
const SEARCH = `(@query IS NULL OR instr(og.contract_number, @query) > 0 OR instr(search_fold(og.project_name), @query) > 0)`;
const PAGE = `ORDER BY og.last_verified_at DESC, og.guarantee_id DESC LIMIT @limit`;
/** Every state: down orderer_guarantees_recent. */
const LIST_HELD = `${SELECT_HELD} WHERE og.orderer_id = @ordererId AND ${AFTER} AND ${SEARCH} ${PAGE}`;
/** One state: down orderer_guarantees_by_status, within the stored status that state has. */
const LIST_HELD_IN_STATE = `${SELECT_HELD}
  WHERE og.orderer_id = @ordererId AND og.guarantee_status = @storedStatus AND ${AFTER}
    AND guarantee_state(og.guarantee_status, og.guarantee_expiry, @today) = @status AND ${SEARCH} ${PAGE}`;
/** A whole contract number: that guarantee, if the orderer holds it (and it is in the state). */
const FIND_HELD_NUMBER = `${SELECT_HELD}
  WHERE og.orderer_id = @ordererId AND og.guarantee_id = (SELECT id FROM guarantees WHERE contract_number = @contractNumber)
    AND (@status = 'all' OR guarantee_state(og.guarantee_status, og.guarantee_expiry, @today) = @status) AND ${AFTER} ${PAGE}`;

/** A keyset position before every holding: every stored instant sorts below "\uffff". */
const FIRST_PAGE = { afterAt: "\uffff", afterGuaranteeId: Number.MAX_SAFE_INTEGER };

/** A page of the API's list: holdings in the order they were first verified (og.id, which never
 * changes), after the holding `after`, filtered. */
export type HoldingPageFilter = {
  ordererId: number;
  after: number;
  status: "valid" | "cancelled" | "expired" | null;
  today: string;
  /** Only those whose current version's 保証期限 is before this date. */
  expiresBefore: string | null;
  /** Only those changed (a version reached the platform, one was retracted, or it was cancelled) after this instant. */
  changedSince: string | null;
  limit: number;
};

export type HeldGuaranteeEntry = HeldGuarantee & { holdingId: number; changedAt: string };

// The latest instant something happened to the guarantee that the orderer should hear of. ISO
// instants in UTC compare as text; max() of several arguments is NULL if any is, hence coalesce.
const CHANGED_AT = `max(
    (SELECT max(cv.reached_platform_at) FROM guarantee_versions cv WHERE cv.guarantee_id = g.id),
    coalesce((SELECT max(r.retracted_at) FROM version_retractions r JOIN guarantee_versions rv ON rv.id = r.version_id
               WHERE rv.guarantee_id = g.id), ''),
    coalesce(g.cancelled_at, ''))`;

const LIST_PAGE = `
  SELECT * FROM (
    SELECT og.id AS holding_id, og.guarantee_id, g.contract_number, g.product, g.status, g.cancelled_at, g.cancel_reason,
           og.last_verified_at, og.last_opened_version_id, og.last_opened_status,
           v.id AS current_version_id, v.content, ${CHANGED_AT} AS changed_at
    FROM orderer_guarantees og
    JOIN guarantees g ON g.id = og.guarantee_id
    JOIN current_versions v ON v.guarantee_id = g.id
    WHERE og.orderer_id = @ordererId AND og.id > @after
      AND (@status IS NULL OR guarantee_state(g.status, json_extract(v.content, '$.guaranteeExpiry'), @today) = @status)
      AND (@expiresBefore IS NULL OR json_extract(v.content, '$.guaranteeExpiry') < @expiresBefore)
    ORDER BY og.id)
  WHERE @changedSince IS NULL OR changed_at > @changedSince
  LIMIT @limit`;

export function createHoldingRepository(db: Db) {
  const find = db.prepare<[number, number], HoldingRow>("SELECT * FROM orderer_guarantees WHERE orderer_id = ? AND guarantee_id = ?");
  const upsertVerified = db.prepare(`
    INSERT INTO orderer_guarantees (orderer_id, guarantee_id, first_verified_at, first_verified_by, first_verified_by_client,
                                    last_verified_at, last_opened_at, last_opened_version_id, last_opened_status)
    VALUES (@ordererId, @guaranteeId, @at, @officerId, @clientId, @at, @at, @versionId, @status)
    ON CONFLICT (orderer_id, guarantee_id) DO UPDATE SET
      last_verified_at = excluded.last_verified_at, last_opened_at = excluded.last_opened_at,
      last_opened_version_id = excluded.last_opened_version_id, last_opened_status = excluded.last_opened_status`);
  const markOpened = db.prepare(`
    UPDATE orderer_guarantees SET last_opened_at = @at, last_opened_version_id = @versionId, last_opened_status = @status
    WHERE orderer_id = @ordererId AND guarantee_id = @guaranteeId`);
  type Keyset = { afterAt: string; afterGuaranteeId: number; limit: number };
  const listHeld = db.prepare<[Keyset & { ordererId: number; query: string | null }], HeldRow>(LIST_HELD);
  const listHeldInState = db.prepare<[Keyset & { ordererId: number; query: string | null; storedStatus: GuaranteeStatus; status: string; today: string }], HeldRow>(LIST_HELD_IN_STATE);
  const findHeldNumber = db.prepare<[Keyset & { ordererId: number; contractNumber: string; status: string; today: string }], HeldRow>(FIND_HELD_NUMBER);
  const listPage = db.prepare<[HoldingPageFilter], HeldRow & { holding_id: number; changed_at: string }>(LIST_PAGE);
  return {
    find: (ordererId: number, guaranteeId: number) => { const r = find.get(ordererId, guaranteeId); return r && toHolding(r); },
    recordVerified: ({ verifiedBy, ...g }: { ordererId: number; guaranteeId: number; verifiedBy: { kind: "officer" | "api-client"; id: number }; at: string; versionId: number; status: GuaranteeStatus }) =>
      void upsertVerified.run({
        ...g, officerId: verifiedBy.kind === "officer" ? verifiedBy.id : null, clientId: verifiedBy.kind === "api-client" ? verifiedBy.id : null,
      }),
    /** Remembers what the organisation last saw, for the 更新あり marks of 確認済みの保証. */
    recordOpened: (g: { ordererId: number; guaranteeId: number; at: string; versionId: number; status: GuaranteeStatus }) => void markOpened.run(g),
    /** The orderer's verified guarantees, newest verification first, filtered; at most `limit` rows
     * after `after`. A query that is a whole contract number finds that guarantee alone. */
    list(filter: HoldingFilter): HeldGuarantee[] {
      const keyset = { ...(filter.after ? { afterAt: filter.after.lastVerifiedAt, afterGuaranteeId: filter.after.guaranteeId } : FIRST_PAGE), limit: filter.limit };
      const { ordererId, status, today, query } = filter;
      const rows = filter.contractNumber !== null
        ? findHeldNumber.all({ ...keyset, ordererId, contractNumber: filter.contractNumber, status, today })
        : status === "all"
          ? listHeld.all({ ...keyset, ordererId, query })
          : listHeldInState.all({ ...keyset, ordererId, query, storedStatus: storedStatusOf(status), status, today });
      return rows.map(toHeld);
    },
    /** A page of the orderer's holdings in first-verification order (keyset on the holding's id). */
    listPage: (filter: HoldingPageFilter): HeldGuaranteeEntry[] =>
      listPage.all(filter).map((r) => ({ ...toHeld(r), holdingId: r.holding_id, changedAt: r.changed_at })),
  };
}

export type HoldingRepository = ReturnType<typeof createHoldingRepository>;
