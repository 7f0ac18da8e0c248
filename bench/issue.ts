import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { systemClock } from "../src/clock.js";
import { openMigratedDatabase } from "../src/db/database.js";
import { projectRoot } from "../src/paths.js";
import { createHasher, OWASP_ARGON2 } from "../src/security/hasher.js";
import { createServices } from "../src/composition.js";
import { measureHashBound } from "./lib/bounds.js";
import type { BenchOptions } from "./lib/options.js";
import { runWorker, startNode } from "./lib/processes.js";
import { measure, round, target, type BenchResult } from "./lib/report.js";
import { benchCertificates, seedRegistry } from "./lib/seed.js";
import { adminNodeArgs, scratchDir } from "./lib/servers.js";

type IssueRun = { driver: "admin CLI" | "services"; seconds: number; issued: number; peakRssMb: number | null; cpuSeconds: number | null; command: string };

/** `admin --db <db> issue <file> --json`, as an issuer's admin runs it (a fresh process, timed from spawn to exit). */
async function issueWithCli(databasePath: string, file: string, count: number): Promise<IssueRun> {
  const args = ["scripts/admin.ts", "--db", databasePath, "issue", file, "--json"];
  const nodeArgs = adminNodeArgs();
  const began = performance.now();
  const cli = startNode(args, { env: { NODE_ENV: "development" }, keepStdout: false, nodeArgs });
  const { code, signal, peakRssMb, cpuSeconds } = await cli.exited;
  const seconds = (performance.now() - began) / 1000;
  if (code !== 0) throw new Error(`admin issue exited with ${signal ?? code}: ${cli.output().slice(-2000)}`);
  if (cli.stdoutLines() !== count) throw new Error(`admin issue printed ${cli.stdoutLines()} keys for ${count} certificates`);
  return { driver: "admin CLI", seconds, issued: count, peakRssMb, cpuSeconds, command: `node ${[...nodeArgs, "--import", "tsx", ...args].join(" ")}` };
}

/** The same steps through services.issuance in a fresh process (bench/workers/issue-services.ts). */
async function issueWithServices(databasePath: string, file: string): Promise<IssueRun> {
  const began = performance.now();
  const out = await runWorker<{ issued: number }>("issue-services.ts", [databasePath, file], { NODE_ENV: "development" });
  return { driver: "services", seconds: (performance.now() - began) / 1000, issued: out.issued, peakRssMb: out.peakRssMb, cpuSeconds: out.cpuSeconds, command: "node --import tsx bench/workers/issue-services.ts" };
}

function countGuarantees(databasePath: string): number {
  const db = openMigratedDatabase(databasePath);
  try {
    return (db.prepare("SELECT count(*) AS n FROM guarantees").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/**
 * The admin issuing `issueCount` certificates from one JSON file, against the bound of hashing as
 * many keys over all cores in a process that does nothing else.
 */
export function runIssue(options: BenchOptions): Promise<BenchResult> {
  return measure("issue", options.smoke, async (result) => {
    const count = options.issueCount;
    const scratch = scratchDir("issue");
    try {
      const databasePath = path.join(scratch.dir, "kakunin.sqlite");
      const db = openMigratedDatabase(databasePath);
      try {
        seedRegistry(createServices({ db, clock: systemClock, hasher: await createHasher(OWASP_ARGON2) }));
      } finally {
        db.close();
      }
      const file = path.join(scratch.dir, "certificates.json");
      writeFileSync(file, JSON.stringify(benchCertificates(count)));

      const bound = await measureHashBound(count);
      let run: IssueRun;
      const cliAvailable = existsSync(path.join(projectRoot, "scripts", "admin.ts"));
      if (cliAvailable) {
        try {
          run = await issueWithCli(databasePath, file, count);
        } catch (error) {
          result.notes.push(`the admin CLI could not issue (${(error as Error).message.split("\n")[0]}); measured services.issuance.issue instead`);
          if (countGuarantees(databasePath) !== 0) throw new Error("the failed CLI run left certificates behind", { cause: error });
          run = await issueWithServices(databasePath, file);
        }
      } else {
        result.notes.push("scripts/admin.ts is not there yet: measured services.issuance.issue in a fresh process (the CLI's own path, minus argument parsing and printing)");
        run = await issueWithServices(databasePath, file);
      }
      const stored = countGuarantees(databasePath);
      if (stored !== count) {
        result.ok = false;
        result.notes.push(`${stored} certificates stored for ${count} in the file`);
      }
      const ratio = run.seconds / bound.seconds;
      result.rows.push(
        { run: `issue ${count} certificates (${run.driver})`, seconds: round(run.seconds, 2), "per second": round(count / run.seconds, 1), "÷ bound": round(ratio, 3), "CPU s": round(run.cpuSeconds ?? NaN, 1), "CPU ÷ bound": round((run.cpuSeconds ?? NaN) / (bound.cpuSeconds ?? NaN), 3), "peak RSS MB": run.peakRssMb },
        { run: `bound: ${count} argon2 hashes, ${bound.concurrency} at a time`, seconds: round(bound.seconds, 2), "per second": round(bound.perSecond, 1), "÷ bound": 1, "CPU s": round(bound.cpuSeconds ?? NaN, 1), "CPU ÷ bound": 1, "peak RSS MB": bound.peakRssMb },
      );
      result.targets.push(target("issue time ÷ bound", ratio, "<=", 1.15, "×"), target("issue peak RSS", run.peakRssMb ?? NaN, "<=", 300, " MB"));
      result.notes.push(`timed from spawn to exit: \`${run.command}\` (node and tsx start-up included); certificates: the source document's sample, numbered 02208-000001…`);
      if (options.smoke) result.notes.push("smoke size: start-up dominates, the ratio means nothing here");
      result.details = { count, run, bound };
    } finally {
      scratch.remove();
    }
  });
}
