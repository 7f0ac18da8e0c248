import type { KeyObject } from "node:crypto";
import type { Clock } from "../clock.js";
import type { SchemaObject } from "../db/schema.js";
import type { Transactions } from "../db/transactions.js";
import type { AuditCheckpointRepository, Checkpoint } from "./audit-checkpoint.repository.js";
import { tokyoDateRange } from "./audit-export.js";
import { checkpointPayload, verifyTrail, type TrailCheck } from "./audit-verify.js";
import { appendCheckpointLine } from "./checkpoint-log.js";
import type { CheckpointSigner } from "./signing-key.js";
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

/** Where checkpoints go: signed with the service's key, stored, and appended to the log file. */
export type CheckpointTarget = { signer: CheckpointSigner; logFile: string };

/** What `audit verify` trusts: the public key, the log's entries (undefined when unreadable) and
 * the triggers the migrations define. */
export type TrailTrust = { publicKey: KeyObject | undefined; log: Checkpoint[] | undefined; expectedTriggers: SchemaObject[] };

/** A checkpoint at most this often while rows arrive (issue 13: the window a forger can rewrite unseen). */
export const CHECKPOINT_EVERY_MS = 5 * 60_000;

/** Rows an export reads at a time. */
const EXPORT_PAGE_ROWS = 1_000;

export function createAuditService(deps: { audit: AuditRepository; checkpoints: AuditCheckpointRepository; tx: Transactions; clock: Clock }) {
  const { audit: repository, checkpoints, tx: db, clock } = deps;
  const recordNow = db.transaction((entry: AuditEntry) => repository.append(entry, clock.now()));
  // Reads the head and stores its checkpoint under one write lock, so no row slips in between.
  const signHead = db.transaction((signer: CheckpointSigner, force: boolean): Checkpoint | undefined => {
    const head = repository.head();
    if (!head) return undefined;
    const previous = checkpoints.last();
    if (!force && previous?.rowId === head.id) return undefined;
    // Rows are only ever appended, so the count is the last checkpoint's plus the rows since it:
    // never a count of the whole trail.
    const rows = previous ? previous.rows + repository.countAfter(previous.rowId) : repository.countAfter(0);
    const unsigned = { rowId: head.id, rowHash: head.hash, rows, signedAt: clock.now().toISOString() };
    return checkpoints.append({ ...unsigned, signature: signer.sign(checkpointPayload(unsigned)) });
  });
  /** Signs the head unless it is already signed; the log line follows the commit (a line without
   * its row would be a false alarm, a row without its line only a weaker record). */
  const checkpoint = (target: CheckpointTarget, force = false): Checkpoint | undefined => {
    const written = signHead.immediate(target.signer, force);
    if (written) appendCheckpointLine(target.logFile, written);
    return written;
  };
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
    /** The chain, the signed checkpoints, the checkpoint log and the append-only triggers. */
    verifyTrail: (trust: TrailTrust): TrailCheck => verifyTrail({
      rows: repository.iterate(), checkpoints: checkpoints.all(), triggers: checkpoints.auditTriggers(), ...trust,
    }),
    /** Signs the chain's head now, unless the last checkpoint already covers it. */
    checkpoint,
    /** The stored checkpoints, oldest first (an export carries them). */
    checkpoints: (): Checkpoint[] => checkpoints.all(),
    /** Checks every `everyMs` whether the head moved and signs it if so; the timer never keeps the
     * process alive. stop() ends it and signs the head one last time (the shutdown checkpoint). */
    scheduleCheckpoints(target: CheckpointTarget, options: { everyMs?: number; onError: (error: unknown) => void }): { stop(): void } {
      const tick = () => {
        try {
          checkpoint(target);
        } catch (error) {
          options.onError(error);
        }
      };
      const timer = setInterval(tick, options.everyMs ?? CHECKPOINT_EVERY_MS);
      timer.unref();
      return {
        stop() {
          clearInterval(timer);
          tick();
        },
      };
    },
    /** The last row (id and hash); undefined for an empty trail. The chain can show an altered or
     * removed row, never a cut tail: keeping this outside the host does. */
    head(): { id: number; hash: string } | undefined {
      return repository.head();
    },
    /** A page of one orderer's rows for the browser, newest first (see AuditRepository.pageOfOrderer);
     * dates are Tokyo calendar days, both inclusive. */
    ordererPage(filter: { ordererCode: string; since?: string; until?: string; before?: { occurredAt: string; id: number }; officerId?: number; events?: string[]; limit: number }): AuditRow[] {
      const { since, until, ...rest } = filter;
      return repository.pageOfOrderer({ ...rest, ...tokyoDateRange(since, until) });
    },
    findById: (id: number): AuditRow | undefined => repository.findById(id),
    /** The rows an export holds, in chain order, read lazily a page at a time (a large trail is
     * never in memory at once, and no statement stays open between pages while a download waits
     * for its client). The rows there were when the first is read, none added after. */
    *exportRows(filter: ExportFilter): IterableIterator<AuditRow> {
      const range = tokyoDateRange(filter.since, filter.until);
      const scope = { ...range, lastId: repository.head()?.id ?? 0, limit: EXPORT_PAGE_ROWS, ...(filter.ordererCode === undefined ? {} : { ordererCode: filter.ordererCode }) };
      let after: AuditRow | undefined;
      for (;;) {
        const page = repository.exportPage({ ...scope, ...(after ? { after } : {}) });
        yield* page;
        if (page.length < EXPORT_PAGE_ROWS) return;
        after = page[page.length - 1];
      }
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
