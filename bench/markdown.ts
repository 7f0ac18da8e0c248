/**
 * `node --import tsx bench/markdown.ts [results dir]`: the latest results as Markdown tables, for
 * docs/BENCHMARKS.md.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "../src/paths.js";
import { BENCHMARKS } from "./lib/options.js";
import { round, type BenchResult } from "./lib/report.js";

const dir = path.resolve(process.argv[2] ?? path.join(projectRoot, "bench", "results"));
const cell = (v: unknown) => (v === null || v === undefined ? "–" : typeof v === "number" ? String(round(v, 2)) : String(v).replace(/\|/g, "\\|"));

for (const name of BENCHMARKS) {
  const file = path.join(dir, `${name}.json`);
  if (!existsSync(file)) continue;
  const result = JSON.parse(readFileSync(file, "utf8")) as BenchResult;
  const columns = [...new Set(result.rows.flatMap((r) => Object.keys(r)))];
  const lines = [
    `### ${name} (${result.startedAt.slice(0, 16).replace("T", " ")} UTC, load average ${result.machine.loadAverage.join(" ")})`,
    "",
    `| ${columns.join(" | ")} |`,
    `| ${columns.map(() => "---").join(" | ")} |`,
    ...result.rows.map((r) => `| ${columns.map((c) => cell(r[c])).join(" | ")} |`),
    "",
    ...result.targets.map((t) => `- **${t.pass ? "PASS" : "MISS"}** ${t.name}: ${round(t.value, 3)}${t.unit} (target ${t.op} ${t.limit}${t.unit})`),
    ...result.notes.map((n) => `- ${n}`),
    "",
  ];
  process.stdout.write(lines.join("\n") + "\n");
}
