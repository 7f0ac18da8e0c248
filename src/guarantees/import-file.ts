import { parse as parseCsv } from "csv-parse/sync";
import { z } from "zod";
import { refusal, success, type Outcome } from "../result.js";
import { issuanceSchema } from "./certificate.schema.js";

/**
 * Reading the files an admin hands to `issue`, `amend` and `correct`: a JSON array of certificates,
 * or a CSV whose header names the same fields with nested ones flattened by dots ("branch.name").
 * A file that cannot be read as a whole is refused with the line; row content is left to the
 * certificate schema, so both formats get the same messages.
 */

/** Far above any real issuance file, low enough that a wrong file name cannot exhaust memory. */
export const MAX_FILE_BYTES = 32 * 1024 * 1024;

export type FileFormat = "json" | "csv";

const fileProblem = (message: string) => refusal({ field: "(file)", message });

/** Strict UTF-8 (a Shift_JIS export is refused, not turned into mojibake); a leading BOM is dropped. */
export function decodeUtf8(bytes: Uint8Array): Outcome<string> {
  if (bytes.byteLength > MAX_FILE_BYTES) return fileProblem(`is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return fileProblem("is not UTF-8 text (save it as UTF-8, e.g. \"CSV UTF-8\" in Excel)");
  }
  return success(text);
}

/** By extension first, else by the first character: JSON files start with "[" or "{". */
export function detectFormat(fileName: string, text: string): FileFormat {
  const lower = fileName.toLowerCase();
  if (lower.endsWith(".json")) return "json";
  if (lower.endsWith(".csv")) return "csv";
  return /^\s*[[{]/.test(text) ? "json" : "csv";
}

/** JSON.parse with the position in its message turned into a line and column an editor can find. */
export function parseJsonText(text: string): Outcome<unknown> {
  try {
    return success(JSON.parse(text) as unknown);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /at position (\d+)/.exec(message);
    if (!position) return fileProblem(`is not valid JSON: ${message}`);
    const before = text.slice(0, Number(position[1]));
    const line = before.split("\n").length;
    const column = before.length - before.lastIndexOf("\n");
    const reason = message.replace(/\s*in JSON at position \d+.*$/, "");
    return fileProblem(`is not valid JSON at line ${line}, column ${column}: ${reason}`);
  }
}

/** The CSV columns a certificate may have: the schema's fields, nested ones as "parent.child". */
export function issuanceColumns(): string[] {
  const columns: string[] = [];
  for (const [key, field] of Object.entries(issuanceSchema.shape)) {
    if (field instanceof z.ZodObject) columns.push(...Object.keys(field.shape).map((child) => `${key}.${child}`));
    else columns.push(key);
  }
  return columns;
}

/** A CSV of certificates -> one object per data row, nested by the dotted header; empty cells are absent. */
export function parseCsvText(text: string): Outcome<Record<string, unknown>[]> {
  let records: string[][];
  try {
    records = parseCsv(text, { bom: true, skip_empty_lines: true, skip_records_with_empty_values: true }) as string[][];
  } catch (error) {
    const lines = (error as { lines?: number }).lines;
    const message = error instanceof Error ? error.message : String(error);
    return fileProblem(`is not valid CSV${lines ? ` at line ${lines}` : ""}: ${message}`);
  }
  const [header, ...rows] = records;
  if (!header) return fileProblem("is empty: the first line must name the columns (contractNumber,product,issuer,…)");
  const names = header.map((name) => name.normalize("NFKC").trim());
  const known = new Set(issuanceColumns());
  const unknown = names.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    return fileProblem(`has unknown column(s) ${unknown.map((n) => `"${n}"`).join(", ")} in its header; the columns are ${[...known].join(", ")}`);
  }
  const repeated = names.filter((name, i) => names.indexOf(name) !== i);
  if (repeated.length > 0) return fileProblem(`names column(s) ${[...new Set(repeated)].join(", ")} twice in its header`);
  return success(rows.map((cells) => unflatten(names, cells)));
}

function unflatten(names: string[], cells: string[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  names.forEach((name, i) => {
    const cell = cells[i] ?? "";
    if (cell.trim() === "") return;
    const dot = name.indexOf(".");
    if (dot < 0) {
      row[name] = cell;
      return;
    }
    const parent = name.slice(0, dot);
    const nested = (row[parent] ??= {}) as Record<string, unknown>;
    nested[name.slice(dot + 1)] = cell;
  });
  return row;
}

/** An issuance file (JSON array or CSV) -> the raw certificates, for issuanceService.issue. */
export function parseIssuanceFile(bytes: Uint8Array, fileName: string): Outcome<unknown[]> {
  const text = decodeUtf8(bytes);
  if (!text.ok) return text;
  if (text.value.trim() === "") return fileProblem("is empty");
  if (detectFormat(fileName, text.value) === "csv") return parseCsvText(text.value);
  const parsed = parseJsonText(text.value);
  if (!parsed.ok) return parsed;
  if (!Array.isArray(parsed.value)) return fileProblem("must be a JSON array of certificates: [ { \"contractNumber\": …, … }, … ]");
  return success(parsed.value);
}

/** An amendment or correction file: one JSON object of the changed fields. */
export function parseChangeFile(bytes: Uint8Array): Outcome<Record<string, unknown>> {
  const text = decodeUtf8(bytes);
  if (!text.ok) return text;
  if (text.value.trim() === "") return fileProblem("is empty");
  const parsed = parseJsonText(text.value);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fileProblem("must be one JSON object of the fields that change, e.g. { \"guaranteeAmount\": 25000000 }");
  }
  return success(value as Record<string, unknown>);
}
