import type { Db } from "../db/database.js";

export const EVENT_KINDS = [
  "version_amended", "version_corrected", "version_withdrawn", "guarantee_cancelled",
  "expiry_within_30", "expiry_within_7", "expiry_passed", "guarantee_missing",
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** One entry of an orderer's event stream; `payload` is what the notice and the mail show. */
export type OrdererEvent = {
  id: number;
  ordererId: number;
  kind: EventKind;
  guaranteeId: number | null;
  contractId: number | null;
  subject: string;
  payload: EventPayload;
  occurredAt: string;
};

/** A changed field of the certificate, as printed (labels and values formatted). */
export type FieldChange = { label: string; before: string; after: string };

/** Fixed when the event is recorded, so a notice and its mail say what was true then. */
export type EventPayload = {
  /** 保証契約番号 for a guarantee's events; the register's 契約番号 for a contract's. */
  contractNumber?: string;
  reference?: string;
  projectName: string;
  /** 新規 / 変更-N of the version the event is about. */
  label?: string;
  changes?: FieldChange[];
  reason?: string;
  guaranteeExpiry?: string;
  /** PRODUCT_NAMES of the required guarantees not held (未提出). */
  missingProducts?: string[];
  contractDate?: string;
};

export type NewEvent = Omit<OrdererEvent, "id">;

type EventRow = {
  id: number; orderer_id: number; kind: EventKind; guarantee_id: number | null; contract_id: number | null;
  subject: string; payload: string; occurred_at: string;
};

const toEvent = (r: EventRow): OrdererEvent => ({
  id: r.id, ordererId: r.orderer_id, kind: r.kind, guaranteeId: r.guarantee_id, contractId: r.contract_id,
  subject: r.subject, payload: JSON.parse(r.payload) as EventPayload, occurredAt: r.occurred_at,
});

/** An event with whether the officer reading it has read it. */
export type Notice = OrdererEvent & { read: boolean };

/** A held guarantee whose 保証期限 comes within the scan's horizon, with what the scan needs. */
export type ExpiryCandidate = { ordererId: number; guaranteeId: number; contractNumber: string; projectName: string; guaranteeExpiry: string };

/** A contract whose 契約日 is old enough for the 未提出 reminder. */
export type MissingCandidate = { ordererId: number; contractId: number; reference: string };

// "Read" = at or below the officer's mark, or opened one by one.
const UNREAD = `
  e.id > coalesce((SELECT up_to_event_id FROM notice_read_marks WHERE officer_id = @officerId), 0)
  AND NOT EXISTS (SELECT 1 FROM notice_reads r WHERE r.officer_id = @officerId AND r.event_id = e.id)`;

export function createEventRepository(db: Db) {
  const insert = db.prepare(`
    INSERT INTO events (orderer_id, kind, guarantee_id, contract_id, subject, payload, occurred_at)
    VALUES (@ordererId, @kind, @guaranteeId, @contractId, @subject, @payload, @occurredAt)
    ON CONFLICT (orderer_id, subject, kind) DO NOTHING`);
  const byId = db.prepare<[number], EventRow>("SELECT * FROM events WHERE id = ?");
  const page = db.prepare<{ ordererId: number; officerId: number; before: number; limit: number }, EventRow & { unread: number }>(`
    SELECT e.*, (${UNREAD}) AS unread FROM events e
    WHERE e.orderer_id = @ordererId AND e.id < @before
    ORDER BY e.id DESC LIMIT @limit`);
  const after = db.prepare<{ ordererId: number; after: number; limit: number }, EventRow>(`
    SELECT * FROM events WHERE orderer_id = @ordererId AND id > @after ORDER BY id LIMIT @limit`);
  // Counted up to a cap: the header shows "99+" beyond it, and an officer who never reads a
  // large orderer's notices must not make every page walk all of them.
  const unreadCount = db.prepare<{ ordererId: number; officerId: number; cap: number }, { n: number }>(`
    SELECT count(*) AS n FROM (SELECT 1 FROM events e WHERE e.orderer_id = @ordererId AND ${UNREAD} LIMIT @cap)`);
  // What the unread count depends on, each an index lookup: the orderer's newest event, the
  // officer's mark, and how many notices the officer opened one by one above it.
  const readState = db.prepare<{ ordererId: number; officerId: number }, { latest: number | null; mark: number | null; reads: number }>(`
    SELECT (SELECT max(id) FROM events WHERE orderer_id = @ordererId) AS latest,
           (SELECT up_to_event_id FROM notice_read_marks WHERE officer_id = @officerId) AS mark,
           (SELECT count(*) FROM notice_reads WHERE officer_id = @officerId) AS reads`);
  const markRead = db.prepare("INSERT INTO notice_reads (officer_id, event_id) VALUES (@officerId, @eventId) ON CONFLICT DO NOTHING");
  const lastId = db.prepare<[number], { id: number | null }>("SELECT max(id) AS id FROM events WHERE orderer_id = ?");
  const setMark = db.prepare(`
    INSERT INTO notice_read_marks (officer_id, up_to_event_id) VALUES (@officerId, @upTo)
    ON CONFLICT (officer_id) DO UPDATE SET up_to_event_id = max(up_to_event_id, excluded.up_to_event_id)`);
  const dropReadsBelow = db.prepare("DELETE FROM notice_reads WHERE officer_id = @officerId AND event_id <= @upTo");
  const holders = db.prepare<[number], { orderer_id: number }>("SELECT orderer_id FROM orderer_guarantees WHERE guarantee_id = ? ORDER BY orderer_id");
  // A held, valid guarantee whose 保証期限 is on or before the horizon, relied on by a contract of
  // the register that has not ended, or held by an orderer that keeps no register at all.
  // Only those that expire, or expired, within the scan's window: a guarantee that passed its
  // 保証期限 long ago (an old register imported, a first scan) is no news.
  const expiring = db.prepare<{ today: string; since: string; horizon: string }, { orderer_id: number; guarantee_id: number; contract_number: string; project_name: string; guarantee_expiry: string }>(`
    SELECT og.orderer_id, g.id AS guarantee_id, g.contract_number,
           json_extract(v.content, '$.projectName') AS project_name,
           json_extract(v.content, '$.guaranteeExpiry') AS guarantee_expiry
    FROM orderer_guarantees og
    JOIN guarantees g ON g.id = og.guarantee_id
    JOIN current_versions v ON v.guarantee_id = g.id
    WHERE og.guarantee_status = 'valid' AND og.guarantee_expiry BETWEEN @since AND @horizon
      AND (NOT EXISTS (SELECT 1 FROM contracts c WHERE c.orderer_id = og.orderer_id)
        OR EXISTS (SELECT 1 FROM contracts c JOIN contract_guarantee_numbers n ON n.contract_id = c.id
                    WHERE c.orderer_id = og.orderer_id AND n.contract_number = g.contract_number AND c.period_to >= @today))
    ORDER BY og.orderer_id, g.id`);
  // Contracts whose works still run: a contract that ended long ago (a historical ledger) needs no reminder.
  const missing = db.prepare<{ cutoff: string; today: string }, { orderer_id: number; id: number; reference: string }>(`
    SELECT orderer_id, id, reference FROM contracts WHERE contract_date <= @cutoff AND period_to >= @today ORDER BY orderer_id, id`);

  return {
    /** The new event's id, or undefined when the same (orderer, subject, kind) is already recorded. */
    insert(event: NewEvent): number | undefined {
      const result = insert.run({ ...event, payload: JSON.stringify(event.payload) });
      return result.changes === 1 ? Number(result.lastInsertRowid) : undefined;
    },
    findById: (id: number) => { const r = byId.get(id); return r && toEvent(r); },
    /** Up to `limit` of the orderer's events below `before`, newest first, each marked read or not for the officer. */
    page: (q: { ordererId: number; officerId: number; before: number; limit: number }): Notice[] =>
      page.all(q).map((r) => ({ ...toEvent(r), read: r.unread === 0 })),
    /** The orderer's events after a cursor, oldest first (the API's feed). */
    after: (q: { ordererId: number; after: number; limit: number }) => after.all(q).map(toEvent),
    /** A key that changes whenever the officer's unread count can have changed. */
    readState: (ordererId: number, officerId: number): string => {
      const s = readState.get({ ordererId, officerId })!;
      return `${s.latest ?? 0}/${s.mark ?? 0}/${s.reads}`;
    },
    /** The officer's unread notices, counted up to `cap`. */
    unreadCount: (ordererId: number, officerId: number, cap: number) => unreadCount.get({ ordererId, officerId, cap })!.n,
    markRead: (officerId: number, eventId: number) => void markRead.run({ officerId, eventId }),
    /** Everything up to the orderer's latest event counts as read for the officer. Call inside a transaction. */
    markAllRead(ordererId: number, officerId: number): void {
      const upTo = lastId.get(ordererId)?.id;
      if (upTo === null || upTo === undefined) return;
      setMark.run({ officerId, upTo });
      dropReadsBelow.run({ officerId, upTo });
    },
    /** The orderers that hold a guarantee. */
    holdersOf: (guaranteeId: number) => holders.all(guaranteeId).map((r) => r.orderer_id),
    /** Expiring between `since` and `horizon` (inclusive), relied on by a running contract (or held where there is no register). */
    expiring: (today: string, since: string, horizon: string): ExpiryCandidate[] => expiring.all({ today, since, horizon }).map((r) => ({
      ordererId: r.orderer_id, guaranteeId: r.guarantee_id, contractNumber: r.contract_number, projectName: r.project_name, guaranteeExpiry: r.guarantee_expiry,
    })),
    /** Contracts whose 契約日 is on or before `cutoff` and whose 工期 has not ended by `today`. */
    contractsDatedBy: (cutoff: string, today: string): MissingCandidate[] => missing.all({ cutoff, today }).map((r) => ({ ordererId: r.orderer_id, contractId: r.id, reference: r.reference })),
  };
}

export type EventRepository = ReturnType<typeof createEventRepository>;
