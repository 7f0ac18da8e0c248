import { isRealIsoDate } from "../format/era-date.js";
import type { Checkpoint } from "./audit-checkpoint.repository.js";
import type { AuditRow } from "./audit.repository.js";
import { csvCell } from "../format/csv.js";

export type ExportFormat = "csv" | "jsonl";

/** The columns of an export, in order; the same names are the keys of a JSON line. */
export const EXPORT_COLUMNS = [
  "id", "occurred_at", "occurred_at_jst", "event", "outcome", "actor_kind", "actor", "officer_id",
  "orderer_code", "client_address", "contract_number", "detail", "prev_hash", "hash",
] as const;

export type ExportRecord = Record<(typeof EXPORT_COLUMNS)[number], string | number | null>;

/** The columns of a checkpoint in an export; a JSON line with `checkpoint_id` is a checkpoint. */
export const CHECKPOINT_COLUMNS = ["checkpoint_id", "row_id", "row_hash", "rows", "signed_at", "signature"] as const;

export type CheckpointRecord = Record<(typeof CHECKPOINT_COLUMNS)[number], string | number>;

/**
 * Failed verifications, and the throttle's escalations on a contract number (throttling's
 * ESCALATION_EVENTS.contract and .officer_contract): an orderer's own export shows them all as one
 * event with one outcome, so that it cannot tell an unknown number from a wrong key or another
 * orderer's guarantee.
 */
const FAILED_VERIFICATION_EVENTS = new Set(["key_verify_fail", "authz_fail", "key_fail_max", "key_lock", "key_officer_fail_max", "key_officer_lock"]);
export const ORDERER_FAILED_EVENT = "key_verify_fail";
export const ORDERER_FAILED_OUTCOME = "failed";

/** What an export holds, stated in its first JSON line so that `verify-export` knows whether rows
 * 1..n must all be there (no orderer, no --since) or only a part of them. */
export type ExportScope = { orderer: string | null; since: string | null; until: string | null };

export type ExportOptions = {
  scope: ExportScope;
  checkpoints: Checkpoint[];
  /** Only the records this keeps (the browser's officer and event filters), chosen after the masking. */
  keep?: (record: ExportRecord) => boolean;
};

/** The events an orderer sees as the one ORDERER_FAILED_EVENT; filtering by any of them means all of them. */
export const ordererFailedEvents = (): string[] => [...FAILED_VERIFICATION_EVENTS];

/** One row as its orderer sees it (the failed verifications made alike); the hashes are the export's concern. */
export function toOrdererRecord(row: AuditRow): ExportRecord {
  const record = toRecord(row);
  if (FAILED_VERIFICATION_EVENTS.has(row.event)) Object.assign(record, { event: ORDERER_FAILED_EVENT, outcome: ORDERER_FAILED_OUTCOME, detail: null, hash: null });
  return record;
}

const TOKYO_OFFSET_MS = 9 * 60 * 60 * 1000; // Japan has kept UTC+9 without summer time since 1951.
const DAY_MS = 24 * 60 * 60 * 1000;

/** Open ends of a range: every stored instant ("2026-…Z") sorts between these two strings. */
const EARLIEST = "";
const LATEST = "\uffff";

/** A Tokyo calendar date range, both days inclusive, as the UTC instants the table stores:
 * [first instant of `since` in Tokyo, first instant of the day after `until` in Tokyo). */
export function tokyoDateRange(since?: string, until?: string): { from: string; until: string } {
  return {
    from: since === undefined ? EARLIEST : new Date(Date.parse(`${since}T00:00:00.000Z`) - TOKYO_OFFSET_MS).toISOString(),
    until: until === undefined ? LATEST : new Date(Date.parse(`${until}T00:00:00.000Z`) - TOKYO_OFFSET_MS + DAY_MS).toISOString(),
  };
}

/** "YYYY-MM-DD" that exists in the calendar, or a reason why not. */
export function checkExportDate(raw: string): { ok: true; date: string } | { ok: false; message: string } {
  const date = raw.trim();
  if (!isRealIsoDate(date)) return { ok: false, message: `"${raw}" is not a date as YYYY-MM-DD (a Tokyo calendar date, e.g. 2026-04-01)` };
  return { ok: true, date };
}

function toCheckpointRecord(c: Checkpoint): CheckpointRecord {
  return { checkpoint_id: c.id, row_id: c.rowId, row_hash: c.rowHash, rows: c.rows, signed_at: c.signedAt, signature: c.signature };
}

/**
 * The orderer's view of its rows. A made-alike row loses its detail and its hash, and the next row
 * its prev_hash (the same value): with the rest of the row in hand, the hash of each of the few
 * possible causes could be tried until one matched. A checkpoint signing such a row is left out
 * for the same reason.
 */
function* ordererView(rows: Iterable<AuditRow>, hiddenHashes: Set<number>): IterableIterator<ExportRecord> {
  for (const row of rows) {
    const record = toOrdererRecord(row);
    if (hiddenHashes.has(row.id - 1)) record.prev_hash = null;
    if (record.hash === null) hiddenHashes.add(row.id);
    yield record;
  }
}

function toRecord(row: AuditRow): ExportRecord {
  const tokyo = new Date(Date.parse(row.occurredAt) + TOKYO_OFFSET_MS).toISOString().replace("Z", "+09:00");
  return {
    id: row.id, occurred_at: row.occurredAt, occurred_at_jst: tokyo, event: row.event, outcome: row.outcome,
    actor_kind: row.actorKind, actor: row.actor, officer_id: row.officerId, orderer_code: row.ordererCode,
    client_address: row.clientAddress, contract_number: row.contractNumber, detail: row.detail,
    prev_hash: row.prevHash, hash: row.hash,
  };
}

/** The export as lines to write, header first for CSV, the signed checkpoints after the rows;
 * each line ends with its own newline. CSV is for people (UTF-8 with a BOM so that Excel shows the
 * Japanese, CRLF as RFC 4180 says; the checkpoints after an empty line, under their own header);
 * JSON lines, the scope first, are for programs and for `audit verify-export`. */
export function* formatExport(rows: Iterable<AuditRow>, format: ExportFormat, options: ExportOptions): IterableIterator<string> {
  const hidden = new Set<number>();
  // An orderer's own export: failed verifications made alike, and the hashes that would tell them apart withheld.
  const all = options.scope.orderer !== null ? ordererView(rows, hidden) : (function* () { for (const row of rows) yield toRecord(row); })();
  const keep = options.keep;
  const records = keep ? (function* () { for (const record of all) if (keep(record)) yield record; })() : all;
  // Read after the rows: `hidden` is complete only once they are all written.
  const checkpoints = () => options.checkpoints.filter((c) => !hidden.has(c.rowId)).map(toCheckpointRecord);
  if (format === "csv") {
    yield `\ufeff${EXPORT_COLUMNS.join(",")}\r\n`;
    for (const record of records) yield `${EXPORT_COLUMNS.map((c) => csvCell(record[c])).join(",")}\r\n`;
    const signed = checkpoints();
    if (signed.length > 0) yield `\r\n${CHECKPOINT_COLUMNS.join(",")}\r\n`;
    for (const c of signed) yield `${CHECKPOINT_COLUMNS.map((k) => csvCell(c[k])).join(",")}\r\n`;
    return;
  }
  yield `${JSON.stringify({ export: options.scope })}\n`;
  for (const record of records) yield `${JSON.stringify(record)}\n`;
  for (const c of checkpoints()) yield `${JSON.stringify(c)}\n`;
}
