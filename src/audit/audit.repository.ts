import { createHash } from "node:crypto";
import type { Db } from "../db/database.js";

export type AuditActorKind = "officer" | "admin" | "anonymous" | "system" | "api-client";

/** What callers record; never a key, a password, a session id or a CSRF token. */
export type AuditEntry = {
  event: string;
  outcome: string;
  actorKind: AuditActorKind;
  actor?: string | null;
  officerId?: number | null;
  ordererCode?: string | null;
  clientAddress?: string | null;
  contractNumber?: string | null;
  detail?: Record<string, unknown> | null;
};

export type AuditRow = {
  id: number;
  occurredAt: string;
  event: string;
  outcome: string;
  actorKind: AuditActorKind;
  actor: string | null;
  officerId: number | null;
  ordererCode: string | null;
  clientAddress: string | null;
  contractNumber: string | null;
  detail: string | null;
  prevHash: string;
  hash: string;
};

export const GENESIS_HASH = "0".repeat(64);

/** Sorts after every stored instant ("2026-…Z"). */
const LATEST_INSTANT = "\uffff";

type RawRow = {
  id: number; occurred_at: string; event: string; outcome: string; actor_kind: AuditActorKind;
  actor: string | null; officer_id: number | null; orderer_code: string | null; client_address: string | null;
  contract_number: string | null; detail: string | null; prev_hash: string; hash: string;
};

function toAuditRow(r: RawRow): AuditRow {
  return {
    id: r.id, occurredAt: r.occurred_at, event: r.event, outcome: r.outcome, actorKind: r.actor_kind,
    actor: r.actor, officerId: r.officer_id, ordererCode: r.orderer_code, clientAddress: r.client_address,
    contractNumber: r.contract_number, detail: r.detail, prevHash: r.prev_hash, hash: r.hash,
  };
}

