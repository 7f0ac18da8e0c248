import { setPriority } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { closedLoop } from "./lib/closed-loop.js";
import { closeConnections, type Session } from "./lib/http-client.js";
import { loginOfficers } from "./lib/officers.js";
import type { BenchOptions } from "./lib/options.js";
import { runWorker, startNode } from "./lib/processes.js";
import { measure, percentile, round, target, type BenchResult } from "./lib/report.js";
import { SCALE_KEY, type ScaleDatabase } from "./lib/scale-data.js";
import { BENCH_PASSWORD } from "./lib/seed.js";
import { adminNodeArgs, scratchDir, startKakunin } from "./lib/servers.js";
import { hammer } from "./pages.js";
import { loadLevels, stopServer, verifyLoadSize, verifyOperation } from "./verify.js";

/** A list page of the big orderer, or a path that another issue adds (measured once it answers 200). */
type Page = { name: string; path: (db: ScaleDatabase) => string; list: boolean };

const PAGES: Page[] = [
  { name: "確認済みの保証, first page", path: () => "/verified", list: true },
  { name: "確認済みの保証, a page halfway down", path: (db) => `/verified?after=${encodeURIComponent(db.middleCursor)}`, list: true },
  { name: "確認済みの保証, status 取消", path: () => "/verified?status=cancelled", list: true },
  { name: "確認済みの保証, status 期限切れ", path: () => "/verified?status=expired", list: true },
  { name: "確認済みの保証, search by contract number", path: (db) => `/verified?q=${db.bigOrdererNumbers[Math.floor(db.bigOrdererNumbers.length / 3)]}`, list: true },
  // The worst search: text found nowhere, so every holding of the orderer is read (no index serves a substring).
  { name: "確認済みの保証, search for a 工事名 found nowhere", path: () => `/verified?q=${encodeURIComponent("存在しない工事")}`, list: true },
  // The contract register and the notices, first pages. The API's list needs a bearer token, which
  // these officers' sessions do not carry: it reads "not measured (401)" until the bench makes a client.
  { name: "contract register", path: () => "/contracts", list: true },
  { name: "notices", path: () => "/notifications", list: true },
  { name: "API: guarantees", path: () => "/api/v1/guarantees", list: true },
  { name: "public list of orderers (1,800)", path: () => "/orderers", list: true },
  { name: "電子保証概要 (a held guarantee)", path: (db) => `/guarantees/${db.bigOrdererNumbers[0]}`, list: false },
];

/** Rows of a list page: the table rows of 確認済みの保証, or of any table on the page. */
function rowsOf(html: string): number {
  return (html.match(/<tr[ >]/g) ?? []).length - (html.match(/<thead/g) ?? []).length;
}

type AdminRun = { seconds: number; peakRssMb: number | null; cpuSeconds: number | null; stdoutLines: number; output: string };

/** `npm run admin -- --db <file> <args>` in a fresh process, as an operator runs it; spawn to exit.
 * `nice`: at the lowest CPU priority, as docs/operations.md runs the nightly backup beside the service. */
async function admin(databasePath: string, args: string[], options: { keepStdout?: boolean; nice?: boolean } = {}): Promise<AdminRun> {
  const began = performance.now();
  const cli = startNode(["scripts/admin.ts", "--db", databasePath, ...args], { env: { NODE_ENV: "development" }, keepStdout: options.keepStdout ?? true, nodeArgs: adminNodeArgs() });
  if (options.nice) setPriority(cli.pid, 19);
  const exit = await cli.exited;
  const seconds = (performance.now() - began) / 1000;
  if (exit.code !== 0) throw new Error(`admin ${args.join(" ")} exited with ${exit.signal ?? exit.code}: ${cli.output().slice(-2000)}`);
  return { seconds, peakRssMb: exit.peakRssMb, cpuSeconds: exit.cpuSeconds, stdoutLines: cli.stdoutLines(), output: cli.output() };
}

type SizeResult = {
  guarantees: number;
  built: ScaleDatabase & { peakRssMb: number | null; cpuSeconds: number | null };
  startupMs: number;
  verify: { perSecond: number; boundPerSecond: number; ratio: number; cpuRatio: number; p50Ms: number; p99Ms: number; serverCpuMsPerOp: number; mainThreadCpuMsPerOp: number; boundCpuMsPerVerify: number; outcomes: Record<string, number> };
  pages: { name: string; path: string; status: number; rows?: number; bytes?: number; perSecond?: number; p50Ms?: number; p99Ms?: number; non2xx?: number; errors?: number; serverCpuMsPerRequest?: number }[];
  backup: { seconds: number; baselineP99Ms: number; duringP99Ms: number; baselineP50Ms: number; duringP50Ms: number; duringCompleted: number; loadedSeconds: number; bytes: number };
  auditVerify: AdminRun & { rows: number };
  auditExport: AdminRun;
  check: AdminRun;
  peakRssMb: number | null;
};

