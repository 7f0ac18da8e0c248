import autocannon, { type Result } from "autocannon";
import path from "node:path";
import { closeConnections, type Session } from "./lib/http-client.js";
import { cpuSecondsOf, loginOfficers, threadCpuSecondsOf } from "./lib/officers.js";
import type { BenchOptions } from "./lib/options.js";
import { measure, round, target, type BenchResult } from "./lib/report.js";
import { measureCommitMs } from "./lib/disk.js";
import { commitNote } from "./verify.js";
import { seedDatabase } from "./lib/seed.js";
import { scratchDir, serverCommand, startHelloWorld, startKakunin, type RunningServer } from "./lib/servers.js";

type PageRun = { name: string; path: string; result: Result; perSecond: number; serverCpuMsPerRequest: number; mainThreadCpuMsPerRequest: number; loadgenCpuMsPerRequest: number; bytesPerResponse: number; commitsPerRequest: number };

/** One autocannon run (after a short warm-up run); every connection carries one officer's cookie. */
export async function hammer(server: RunningServer, pathname: string, connections: number, seconds: number, warmupSeconds: number, cookies: string[]) {
  let next = 0;
  const url = new URL(pathname, server.url).toString();
  const setupClient = cookies.length > 0 ? (client: { setHeaders(h: Record<string, string>): void }) => client.setHeaders({ cookie: cookies[next++ % cookies.length]! }) : undefined;
  if (warmupSeconds > 0) await autocannon({ url, connections, duration: warmupSeconds, setupClient });
  const cpuBefore = cpuSecondsOf(server.process.pid);
  const mainBefore = threadCpuSecondsOf(server.process.pid).main;
  const commitsBefore = await server.commits();
  const loadgenBefore = process.cpuUsage();
  const result = await autocannon({ url, connections, duration: seconds, setupClient });
  const loadgen = process.cpuUsage(loadgenBefore);
  const commits = (await server.commits()) - commitsBefore;
  const perSecond = result.requests.total / result.duration;
  const requests = Math.max(1, result.requests.total);
  return {
    result, perSecond,
    serverCpuMsPerRequest: ((cpuSecondsOf(server.process.pid) - cpuBefore) * 1000) / requests,
    mainThreadCpuMsPerRequest: ((threadCpuSecondsOf(server.process.pid).main - mainBefore) * 1000) / requests,
    loadgenCpuMsPerRequest: (loadgen.user + loadgen.system) / 1000 / requests,
    bytesPerResponse: result.throughput.total / requests,
    commitsPerRequest: commits / requests,
  };
}

/**
 * GET of the summary and the certificate of a guarantee by an officer whose orderer verified it,
 * against a bare Express "hello world" started in the same run; autocannon drives both from this
 * process with the same number of connections.
 */
export function runPages(options: BenchOptions): Promise<BenchResult> {
  return measure("pages", options.smoke, async (result) => {
    const scratch = scratchDir("pages");
    const connections = options.pageConnections;
    const seconds = options.durationS;
    const warmup = options.smoke ? 0 : 2;
    try {
      const databasePath = path.join(scratch.dir, "kakunin.sqlite");
      const seeded = await seedDatabase(databasePath, { officers: options.smoke ? 2 : 8, guarantees: 1 });
      const guarantee = seeded.guarantees[0]!;
      const runs: PageRun[] = [];
      let peakRssMb: number | null = null;
      const server = await startKakunin(databasePath);
      try {
        const sessions: Session[] = await loginOfficers(server.url, seeded.officers, 4);
        for (const session of sessions) {
          const reply = await session.request("POST", "/verify", { _csrf: session.csrfToken!, contractNumber: guarantee.contractNumber, authKey: guarantee.authKey });
          if (reply.status !== 303) throw new Error(`verifying ${guarantee.contractNumber} answered ${reply.status}`);
        }
        const pages = [
          { name: "summary", path: `/guarantees/${guarantee.contractNumber}` },
          { name: "certificate", path: `/guarantees/${guarantee.contractNumber}/certificate` },
        ];
        const cookies = sessions.map((s) => s.cookieHeader);
        closeConnections();
        for (const page of pages) {
          const probe = await sessions[0]!.request("GET", page.path);
          if (probe.status !== 200) {
            result.notes.push(`${page.name} (${page.path}) answered ${probe.status}: not measured`);
            continue;
          }
          closeConnections();
          runs.push({ ...page, ...(await hammer(server, page.path, connections, seconds, warmup, cookies)) });
        }
      } finally {
        closeConnections();
        const hwm = server.process.peakRssNowMb();
        const atExit = await server.stop();
        peakRssMb = Math.max(hwm ?? 0, atExit ?? 0) || null;
      }

      const hello = await startHelloWorld();
      let helloRun: PageRun;
      try {
        helloRun = { name: "hello world (bare Express 5)", path: "/", ...(await hammer(hello, "/", connections, seconds, warmup, [])) };
      } finally {
        await hello.stop();
      }

      for (const run of [...runs, helloRun]) {
        result.rows.push({
          page: run.name,
          "requests/s": round(run.perSecond, 0),
          "÷ hello world": round(run.perSecond / helloRun.perSecond, 3),
          "p50 ms": run.result.latency.p50,
          "p99 ms": run.result.latency.p99,
          "server CPU ms/req": round(run.serverCpuMsPerRequest, 3),
          "of which event loop": round(run.mainThreadCpuMsPerRequest, 3),
          "loadgen CPU ms/req": round(run.loadgenCpuMsPerRequest, 3),
          "bytes/response (with headers)": round(run.bytesPerResponse, 0),
          "commits/req": Number.isFinite(run.commitsPerRequest) ? round(run.commitsPerRequest, 2) : null,
          "non-2xx": run.result.non2xx,
          errors: run.result.errors + run.result.timeouts,
        });
        if (run.result.non2xx > 0 || run.result.errors + run.result.timeouts > 0) {
          result.ok = false;
          result.notes.push(`${run.name}: ${run.result.non2xx} non-2xx answers and ${run.result.errors + run.result.timeouts} errors (every request must be a 200)`);
        }
      }
      const commitMs = measureCommitMs();
      for (const run of runs) if (run.commitsPerRequest > 0) result.notes.push(commitNote(`${run.name} request`, run.commitsPerRequest, commitMs));
      for (const run of runs) result.targets.push(target(`${run.name} ÷ hello world`, run.perSecond / helloRun.perSecond, ">=", 0.35));
      result.notes.push(
        `autocannon in the benchmark's process, ${connections} connections, ${seconds} s per page after a ${warmup} s warm-up; ` +
        `${seeded.officers.length} officers' sessions spread over the connections; the server: ${serverCommand()}, NODE_ENV=production`,
        `server peak RSS ${peakRssMb ?? "?"} MB`,
      );
      result.details = { connections, seconds, peakRssMb, commitMs, runs: [...runs, helloRun].map((r) => ({ name: r.name, path: r.path, perSecond: r.perSecond, latency: r.result.latency, non2xx: r.result.non2xx, errors: r.result.errors, serverCpuMsPerRequest: r.serverCpuMsPerRequest, mainThreadCpuMsPerRequest: r.mainThreadCpuMsPerRequest, loadgenCpuMsPerRequest: r.loadgenCpuMsPerRequest, bytesPerResponse: r.bytesPerResponse, commitsPerRequest: r.commitsPerRequest })) };
    } finally {
      scratch.remove();
    }
  });
}