/** SHA-256 over the previous hash and the row's content in a fixed field order. */
export function chainHash(prevHash: string, row: Omit<AuditRow, "id" | "prevHash" | "hash">): string {
  const canonical = JSON.stringify([
    prevHash, row.occurredAt, row.event, row.outcome, row.actorKind, row.actor, row.officerId,
    row.ordererCode, row.clientAddress, row.contractNumber, row.detail,
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

export function createAuditRepository(db: Db) {
  const lastHash = db.prepare<[], { hash: string }>("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1");
  const insert = db.prepare(`
    INSERT INTO audit_events (occurred_at, event, outcome, actor_kind, actor, officer_id, orderer_code,
                              client_address, contract_number, detail, prev_hash, hash)
    VALUES (@occurredAt, @event, @outcome, @actorKind, @actor, @officerId, @ordererCode,
            @clientAddress, @contractNumber, @detail, @prevHash, @hash)`);
  const all = db.prepare<[], RawRow>("SELECT * FROM audit_events ORDER BY id");
  // The last row by id alone: the number of rows is what a walk of the chain counts, and counting
  // them here would read a whole index of a trail that grows without end.
  const head = db.prepare<[], { id: number; hash: string }>("SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1");
  const byId = db.prepare<{ id: number }, RawRow>("SELECT * FROM audit_events WHERE id = @id");
  const last = db.prepare<[], RawRow>("SELECT * FROM audit_events ORDER BY id DESC LIMIT 1");
  const firstAfter = db.prepare<{ id: number }, RawRow>("SELECT * FROM audit_events WHERE id > @id ORDER BY id LIMIT 1");
  const countAfter = db.prepare<{ id: number }, { n: number }>("SELECT count(*) AS n FROM audit_events WHERE id > @id");
  // An export, read a page at a time with .all(): a cursor left open while the download waits for
  // its client would make every write on the connection fail. Two statements rather than
  // "@ordererCode IS NULL OR …", which would keep SQLite from using the (orderer_code, occurred_at)
  // index. Bounds are UTC instants: from inclusive, until exclusive; no row after @lastId (the head
  // when the export began: rows written while it is downloaded are not in it). Every orderer's rows
  // come in chain order, after the keyset @afterId. One orderer's come in the index's order (time,
  // then id: chain order unless the clock stepped back), without a sort; the next page starts at
  // the last row's instant (@from) and skips the ids up to it there, so no page re-reads the ones before.
  const exportPage = db.prepare<{ from: string; until: string; afterId: number; lastId: number; limit: number }, RawRow>(`
    SELECT * FROM audit_events
     WHERE id > @afterId AND id <= @lastId AND occurred_at >= @from AND occurred_at < @until ORDER BY id LIMIT @limit`);
  const ordererExportPage = db.prepare<{ ordererCode: string; from: string; until: string; afterId: number; lastId: number; limit: number }, RawRow>(`
    SELECT * FROM audit_events
     WHERE orderer_code = @ordererCode AND occurred_at >= @from AND occurred_at < @until
       AND (occurred_at > @from OR id > @afterId) AND id <= @lastId
     ORDER BY occurred_at, id LIMIT @limit`);
  // One orderer's page, newest first, after a keyset cursor (the last row shown: its time, then its
  // id): the (orderer_code, occurred_at) index read backwards, its rowid breaking ties. The officer
  // and event filters are checked on the rows that index finds.
  const ordererPage = db.prepare<{ ordererCode: string; from: string; until: string; beforeAt: string; beforeId: number; officerId: number | null; events: string | null; limit: number }, RawRow>(`
    SELECT * FROM audit_events
     WHERE orderer_code = @ordererCode AND occurred_at >= @from AND occurred_at < @until
       AND (occurred_at < @beforeAt OR (occurred_at = @beforeAt AND id < @beforeId))
       AND (@officerId IS NULL OR officer_id = @officerId)
       AND (@events IS NULL OR event IN (SELECT value FROM json_each(@events)))
     ORDER BY occurred_at DESC, id DESC LIMIT @limit`);

  return {
    /** Appends one row. Call inside the caller's transaction so that the event and what it
     * records commit together; the read of the last hash is then serialised by SQLite's lock. */
    append(entry: AuditEntry, occurredAt: Date): void {
      const prevHash = lastHash.get()?.hash ?? GENESIS_HASH;
      const row = {
        occurredAt: occurredAt.toISOString(),
        event: entry.event,
        outcome: entry.outcome,
        actorKind: entry.actorKind,
        actor: entry.actor ?? null,
        officerId: entry.officerId ?? null,
        ordererCode: entry.ordererCode ?? null,
        clientAddress: entry.clientAddress ?? null,
        contractNumber: entry.contractNumber ?? null,
        detail: entry.detail ? JSON.stringify(entry.detail) : null,
      };
      insert.run({ ...row, prevHash, hash: chainHash(prevHash, row) });
    },
    *iterate(): IterableIterator<AuditRow> {
      for (const raw of all.iterate()) yield toAuditRow(raw);
    },
    /** The last row's id and hash: what an operator notes down to anchor the chain. */
    head(): { id: number; hash: string } | undefined {
      return head.get();
    },
    /** The newest row, without head()'s count. */
    findLast(): AuditRow | undefined {
      const raw = last.get();
      return raw && toAuditRow(raw);
    },
    findById(id: number): AuditRow | undefined {
      const raw = byId.get({ id });
      return raw && toAuditRow(raw);
    },
    /** The first row after `id` (the oldest row a replica holding rows up to `id` lacks). */
    findFirstAfter(id: number): AuditRow | undefined {
      const raw = firstAfter.get({ id });
      return raw && toAuditRow(raw);
    },
    /** Rows after `id` (all with 0): a checkpoint counts only the rows since the one before it. */
    countAfter: (id: number): number => countAfter.get({ id })!.n,
    /** Up to `limit` rows of one orderer in [from, until), newest first, older than the cursor
     * `before` (the last row of the previous page), of one officer and some events when given. */
    pageOfOrderer(q: { ordererCode: string; from: string; until: string; before?: { occurredAt: string; id: number }; officerId?: number; events?: string[]; limit: number }): AuditRow[] {
      return ordererPage.all({
        ordererCode: q.ordererCode, from: q.from, until: q.until,
        // No cursor: "after every row", the latest instant string and an id above any.
        beforeAt: q.before?.occurredAt ?? LATEST_INSTANT, beforeId: q.before?.id ?? Number.MAX_SAFE_INTEGER,
        officerId: q.officerId ?? null, events: q.events ? JSON.stringify(q.events) : null, limit: q.limit,
      }).map(toAuditRow);
    },
    /** Up to `limit` rows in [from, until) (UTC ISO instants) up to row `lastId`, after the row
     * `after` (the last of the previous page); of one orderer if given (then in time order), else in chain order. */
    exportPage(q: { ordererCode?: string; from: string; until: string; after?: AuditRow; lastId: number; limit: number }): AuditRow[] {
      const keyset = { afterId: q.after?.id ?? 0, lastId: q.lastId, until: q.until, limit: q.limit };
      const rows = q.ordererCode === undefined
        ? exportPage.all({ ...keyset, from: q.from })
        : ordererExportPage.all({ ...keyset, ordererCode: q.ordererCode, from: q.after?.occurredAt ?? q.from });
      return rows.map(toAuditRow);
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
