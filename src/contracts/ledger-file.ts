import { parse as parseCsv } from "csv-parse/sync";
import iconv from "iconv-lite";
import { refusal, success, type Outcome, type Problem } from "../result.js";
import { CONTRACT_FIELDS, FIELD_LABELS, type ContractField } from "./contract.schema.js";
import { csvCell, unguardCell } from "../format/csv.js";

/**
 * The orderer's contract ledger as a CSV file, both ways: what Excel on a Japanese Windows writes
 * (Shift_JIS, i.e. CP932, CRLF) or "CSV UTF-8" (with a BOM), and the same back for Excel.
 * Problems name the row as Excel numbers it (the header is 1行目) and the column by its header.
 */

export type LedgerEncoding = "utf-8" | "shift_jis";

/** Thousands of contracts take well under a megabyte; the cap keeps a wrong file from costing memory. */
export const MAX_LEDGER_BYTES = 5 * 1024 * 1024;
export const MAX_LEDGER_ROWS = 10_000;
/** Beyond this many problems a file is plainly the wrong one; the rest are counted, not listed. */
export const MAX_LEDGER_PROBLEMS = 200;
/** Written by the export for people to read, ignored on import, so that an export can be edited
 * and imported again. */
export const STATE_COLUMN = "状態";

/** The field of problems about the file as a whole. */
export const FILE_FIELD = "ファイル";

/** A data row: its Excel row number and its cells by field. */
export type LedgerRow = { row: number; values: Record<ContractField, string> };

/** "3行目 請負代金額: …", or "ファイル: …" for the file as a whole. */
export function describeLedgerProblem(p: Problem): string {
  return `${p.row !== undefined ? `${p.row}行目 ` : ""}${p.field}: ${p.message}`;
}

const fileProblem = (message: string) => refusal({ field: FILE_FIELD, message });

const startsWith = (bytes: Uint8Array, prefix: number[]) => prefix.every((byte, i) => bytes[i] === byte);

/** BOM -> UTF-8; valid UTF-8 -> UTF-8; else CP932 (Excel's "CSV (コンマ区切り)" on Japanese
 * Windows), refused if even that leaves undecodable bytes. No question asked of the user. */
export function decodeLedger(bytes: Uint8Array): Outcome<{ text: string; encoding: LedgerEncoding }> {
  if (bytes.byteLength > MAX_LEDGER_BYTES) return fileProblem(`${MAX_LEDGER_BYTES / 1024 / 1024}MBを超えています`);
  if (startsWith(bytes, [0xff, 0xfe]) || startsWith(bytes, [0xfe, 0xff])) {
    return fileProblem("UTF-16 のテキストは読めません。Excel で「CSV UTF-8（コンマ区切り）」か「CSV（コンマ区切り）」として保存してください");
  }
  const hasBom = startsWith(bytes, [0xef, 0xbb, 0xbf]);
  try {
    return success({ text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), encoding: "utf-8" });
  } catch {
    if (hasBom) return fileProblem("UTF-8 の印（BOM）がありますが、UTF-8 として読めない部分があります");
  }
  const text = iconv.decode(bytes, "cp932");
  if (text.includes("\uFFFD")) return fileProblem("文字コードを判別できません（UTF-8 でも Shift_JIS でもありません）");
  return success({ text, encoding: "shift_jis" });
}

const CSV_ERRORS: Readonly<Record<string, string>> = {
  CSV_INVALID_CLOSING_QUOTE: "引用符（\"）の閉じ方が正しくありません",
  CSV_QUOTE_NOT_CLOSED: "引用符（\"）が閉じられていません",
  CSV_MAX_RECORD_SIZE: "1行が長すぎます",
};

/**
 * The text of a ledger -> its data rows. The header must name every column exactly once (in any
 * order; 状態 may be there too); blank rows (Excel writes ",,,,") are skipped but still counted,
 * so row numbers stay Excel's.
 */