/** Right-key verifications in a closed loop until `until` resolves or `maxMs` have passed; the latencies of all of them. */
async function verifyWhile(op: () => Promise<{ outcome: string }>, concurrency: number, until: Promise<unknown>, maxMs: number) {
  let done = false;
  const stop = () => { done = true; };
  until.then(stop, stop);
  const timer = setTimeout(stop, maxMs);
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  while (!done) {
    const slice = await closedLoop({ concurrency, warmupMs: 0, durationMs: 1000, op });
    latencies.push(...slice.latencies);
    for (const [k, v] of Object.entries(slice.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + v;
  }
  clearTimeout(timer);
  latencies.sort((a, b) => a - b);
  return { latencies, outcomes };
}

/** Builds the database of `guarantees` guarantees and measures everything the issue asks of it. */
async function measureSize(guarantees: number, options: BenchOptions, log: (s: string) => void): Promise<SizeResult> {
  const scratch = scratchDir(`scale-${guarantees}`);
  // What was being measured when something failed, for the error it throws.
  let step = "building the database";
  let serverOutput = () => "";
  try {
    const databasePath = path.join(scratch.dir, "kakunin.sqlite");
    const built = await runWorker<ScaleDatabase>("scale-build.ts", ["--db", databasePath, "--guarantees", String(guarantees)], { NODE_ENV: "production" }, 30 * 60_000);
    log(`  built ${guarantees} guarantees in ${built.seconds} s (${Math.round(built.bytes / 1e6)} MB): ${Object.entries(built.phases).map(([k, v]) => `${k} ${v} s`).join("; ")}\n`);

    const cores = options.cores;
    const saturating = 2 * cores;
    step = "starting the server";
    const server = await startKakunin(databasePath);
    serverOutput = () => server.process.output().slice(-3000);
    let peakRssMb: number | null = null;
    let verify: SizeResult["verify"];
    const pages: SizeResult["pages"] = [];
    let backup: SizeResult["backup"];
    try {
      step = "verify";
      const { officerCount, addressCount } = await verifyLoadSize(options, 1);
      if (officerCount > built.benchOfficers.length) throw new Error(`the load needs ${officerCount} officers, the database has ${built.benchOfficers.length}`);
      const sessions: Session[] = await loginOfficers(server.url, built.benchOfficers.slice(0, officerCount).map((login) => ({ login, password: BENCH_PASSWORD })), saturating, addressCount);
      // Verifications of the big orderer's guarantees, spread over the newer half of its list (and so
      // over half the table): a verification moves its guarantee to the top of 確認済みの保証, and the
      // page halfway down must stay as the generator left it, 100 rows on every size.
      const newer = built.bigOrdererNumbers.slice(Math.ceil(built.bigOrdererNumbers.length / 2));
      const stride = Math.max(1, Math.floor(newer.length / 100));
      const targets = newer.filter((_, i) => i % stride === 0).map((contractNumber) => ({ contractNumber, authKey: SCALE_KEY }));
      const load = verifyOperation(sessions, targets, options);
      const [level] = (await loadLevels(server, options, [saturating], load.op)).levels;
      verify = {
        perSecond: level!.perSecond, boundPerSecond: level!.boundPerSecond, ratio: level!.ratio, cpuRatio: level!.cpuRatio, p50Ms: level!.p50Ms, p99Ms: level!.p99Ms,
        serverCpuMsPerOp: level!.serverCpuMsPerOp, mainThreadCpuMsPerOp: level!.mainThreadCpuMsPerOp, boundCpuMsPerVerify: level!.boundCpuMsPerVerify, outcomes: level!.outcomes,
      };
      log(`  verify ${round(level!.perSecond, 1)}/s against ${round(level!.boundPerSecond, 1)} raw: ${round(level!.ratio, 3)}\n`);

      const cookies = sessions.slice(0, 8).map((s) => s.cookieHeader);
      for (const page of PAGES) {
        const pathname = page.path(built);
        step = `page ${pathname}`;
        closeConnections();
        const probe = await sessions[0]!.request("GET", pathname);
        if (probe.status !== 200) {
          pages.push({ name: page.name, path: pathname, status: probe.status });
          continue;
        }
        closeConnections();
        const run = await hammer(server, pathname, options.pageConnections, options.durationS, options.smoke ? 0 : 2, cookies);
        pages.push({
          name: page.name, path: pathname, status: 200, rows: rowsOf(probe.body), bytes: Buffer.byteLength(probe.body), perSecond: run.perSecond, p50Ms: run.result.latency.p50, p99Ms: run.result.latency.p99,
          non2xx: run.result.non2xx, errors: run.result.errors + run.result.timeouts, serverCpuMsPerRequest: run.serverCpuMsPerRequest,
        });
        log(`  ${page.name}: p50 ${run.result.latency.p50} ms, p99 ${run.result.latency.p99} ms\n`);
      }
      closeConnections();

      // An online backup while officers verify: right keys only, so that minutes of load never meet a throttle.
      step = "backup under load";
      const rightOnly = verifyOperation(sessions, targets, options, true).op;
      const baseline = await closedLoop({ concurrency: saturating, warmupMs: options.warmupS * 1000, durationMs: options.durationS * 1000, op: rightOnly });
      const backupFile = path.join(scratch.dir, "backup.sqlite");
      const began = performance.now();
      const running = admin(databasePath, ["backup", backupFile], { nice: true });
      // The load covers the copy (the snapshot, written out and synced: the part that competes for the
      // disk) and the start of the copy's check; the rest of the check runs unloaded, or a niced
      // backup of a large file under a saturating load would take as long as the load lasts.
      const loadedMs = Math.max(3 * options.durationS * 1000, options.smoke ? 0 : 60_000);
      const during = await verifyWhile(rightOnly, saturating, running, loadedMs);
      const backupRun = await running;
      if (!/backup written/.test(backupRun.output)) throw new Error(`admin backup did not report a backup: ${backupRun.output.slice(-500)}`);
      const bytes = Number(/\((\d+) bytes\)/.exec(backupRun.output)?.[1] ?? NaN);
      backup = {
        seconds: (performance.now() - began) / 1000, baselineP50Ms: baseline.p50Ms, baselineP99Ms: baseline.p99Ms,
        duringP50Ms: percentile(during.latencies, 50), duringP99Ms: percentile(during.latencies, 99), duringCompleted: during.latencies.length,
        loadedSeconds: Math.min((performance.now() - began) / 1000, loadedMs / 1000), bytes,
      };
      const unexpected = [...Object.keys(baseline.outcomes), ...Object.keys(during.outcomes)].filter((o) => o !== "granted");
      if (unexpected.length > 0) throw new Error(`verifications during the backup answered ${[...new Set(unexpected)].join(", ")}`);
      log(`  backup ${round(backup.seconds, 1)} s; verify p99 ${round(baseline.p99Ms, 1)} ms without, ${round(backup.duringP99Ms, 1)} ms during\n`);
    } finally {
      peakRssMb = await stopServer(server);
    }

    step = "admin audit verify, export, check";
    const auditRun = await admin(databasePath, ["audit", "verify"]);
    const rows = Number(/(\d+) row\(s\)/.exec(auditRun.output)?.[1] ?? NaN);
    const auditVerify = { ...auditRun, rows };
    log(`  audit verify: ${rows} rows in ${round(auditRun.seconds, 1)} s, peak RSS ${auditRun.peakRssMb} MB\n`);
    const auditExport = await admin(databasePath, ["audit", "export", "--orderer", built.bigOrdererCode, "--format", "csv"], { keepStdout: false });
    log(`  audit export --orderer ${built.bigOrdererCode}: ${auditExport.stdoutLines - 1} rows in ${round(auditExport.seconds, 1)} s\n`);
    const check = await admin(databasePath, ["check"]);
    if (!/check OK/.test(check.output)) throw new Error(`admin check did not pass: ${check.output.slice(-500)}`);
    log(`  check: ${round(check.seconds, 1)} s\n`);

    return { guarantees, built, startupMs: server.startedInMs, verify, pages, backup, auditVerify, auditExport, check, peakRssMb };
  } catch (error) {
    throw new Error(`${step}: ${error instanceof Error ? error.message : String(error)}\nthe server's last output:\n${serverOutput()}`, { cause: error });
  } finally {
    scratch.remove();
  }
}

const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000} M` : n >= 1_000 ? `${n / 1_000} k` : String(n));

/**
 * The issue's national installation (1 M guarantees, 1.5 M versions, 1,800 orderers, 50,000
 * officers, one orderer with 20,000 guarantees and 5,000 contracts, 10 M audit rows) and smaller
 * ones built the same way, measured side by side: what grows with the data and what must not.
 */
export function runScale(options: BenchOptions): Promise<BenchResult> {
  return measure("scale", options.smoke, async (result) => {
    const sizes = [...options.scaleSizes].sort((a, b) => a - b);
    const measured: SizeResult[] = [];
    for (const size of sizes) {
      process.stdout.write(`scale: ${label(size)} guarantees\n`);
      // A size that fails is reported and the others still run: the run is failed, not lost.
      try {
        measured.push(await measureSize(size, options, (s) => void process.stdout.write(s)));
      } catch (error) {
        result.ok = false;
        result.notes.push(`${label(size)} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      }
    }
    if (measured.length === 0) return;
    const columns = measured.map((m) => label(m.guarantees));
    const row = (figure: string, value: (m: SizeResult) => number | string | null, digits = 1) => {
      const r: Record<string, string | number | null> = { figure };
      measured.forEach((m, i) => {
        const v = value(m);
        r[columns[i]!] = typeof v === "number" ? round(v, digits) : v;
      });
      result.rows.push(r);
    };
    row("guarantees / versions", (m) => `${m.built.sizes.guarantees} / ${Math.round(m.built.sizes.guarantees * 1.5)}`);
    row("orderers / officers / audit rows", (m) => `${m.built.sizes.orderers} / ${m.built.sizes.officers} / ${m.built.sizes.auditRows}`);
    row("big orderer: guarantees held / contracts", (m) => `${m.built.sizes.bigOrdererGuarantees} / ${m.built.sizes.bigOrdererContracts}`);
    row("build s (spawn to exit)", (m) => m.built.seconds);
    row("build peak RSS MB", (m) => m.built.peakRssMb);
    row("database MB", (m) => m.built.bytes / 1e6, 0);
    row("start-up ms (spawn to listening)", (m) => m.startupMs, 0);
    row(`verify/s at ${2 * options.cores} connections`, (m) => m.verify.perSecond);
    row("argon2 bound/s (same minutes)", (m) => m.verify.boundPerSecond);
    row("verify ÷ bound", (m) => m.verify.ratio, 3);
    row("verify CPU ratio", (m) => m.verify.cpuRatio, 3);
    row("verify p50 / p99 ms", (m) => `${round(m.verify.p50Ms, 1)} / ${round(m.verify.p99Ms, 1)}`);
    row("verify: server CPU ms/op (of which event loop) / raw argon2 CPU ms", (m) => `${round(m.verify.serverCpuMsPerOp, 2)} (${round(m.verify.mainThreadCpuMsPerOp, 2)}) / ${round(m.verify.boundCpuMsPerVerify, 2)}`);
    for (const page of PAGES) {
      row(`${page.name}: p50 / p99 ms (server CPU a request, rows)`, (m) => {
        const p = m.pages.find((x) => x.name === page.name)!;
        return p.status === 200 ? `${p.p50Ms} / ${p.p99Ms} (${round(p.serverCpuMsPerRequest!, 2)} ms CPU, ${p.rows} rows)` : `not measured (${p.status})`;
      });
    }
    row("backup s (admin backup: copy, integrity_check and chain of the copy)", (m) => m.backup.seconds);
    row("verify p99 ms without / during the backup (its first seconds under load)", (m) => `${round(m.backup.baselineP99Ms, 1)} / ${round(m.backup.duringP99Ms, 1)} (${round(m.backup.loadedSeconds, 0)} s)`);
    row("audit verify s", (m) => m.auditVerify.seconds);
    row("audit verify rows/s", (m) => m.auditVerify.rows / m.auditVerify.seconds, 0);
    row("audit verify peak RSS MB", (m) => m.auditVerify.peakRssMb);
    row("audit export --orderer (big orderer): rows", (m) => m.auditExport.stdoutLines - 1, 0);
    row("audit export --orderer: s / peak RSS MB", (m) => `${round(m.auditExport.seconds, 1)} / ${m.auditExport.peakRssMb}`);
    row("check s (integrity_check, foreign keys, chain)", (m) => m.check.seconds);
    row("check peak RSS MB", (m) => m.check.peakRssMb);
    row("server peak RSS MB", (m) => m.peakRssMb);

    const small = measured[0]!;
    const large = measured.at(-1)!;
    const vs = `${label(large.guarantees)} vs ${label(small.guarantees)}`;
    result.targets.push(target(`verify ÷ bound, ${vs} (÷ the ratio on ${label(small.guarantees)})`, large.verify.ratio / small.verify.ratio, ">=", 0.95));
    const medians: string[] = [];
    for (const page of PAGES.filter((p) => p.list)) {
      const a = small.pages.find((p) => p.name === page.name)!;
      const b = large.pages.find((p) => p.name === page.name)!;
      if (a.status !== 200 || b.status !== 200) continue;
      // A filter that finds 4 rows on the small database and 100 on the large one answers a page 25
      // times the size: that, not the data behind it, would be measured. Such pages are shown, not judged.
      if (Math.abs(a.rows! - b.rows!) > Math.max(2, 0.1 * b.rows!)) {
        result.notes.push(`${page.name}: not judged, the page has ${a.rows} rows on ${label(small.guarantees)} and ${b.rows} on ${label(large.guarantees)} (the orderer holds fewer such guarantees on the small database)`);
        continue;
      }
      result.targets.push(target(`${page.name}: p99 ${vs} (×)`, b.p99Ms! / Math.max(1, a.p99Ms!), "<=", 1.5, "×"));
      // The median, for reading the p99: at 50 connections a page of a few milliseconds has a p99
      // set by how unevenly one event loop serves them (docs/BENCHMARKS.md), the median by its cost.
      medians.push(`${page.name} ${round(b.p50Ms! / Math.max(1, a.p50Ms!), 2)} ×`);
    }
    if (medians.length > 0) result.notes.push(`p50 ${vs}: ${medians.join("; ")}`);
    result.targets.push(
      target(`audit verify peak RSS on ${label(large.guarantees)} (${large.auditVerify.rows} rows)`, large.auditVerify.peakRssMb ?? NaN, "<=", 200, " MB"),
      target(`start-up on ${label(large.guarantees)}`, large.startupMs, "<=", 2000, " ms"),
      target(`verify p99 during an online backup ÷ without, ${label(large.guarantees)}`, large.backup.duringP99Ms / large.backup.baselineP99Ms, "<=", 2, "×"),
    );
    if (large.guarantees >= 1_000_000) result.targets.push(target(`build of ${label(large.guarantees)} guarantees`, large.built.seconds, "<=", 900, " s"));

    const bad = measured.flatMap((m) => [
      ...Object.keys(m.verify.outcomes).filter((o) => o !== "granted" && o !== "refused").map((o) => `${label(m.guarantees)}: verify answered ${o}`),
      ...m.pages.filter((p) => p.status === 200 && ((p.non2xx ?? 0) > 0 || (p.errors ?? 0) > 0)).map((p) => `${label(m.guarantees)}: ${p.name} had ${p.non2xx} non-2xx answers and ${p.errors} errors`),
    ]);
    if (bad.length > 0) {
      result.ok = false;
      result.notes.push(...bad);
    }
    result.notes.push(
      "databases built by bench/workers/scale-build.ts through the project's migrations; the registry (issuer, 1,800 orderers) and one template certificate through the services, " +
      "officers, guarantees, versions, holdings and contracts through the repositories, with one precomputed argon2id hash for every password and every key, " +
      "and the audit trail as bulk inserts (batches of 20,000) whose chain is computed with the project's chainHash; smaller sizes scale every count but the 1,800 orderers, and the big orderer holds at least 5,000 (so that each filter fills a page of 100 on every size)",
      `verify: ${2 * options.cores} connections in 3 slices alternating with raw argon2 (as the verify benchmark), 70 % right key, 20 % wrong, 10 % unknown number, over 100 of the big orderer's guarantees spread over the newer half of its list`,
      `pages: autocannon, ${options.pageConnections} connections, ${options.durationS} s each, 8 officers' sessions of the big orderer; a page not on this branch is listed as not measured with its status`,
      "backup: `admin backup` at nice 19 (as docs/operations.md schedules it) started while officers verify (right keys only) at the same concurrency; p99 over every verification that ended while it ran (at most its first minute: the copy, its fsync and the start of the copy's check), against a run just before",
      "admin commands timed from spawn to exit (node and tsx start-up included), as `npm run admin` runs them; audit verify, export and check after the server stopped",
    );
    result.details = { sizes, measured: measured.map(({ built: { bigOrdererNumbers: _n, benchOfficers: _o, ...built }, auditVerify: { output: _a, ...auditVerify }, auditExport: { output: _e, ...auditExport }, check: { output: _c, ...check }, ...m }) => ({ ...m, built, auditVerify, auditExport, check })) };
  });
}
