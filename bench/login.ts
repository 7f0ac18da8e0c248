import path from "node:path";
import { performance } from "node:perf_hooks";
import { boundAt, measureVerifyBound } from "./lib/bounds.js";
import { closedLoop, type LoopResult } from "./lib/closed-loop.js";
import { closeConnections, loopbackAddress, Session } from "./lib/http-client.js";
import { cpuSecondsOf, ownCpuSeconds } from "./lib/officers.js";
import type { BenchOptions } from "./lib/options.js";
import { measure, round, target, type BenchResult } from "./lib/report.js";
import { seedDatabase } from "./lib/seed.js";
import { scratchDir, startKakunin } from "./lib/servers.js";

/**
 * Officers log in (GET /login for the form's token, POST /login) in a closed loop; 20 % of the
 * attempts carry a wrong password. The latency is the POST's: one argon2 verification, the
 * session regenerated, the redirect. The bound is the same raw-argon2 one as the verify benchmark.
 */
export function runLogin(options: BenchOptions): Promise<BenchResult> {
  return measure("login", options.smoke, async (result) => {
    const { cores } = options;
    const saturating = 2 * cores;
    const levels = [...new Set(options.concurrencies)].sort((a, b) => a - b);
    const bound = await measureVerifyBound({ concurrencies: [...new Set([cores, ...levels])].sort((a, b) => a - b), durationMs: Math.min(options.durationS, 5) * 1000, warmupMs: options.warmupS * 1000, singleRuns: options.smoke ? 5 : 15 });
    const boundMax = Math.max(...bound.levels.filter((l) => l.concurrency >= cores).map((l) => l.perSecond));
    const oneVerifyMs = boundAt(bound, cores).meanMs;
    const officerCount = options.smoke ? 4 : 32;

    const scratch = scratchDir("login");
    try {
      const databasePath = path.join(scratch.dir, "kakunin.sqlite");
      const seeded = await seedDatabase(databasePath, { officers: officerCount, guarantees: 0 });
      const server = await startKakunin(databasePath);
      let peakRssMb: number | null = null;
      const rows: (LoopResult & { ratio: number; serverCpuMsPerOp: number; loadCpuMsPerOp: number })[] = [];
      try {
        let seq = 0;
        const op = async () => {
          const n = seq++;
          const index = n % seeded.officers.length;
          const officer = seeded.officers[index]!;
          const wrong = n % 5 === 0;
          const session = new Session(server.url, loopbackAddress(index));
          const csrf = await session.fetchCsrf("/login");
          const began = performance.now();
          const reply = await session.request("POST", "/login", { _csrf: csrf, username: officer.login, password: wrong ? `${officer.password}!` : officer.password }, false);
          const latencyMs = performance.now() - began;
          if (wrong) return { outcome: reply.status === 401 ? "refused" : `unexpected ${reply.status}`, latencyMs };
          return { outcome: reply.status === 303 && reply.location === "/verify" ? "logged in" : `unexpected ${reply.status}`, latencyMs };
        };
        for (const concurrency of levels) {
          const serverCpu = cpuSecondsOf(server.process.pid);
          const loadCpu = ownCpuSeconds();
          const loop = await closedLoop({ concurrency, warmupMs: options.warmupS * 1000, durationMs: options.durationS * 1000, op });
          const opsInSpan = loop.perSecond * (options.warmupS + options.durationS);
          rows.push({
            ...loop,
            ratio: loop.perSecond / boundMax,
            serverCpuMsPerOp: ((cpuSecondsOf(server.process.pid) - serverCpu) * 1000) / opsInSpan,
            loadCpuMsPerOp: ((ownCpuSeconds() - loadCpu) * 1000) / opsInSpan,
          });
        }
      } finally {
        closeConnections();
        const hwm = server.process.peakRssNowMb();
        const atExit = await server.stop();
        peakRssMb = Math.max(hwm ?? 0, atExit ?? 0) || null;
      }
      result.rows.push(...rows.map((r) => ({
        connections: r.concurrency,
        "logins/s": round(r.perSecond, 1),
        "bound/s": round(boundMax, 1),
        ratio: round(r.ratio, 3),
        "p50 ms": round(r.p50Ms, 1),
        "p99 ms": round(r.p99Ms, 1),
        "p99 / one verify": round(r.p99Ms / oneVerifyMs, 2),
        "server CPU ms/op": round(r.serverCpuMsPerOp, 2),
        "loadgen CPU ms/op": round(r.loadCpuMsPerOp, 2),
        outcomes: Object.entries(r.outcomes).map(([k, v]) => `${k} ${v}`).join(", "),
      })));
      const judged = rows.find((r) => r.concurrency === saturating) ?? rows[rows.length - 1]!;
      // The issue sets no login target of its own ("like verify"): the verify targets are shown for comparison.
      result.targets.push(
        target(`logins/s ÷ bound at ${judged.concurrency} connections`, judged.ratio, ">=", 0.85),
        target(`p99 ÷ one verification at ${cores} concurrent (${round(oneVerifyMs, 1)} ms)`, judged.p99Ms / oneVerifyMs, "<=", 4, "×"),
        target("server peak RSS", peakRssMb ?? NaN, "<=", 150, " MB"),
      );
      const unexpected = rows.flatMap((r) => Object.keys(r.outcomes).filter((k) => k !== "logged in" && k !== "refused"));
      if (unexpected.length > 0) {
        result.ok = false;
        result.notes.push(`unexpected answers: ${[...new Set(unexpected)].join(", ")}`);
      }
      result.notes.push(
        `each operation is GET /login then POST /login; latency is the POST's, the rate counts POSTs (4 in 5 with the right password); ${officerCount} officers, own loopback address each`,
        `bound: raw argon2 verifications in their own process, as in the verify benchmark (${round(boundMax, 1)}/s)`,
      );
      result.details = { bound, oneVerifyMs, officerCount, levels: rows, peakRssMb };
    } finally {
      scratch.remove();
    }
  });
}
