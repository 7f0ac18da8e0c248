import { isRealIsoDate } from "../format/era-date.js";
import type { AuditRow } from "./audit.repository.js";

export type ExportFormat = "csv" | "jsonl";

/** The columns of an export, in order; the same names are the keys of a JSON line. */
export const EXPORT_COLUMNS = [
  "id", "occurred_at", "occurred_at_jst", "event", "outcome", "actor_kind", "actor", "officer_id",
  "orderer_code", "client_address", "contract_number", "detail", "prev_hash", "hash",
] as const;

type ExportRecord = Record<(typeof EXPORT_COLUMNS)[number], string | number | null>;

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

function toRecord(row: AuditRow): ExportRecord {
  const tokyo = new Date(Date.parse(row.occurredAt) + TOKYO_OFFSET_MS).toISOString().replace("Z", "+09:00");
  return {
    id: row.id, occurred_at: row.occurredAt, occurred_at_jst: tokyo, event: row.event, outcome: row.outcome,
    actor_kind: row.actorKind, actor: row.actor, officer_id: row.officerId, orderer_code: row.ordererCode,
    client_address: row.clientAddress, contract_number: row.contractNumber, detail: row.detail,
    prev_hash: row.prevHash, hash: row.hash,
  };
}

/**
 * One CSV cell (RFC 4180). A cell that a spreadsheet would read as a formula (= + - @, tab, CR)
 * gets a leading apostrophe: a failed login records the username as typed, so an attacker could
 * otherwise plant `=HYPERLINK(…)` in the file an orderer's auditor opens in Excel (OWASP CSV injection).
 */
function csvCell(value: string | number | null): string {
  if (value === null) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The export as lines to write, header first for CSV; each line ends with its own newline.
 * CSV is for people (UTF-8 with a BOM so that Excel shows the Japanese, CRLF as RFC 4180 says);
 * JSON lines are for programs. */
export function* formatExport(rows: Iterable<AuditRow>, format: ExportFormat): IterableIterator<string> {
  if (format === "csv") {
    yield `\ufeff${EXPORT_COLUMNS.join(",")}\r\n`;
    for (const row of rows) {
      const record = toRecord(row);
      yield `${EXPORT_COLUMNS.map((c) => csvCell(record[c])).join(",")}\r\n`;
    }
    return;
  }
  for (const row of rows) yield `${JSON.stringify(toRecord(row))}\n`;
}