export function readLedgerRows(text: string): Outcome<LedgerRow[]> {
  let records: string[][];
  try {
    records = parseCsv(text, { bom: true, relax_column_count: true, max_record_size: 64 * 1024 }) as string[][];
  } catch (error) {
    const { code, lines } = error as { code?: string; lines?: number };
    return fileProblem(`CSV として読めません（${lines ?? "?"}行目付近: ${CSV_ERRORS[code ?? ""] ?? (error instanceof Error ? error.message : String(error))}）`);
  }
  const [header, ...data] = records;
  if (!header || records.every((record) => record.every((c) => c.trim() === ""))) return fileProblem("空です");
  if (data.length > MAX_LEDGER_ROWS) return fileProblem(`行が多すぎます（${MAX_LEDGER_ROWS}行まで）。分けて取り込んでください`);

  // Excel writes a trailing empty header cell for a stray cell right of the table: ignored, like
  // the empty cells below it.
  const names = header.map((name) => name.normalize("NFKC").trim());
  while (names.length > 0 && names.at(-1) === "") names.pop();
  const problems: Problem[] = [];
  const byLabel = new Map(CONTRACT_FIELDS.map((field) => [FIELD_LABELS[field], field] as const));
  const columns = new Map<ContractField, number>();
  names.forEach((name, index) => {
    const field = byLabel.get(name);
    if (name === STATE_COLUMN) return;
    if (field === undefined) {
      problems.push({ row: 1, field: name || `${index + 1}列目`, message: `使えない列名です（使える列: ${[...byLabel.keys()].join("、")}）` });
    } else if (columns.has(field)) {
      problems.push({ row: 1, field: name, message: "この列が2回あります" });
    } else {
      columns.set(field, index);
    }
  });
  for (const field of CONTRACT_FIELDS) {
    if (!columns.has(field)) problems.push({ row: 1, field: FIELD_LABELS[field], message: "この列がありません" });
  }
  if (problems.length > 0) return refusal(...problems);

  const rows: LedgerRow[] = [];
  data.forEach((cells, index) => {
    const row = index + 2;
    if (cells.every((c) => c.trim() === "")) return;
    if (cells.slice(names.length).some((c) => c.trim() !== "")) {
      problems.push({ row, field: FILE_FIELD, message: `見出しのない列（${names.length + 1}列目より右）に値があります` });
      return;
    }
    const values = Object.fromEntries(CONTRACT_FIELDS.map((field) => [field, unguardCell(cells[columns.get(field)!] ?? "")]));
    rows.push({ row, values: values as Record<ContractField, string> });
  });
  if (problems.length > 0) return refusal(...problems);
  if (rows.length === 0) return fileProblem("契約の行がありません（1行目は見出し、2行目から契約を書いてください）");
  return success(rows);
}

/** Rows -> CSV text with CRLF line ends (Excel's), every cell guarded against formulas. */
export function toCsvText(rows: readonly (readonly string[])[]): string {
  return rows.map((cells) => cells.map((cell) => csvCell(cell)).join(",")).join("\r\n") + "\r\n";
}

// Characters CP932 has under another code point than Unicode's usual mapping gives them:
// written as the look-alike CP932 has, as Windows itself does.
const CP932_LOOK_ALIKES: Readonly<Record<string, string>> = {
  "\u301C": "\uFF5E", // 〜 -> ～
  "\u2016": "\u2225", // ‖ -> ∥
  "\u2212": "\uFF0D", // − -> －
  "\u2014": "\u2015", // — -> ―
  "\u00A2": "\uFFE0", // ¢ -> ￠
  "\u00A3": "\uFFE1", // £ -> ￡
  "\u00AC": "\uFFE2", // ¬ -> ￢
  "\u00A5": "\uFFE5", // ¥ -> ￥
  "\u203E": "\uFFE3", // ‾ -> ￣
};
const LOOK_ALIKE = new RegExp(`[${Object.keys(CP932_LOOK_ALIKES).join("")}]`, "gu");

function toCp932(cell: string): { bytes: Buffer; lost: string[] } {
  const text = cell.replace(LOOK_ALIKE, (c) => CP932_LOOK_ALIKES[c] ?? c);
  const bytes = iconv.encode(text, "cp932");
  if (iconv.decode(bytes, "cp932") === text) return { bytes, lost: [] };
  return { bytes, lost: [...text].filter((c) => iconv.decode(iconv.encode(c, "cp932"), "cp932") !== c) };
}

/**
 * Rows (the first is the header) -> the bytes of a CSV for Excel: UTF-8 with a BOM (Excel needs
 * the BOM to read UTF-8), or CP932. A character CP932 cannot hold is refused, naming its row and
 * column, rather than written as "?".
 */
export function encodeLedger(rows: readonly (readonly string[])[], encoding: LedgerEncoding): Outcome<Uint8Array> {
  const text = toCsvText(rows);
  if (encoding === "utf-8") return success(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, "utf8")]));
  const encoded = toCp932(text);
  if (encoded.lost.length === 0) return success(encoded.bytes);
  const problems: Problem[] = [];
  rows.forEach((cells, index) => cells.forEach((cell, column) => {
    const { lost } = toCp932(cell);
    if (lost.length > 0) {
      problems.push({ row: index + 1, field: rows[0]![column] ?? `${column + 1}列目`, message: `「${[...new Set(lost)].join("")}」は Shift_JIS で書けません。UTF-8 で書き出してください` });
    }
  }));
  return refusal(...problems);
}
