import type { Clock } from "../clock.js";
import type { Transactions } from "../db/transactions.js";
import { tokyoDateRange } from "./audit-export.js";
import { chainHash, GENESIS_HASH, type AuditEntry, type AuditRepository, type AuditRow } from "./audit.repository.js";

export type ChainCheck = { ok: true; rows: number } | { ok: false; rows: number; firstBrokenId: number; problem: string };

/** What `audit export` selects: one orderer's rows or all, between two Tokyo calendar dates inclusive. */
export type ExportFilter = { ordererCode?: string; since?: string; until?: string };

/** Walks the rows in chain order and names the first whose link or hash is wrong. */
export function verifyChain(rows: Iterable<AuditRow>): ChainCheck {
  let prevHash = GENESIS_HASH;
  let count = 0;
  for (const row of rows) {
    count++;
    if (row.prevHash !== prevHash) {
      return { ok: false, rows: count, firstBrokenId: row.id, problem: "its link to the previous row is broken (a row was removed or reordered)" };
    }
    if (chainHash(row.prevHash, row) !== row.hash) {
      return { ok: false, rows: count, firstBrokenId: row.id, problem: "its content does not match its hash (the row was altered)" };
    }
    prevHash = row.hash;
  }
  return { ok: true, rows: count };
}

export function createAuditService(deps: { audit: AuditRepository; tx: Transactions; clock: Clock }) {
  const { audit: repository, tx: db, clock } = deps;
  const recordNow = db.transaction((entry: AuditEntry) => repository.append(entry, clock.now()));
  return {
    /** Records inside the caller's open transaction (the event commits with what it describes). */
    appendInTransaction(entry: AuditEntry): void {
      repository.append(entry, clock.now());
    },
    /** Records on its own, committed before returning. */
    record(entry: AuditEntry): void {
      recordNow.immediate(entry);
    },
    verifyChain: (): ChainCheck => verifyChain(repository.iterate()),
    /** The last row (id and hash); undefined for an empty trail. The chain can show an altered or
     * removed row, never a cut tail: keeping this outside the host does. */
    head(): { id: number; hash: string } | undefined {
      return repository.head();
    },
    /** The rows an export holds, in chain order, read lazily (a large trail is never in memory at once). */
    exportRows(filter: ExportFilter): IterableIterator<AuditRow> {
      const range = tokyoDateRange(filter.since, filter.until);
      return repository.iterateRange({ ...range, ...(filter.ordererCode === undefined ? {} : { ordererCode: filter.ordererCode }) });
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
