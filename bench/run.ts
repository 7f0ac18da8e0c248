/**
 * `npm run bench [-- --smoke] [--only verify,pages] [--duration 10]`: the six benchmarks of
 * docs/BENCHMARKS.md, each against a bound measured in the same run. Prints a table per benchmark
 * with PASS/MISS per target and writes bench/results/<name>.json. Speed never fails the run; a
 * benchmark that could not run (or got wrong answers) exits 1.
 */
import { realpathSync } from "node:fs";
import { runApi } from "./api.js";
import { fileURLToPath } from "node:url";
import { runArgon2Build } from "./argon2-build.js";
import { runIssue } from "./issue.js";
import { runLogin } from "./login.js";
import { machine } from "./lib/machine.js";
import { HELP, parseOptions, UsageError, type BenchmarkName, type BenchOptions } from "./lib/options.js";
import { printResult, writeResult, type BenchResult } from "./lib/report.js";
import { runPages } from "./pages.js";
import { runScale } from "./scale.js";
import { runVerify } from "./verify.js";

const RUNNERS: Record<BenchmarkName, (options: BenchOptions) => Promise<BenchResult>> = {
  verify: runVerify,
  api: runApi,
  pages: runPages,
  issue: runIssue,
  login: runLogin,
  "argon2-build": runArgon2Build,
  scale: runScale,
};

/** Runs the chosen benchmarks one after the other (never two at once: they share the cores). */
export async function runBenchmarks(options: BenchOptions, out: (s: string) => void = (s) => void process.stdout.write(s)): Promise<BenchResult[]> {
  const m = machine();
  out(`Kakunin benchmarks${options.smoke ? " (smoke sizes)" : ""}: ${m.cores} cores, ${m.cpu}, node ${m.node}, ` +
    `argon2 ${m.argon2.version} ${m.argon2.build}${m.argon2.flags ? ` (${m.argon2.flags}, ${m.argon2.simd})` : ""}, load average ${m.loadAverage.join(" ")}\n`);
  const results: BenchResult[] = [];
  for (const name of options.only) {
    out(`\nrunning ${name}…\n`);
    const result = await RUNNERS[name](options);
    printResult(result, out);
    out(`wrote ${writeResult(options.resultsDir, result)}\n`);
    results.push(result);
  }
  return results;
}

async function main(): Promise<number> {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (options === "help") {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const results = await runBenchmarks(options);
  return results.every((r) => r.ok) ? 0 : 1;
}

const entry = process.argv[1] ? realpathSync(process.argv[1]) : "";
if (entry === realpathSync(fileURLToPath(import.meta.url))) {
  process.exitCode = await main();
}
