import type { Request, RequestHandler, Response } from "express";
import iconv from "iconv-lite";
import type { Clock } from "../clock.js";
import { tokyoDate } from "../format/era-date.js";
import { normalizeLogin } from "../format/normalize.js";
import type { Problem } from "../result.js";
import { checkExportDate, formatExport, ordererFailedEvents, ORDERER_FAILED_EVENT, type ExportFormat } from "./audit-export.js";
import { toAuditPageView, type AuditFilterValues } from "./audit-page.presenter.js";
import type { AuditService } from "./audit.service.js";

export const AUDIT_PAGE_SIZE = 100;

const EVENT_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const ROW_ID = /^[1-9][0-9]{0,15}$/;

type AuditQuery = {
  values: AuditFilterValues;
  since?: string; until?: string; officerId?: number; events?: string[];
  before?: { occurredAt: string; id: number };
  format?: ExportFormat; encoding: "utf-8" | "shift_jis";
};

/** The orderer's own audit trail for its administrators: a page in the browser and the downloads.
 * `findOfficer` looks a login up (the audit folder does not depend on the officers'). */
export function createAuditHandlers(deps: { audit: AuditService; findOfficer: (login: string) => { id: number; ordererCode: string } | undefined; clock: Clock }) {
  const { audit, findOfficer, clock } = deps;

  /** The query's filters, each bad one named; an officer or a cursor of another orderer is refused like an unknown one. */
  function readQuery(req: Request): { query: AuditQuery; problems: Problem[] } {
    const text = (name: string) => (typeof req.query[name] === "string" ? (req.query[name] as string).trim() : "");
    const values = { from: text("from"), to: text("to"), officer: text("officer"), event: text("event") };
    const ordererCode = req.user!.ordererCode;
    const problems: Problem[] = [];
    const query: AuditQuery = { values, encoding: "utf-8" };
    for (const [field, key] of [["from", "since"], ["to", "until"]] as const) {
      if (values[field] === "") continue;
      const date = checkExportDate(values[field]);
      if (date.ok) query[key] = date.date;
      else problems.push({ field, message: `${field === "from" ? "開始日" : "終了日"}は「2026-04-01」の形で、実在する日付を入力してください。` });
    }
    if (query.since && query.until && query.since > query.until) problems.push({ field: "to", message: "終了日は開始日以降の日付にしてください。" });
    if (values.officer !== "") {
      const officer = findOfficer(values.officer);
      if (officer && officer.ordererCode === ordererCode) query.officerId = officer.id;
      else problems.push({ field: "officer", message: `所属の職員にログインID「${normalizeLogin(values.officer).slice(0, 64)}」はいません。` });
    }
    if (values.event !== "") {
      if (!EVENT_NAME.test(values.event)) problems.push({ field: "event", message: "イベントは半角英小文字・数字・「_」で入力してください（例: key_verify_success）。" });
      // Every cause of a failed verification reads as the one event, so filtering must not tell them apart.
      else query.events = values.event === ORDERER_FAILED_EVENT || ordererFailedEvents().includes(values.event) ? ordererFailedEvents() : [values.event];
    }
    const before = text("before");
    if (before !== "") {
      const row = ROW_ID.test(before) ? audit.findById(Number(before)) : undefined;
      if (row && row.ordererCode === ordererCode) query.before = { occurredAt: row.occurredAt, id: row.id };
      else problems.push({ field: "before", message: "ページの指定が正しくありません。一覧の最初から表示し直してください。" });
    }
    const format = text("format");
    if (format === "csv" || format === "jsonl") query.format = format;
    else if (format !== "") problems.push({ field: "format", message: "ダウンロード形式は csv か jsonl です。" });
    const encoding = text("encoding");
    if (encoding === "shift_jis" && query.format === "csv") query.encoding = "shift_jis";
    else if (encoding !== "" && encoding !== "utf-8") problems.push({ field: "encoding", message: "文字コードは utf-8 か shift_jis（CSVのみ）です。" });
    return { query, problems };
  }

  /** GET /admin/audit: the page (newest first, 100 a page, ?before= the last row shown), or with
   * ?format=csv|jsonl the download of every row the filters select. Bad filters: the page, 400. */
  const page: RequestHandler = async (req, res) => {
    const { query, problems } = readQuery(req);
    if (problems.length > 0) return res.status(400).render("admin/audit", toAuditPageView([], query.values, undefined, problems));
    if (query.format) return download(req, res, query, query.format);
    const rows = audit.ordererPage({
      ordererCode: req.user!.ordererCode, limit: AUDIT_PAGE_SIZE + 1,
      ...pick(query, ["since", "until", "officerId", "events", "before"]),
    });
    const more = rows.length > AUDIT_PAGE_SIZE;
    res.render("admin/audit", toAuditPageView(rows.slice(0, AUDIT_PAGE_SIZE), query.values, more ? rows[AUDIT_PAGE_SIZE - 1]!.id : undefined));
  };

  /** The export of `audit export --orderer` (same rows, same masking, the signed checkpoints in JSON
   * Lines), narrowed to the officer and event asked for, streamed; the download is audited. */
  async function download(req: Request, res: Response, query: AuditQuery, format: ExportFormat): Promise<void> {
    const officer = req.user!;
    const shiftJis = query.encoding === "shift_jis";
    const scope = { orderer: officer.ordererCode, since: query.since ?? null, until: query.until ?? null };
    const events = query.events ? new Set(query.events.includes(ORDERER_FAILED_EVENT) ? [ORDERER_FAILED_EVENT] : query.events) : undefined;
    let rows = 0;
    const lines = formatExport(audit.exportRows({ ordererCode: officer.ordererCode, ...pick(query, ["since", "until"]) }), format, {
      scope,
      checkpoints: audit.checkpoints(),
      keep: (record) => {
        const kept = (query.officerId === undefined || record.officer_id === query.officerId) && (!events || events.has(String(record.event)));
        if (kept) rows++;
        return kept;
      },
    });
    const name = `kakunin-audit-${officer.ordererCode}-${tokyoDate(clock.now()).replaceAll("-", "")}${shiftJis ? "-sjis" : ""}.${format}`;
    // After attachment(), which would set a type from the file name.
    res.attachment(name);
    res.set("Content-Type", format === "csv" ? `text/csv; charset=${shiftJis ? "Shift_JIS" : "utf-8"}` : "application/jsonl; charset=utf-8");
    let chunk = "";
    /** Writes the chunk; false once the client has gone (then nothing more is read or written). */
    const flush = async (): Promise<boolean> => {
      if (res.destroyed) return false;
      // Shift_JIS (Windows' CP932, what Excel opens) has no BOM; characters it lacks become "?".
      const bytes = shiftJis ? iconv.encode(chunk.replace(/^\ufeff/, ""), "cp932") : Buffer.from(chunk, "utf8");
      chunk = "";
      if (!res.write(bytes)) await drainOrClose(res);
      return !res.destroyed;
    };
    const sent = await (async () => {
      for (const line of lines) {
        chunk += line;
        if (chunk.length >= 64 * 1024 && !(await flush())) return false;
      }
      return flush();
    })();
    if (sent) res.end();
    audit.record({
      // A download the client broke off still gave it the rows up to there.
      event: "audit_export", outcome: sent ? "ok" : "aborted", actorKind: "officer", actor: officer.login, officerId: officer.id, ordererCode: officer.ordererCode,
      detail: { since: scope.since, until: scope.until, format, encoding: query.encoding, rows },
    });
  }

  return { page };
}

/** Until the client has taken what was written, or has gone: a client that stops reading never
 * sends 'drain', and one that disconnects ends the wait with 'close'. */
function drainOrClose(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done).off("close", done);
      resolve();
    };
    res.on("drain", done).on("close", done);
  });
}

function pick<T extends object, K extends keyof T>(source: T, keys: K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) picked[key] = source[key];
  return picked;
}
