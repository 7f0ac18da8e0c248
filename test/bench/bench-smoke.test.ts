import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BENCHMARKS } from "../../bench/lib/options.js";
import type { BenchResult } from "../../bench/lib/report.js";
import { projectRoot } from "../../src/paths.js";

/**
 * The benchmarks are not tests of speed (CI never fails on a figure), but they must not rot: each
 * runs here with tiny sizes, through `npm run bench`'s own entry point, and must finish with right
 * answers and well-formed JSON.
 */
describe("benchmarks (smoke sizes)", function () {
  this.timeout(120_000);
  const resultsDir = mkdtempSync(path.join(tmpdir(), "kakunin-bench-smoke-"));
  let run: { status: number | null; output: string };

  before(async () => {
    run = await new Promise((resolve) => {
      const { NODE_OPTIONS: _ignored, ...env } = process.env;
      const child = spawn(process.execPath, ["--import", "tsx", "bench/run.ts", "--smoke", "--results", resultsDir], { cwd: projectRoot, env, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (d) => { output += d; });
      child.stderr.on("data", (d) => { output += d; });
      child.on("close", (status) => resolve({ status, output }));
    });
  });
  after(() => rmSync(resultsDir, { recursive: true, force: true }));

  it("when `npm run bench -- --smoke` runs, then it exits 0 and prints a table and PASS/MISS lines", () => {
    expect(run.status, run.output).to.equal(0);
    for (const name of BENCHMARKS) expect(run.output).to.contain(`== ${name} (smoke) ==`);
    expect(run.output).to.match(/^(PASS|MISS) {2}/m);
  });

  for (const name of BENCHMARKS) {
    it(`when the ${name} benchmark has run, then bench/results/${name}.json holds its rows, targets and machine`, () => {
      const result = JSON.parse(readFileSync(path.join(resultsDir, `${name}.json`), "utf8")) as BenchResult;
      expect(result.benchmark).to.equal(name);
      expect(result.ok, result.notes.join("\n")).to.equal(true);
      expect(result.smoke).to.equal(true);
      expect(result.rows.length).to.be.greaterThan(0);
      for (const t of result.targets) {
        expect(t).to.have.keys(["name", "value", "op", "limit", "unit", "pass"]);
        expect(t.pass).to.be.a("boolean");
      }
      expect(result.machine.cores).to.be.greaterThan(0);
      expect(result.machine.argon2.version).to.match(/^\d+\.\d+\.\d+$/);
    });
  }

  it("when the verify and login benchmarks have run, then every right secret was accepted and every wrong one refused", () => {
    const verify = JSON.parse(readFileSync(path.join(resultsDir, "verify.json"), "utf8")) as BenchResult;
    const login = JSON.parse(readFileSync(path.join(resultsDir, "login.json"), "utf8")) as BenchResult;
    const outcomes = (result: BenchResult) => String(result.rows[0]!.outcomes).split(", ").map((o) => o.replace(/ \d+$/, ""));
    expect(outcomes(verify)).to.include("granted");
    for (const o of outcomes(verify)) expect(["granted", "refused"]).to.include(o);
    expect(outcomes(login)).to.include("logged in");
    for (const o of outcomes(login)) expect(["logged in", "refused"]).to.include(o);
  });
});
