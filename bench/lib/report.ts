import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { machine, type Machine } from "./machine.js";

/** A target is judged and printed, never enforced: speed does not fail a run. */
export type Target = { name: string; value: number; limit: number; op: ">=" | "<="; unit: string; pass: boolean };

export function target(name: string, value: number, op: ">=" | "<=", limit: number, unit = ""): Target {
  const pass = Number.isFinite(value) && (op === ">=" ? value >= limit : value <= limit);
  return { name, value: round(value, 3), op, limit, unit, pass };
}

/** What every benchmark writes to bench/results/<name>.json. */
export type BenchResult = {
  benchmark: string;
  ok: boolean;
  smoke: boolean;
  startedAt: string;
  seconds: number;
  machine: Machine;
  rows: Record<string, string | number | null>[];
  targets: Target[];
  notes: string[];
  details: Record<string, unknown>;
};

export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function formatTable(rows: Record<string, string | number | null>[]): string {
  if (rows.length === 0) return "(no rows)";
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: string | number | null | undefined) => (v === null || v === undefined ? "–" : typeof v === "number" ? String(round(v, 2)) : v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ");
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join("\n");
}

export function formatTargets(targets: Target[]): string {
  return targets.map((t) => `${t.pass ? "PASS" : "MISS"}  ${t.name}: ${round(t.value, 3)}${t.unit} (target ${t.op} ${t.limit}${t.unit})`).join("\n");
}

export function printResult(result: BenchResult, out: (s: string) => void = (s) => void process.stdout.write(s)): void {
  out(`\n== ${result.benchmark}${result.smoke ? " (smoke)" : ""} ==\n`);
  out(formatTable(result.rows) + "\n");
  if (result.targets.length > 0) out(formatTargets(result.targets) + "\n");
  for (const note of result.notes) out(`note: ${note}\n`);
}

export function writeResult(dir: string, result: BenchResult): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${result.benchmark}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  return file;
}

/** Runs one benchmark body and always produces a result, also when the body throws. */
export async function measure(
  name: string,
  smoke: boolean,
  body: (r: Pick<BenchResult, "ok" | "rows" | "targets" | "notes" | "details">) => Promise<void>,
): Promise<BenchResult> {
  const started = Date.now();
  const result: BenchResult = {
    benchmark: name, ok: true, smoke, startedAt: new Date(started).toISOString(), seconds: 0, machine: machine(),
    rows: [], targets: [], notes: [], details: {},
  };
  try {
    await body(result);
  } catch (error) {
    result.ok = false;
    result.notes.push(`failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  }
  result.seconds = round((Date.now() - started) / 1000, 1);
  return result;
}
