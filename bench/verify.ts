import path from "node:path";
import { measureVerifyBound, boundAt } from "./lib/bounds.js";
import { closedLoop, type LoopResult } from "./lib/closed-loop.js";
import { closeConnections, type Session } from "./lib/http-client.js";
import { cpuSecondsOf, loginOfficers, ownCpuSeconds } from "./lib/officers.js";
import type { BenchOptions } from "./lib/options.js";
import { measure, round, target, type BenchResult } from "./lib/report.js";
import { seedDatabase } from "./lib/seed.js";
import { scratchDir, startKakunin } from "./lib/servers.js";

/** Failures one benchmark officer may collect: production allows 10 per officer per 15 minutes
 * (and 100 per address per day; each officer has its own address), so the bench stays below. */
const FAILURES_PER_OFFICER = 7;

/** A wrong key that still has the key's shape: one symbol changed. */
export function wrongKey(key: string): string {
  const last = key.at(-1)!;
  return key.slice(0, -1) + (last === "Z" ? "Y" : last === "9" ? "8" : "Z");
}

type Attempt = "right" | "wrong" | "unknown";

/** A fixed pattern of ten attempts with the requested shares of wrong keys and unknown numbers. */
export function attemptPattern(wrongShare: number, unknownShare: number): Attempt[] {
  const wrong = Math.round(wrongShare * 10);
  const unknown = Math.round(unknownShare * 10);
  return Array.from({ length: 10 }, (_, i) => (i < wrong ? "wrong" : i < wrong + unknown ? "unknown" : "right"));
}

export type LevelRow = LoopResult & { boundPerSecond: number; ratio: number; serverCpuMsPerOp: number; loadCpuMsPerOp: number };

/**
 * Logged-in officers POST /verify (real sessions, CSRF tokens, production throttles) in a closed
 * loop, against raw argon2 verifications in a process of their own on the same cores.
 */
export function runVerify(options: BenchOptions): Promise<BenchResult> {
  return measure("verify", options.smoke, async (result) => {
    const { cores } = options;
    const saturating = 2 * cores;
    const levels = [...new Set(options.concurrencies)].sort((a, b) => a - b);
    const bound = await measureVerifyBound({ concurrencies: [...new Set([cores, ...levels])].sort((a, b) => a - b), durationMs: Math.min(options.durationS, 5) * 1000, warmupMs: options.warmupS * 1000, singleRuns: options.smoke ? 5 : 15 });
    const boundMax = Math.max(...bound.levels.filter((l) => l.concurrency >= cores).map((l) => l.perSecond));
    const oneVerifyMs = boundAt(bound, cores).meanMs;

    const failShare = options.wrongShare + options.unknownShare;
    const expectedFailures = boundMax * 1.2 * levels.length * (options.durationS + options.warmupS) * failShare;
    const officerCount = Math.max(4, Math.ceil(expectedFailures / FAILURES_PER_OFFICER));
    const guaranteeCount = options.smoke ? 4 : 100;

    const scratch = scratchDir("verify");
    try {
      const databasePath = path.join(scratch.dir, "kakunin.sqlite");
      const seeded = await seedDatabase(databasePath, { officers: officerCount, guarantees: guaranteeCount });
      const server = await startKakunin(databasePath);
      let peakRssMb: number | null = null;
      const rows: LevelRow[] = [];
      try {
        const sessions = await loginOfficers(server.url, seeded.officers, 2 * cores);
        const pattern = attemptPattern(options.wrongShare, options.unknownShare);
        let seq = 0;
        let failSeq = 0;
        let rightSeq = 0;
        const officerFailures = new Map<Session, number>();
        const op = async () => {
          const attempt = pattern[seq++ % pattern.length]!;
          const session = attempt === "right" ? sessions[rightSeq++ % sessions.length]! : sessions[failSeq++ % sessions.length]!;
          const guarantee = seeded.guarantees[(attempt === "right" ? rightSeq : failSeq) % seeded.guarantees.length]!;
          const contractNumber = attempt === "unknown" ? `02208-9${String(seq % 100000).padStart(5, "0")}` : guarantee.contractNumber;
          const authKey = attempt === "wrong" ? wrongKey(guarantee.authKey) : guarantee.authKey;
          if (attempt !== "right") officerFailures.set(session, (officerFailures.get(session) ?? 0) + 1);
          const reply = await session.request("POST", "/verify", { _csrf: session.csrfToken!, contractNumber, authKey }, false);
          if (attempt === "right") return { outcome: reply.status === 303 && reply.location === `/guarantees/${contractNumber}` ? "granted" : `unexpected ${reply.status}` };
          return { outcome: reply.status === 400 ? "refused" : reply.status === 429 ? "throttled" : `unexpected ${reply.status}` };
        };
        for (const concurrency of levels) {
          const serverCpu = cpuSecondsOf(server.process.pid);
          const loadCpu = ownCpuSeconds();
          const loop = await closedLoop({ concurrency, warmupMs: options.warmupS * 1000, durationMs: options.durationS * 1000, op });
          const total = options.warmupS + options.durationS;
          // CPU over warm-up and window together, per operation over the same span.
          const opsInSpan = loop.perSecond * total;
          rows.push({
            ...loop,
            boundPerSecond: boundMax,
            ratio: loop.perSecond / boundMax,
            serverCpuMsPerOp: ((cpuSecondsOf(server.process.pid) - serverCpu) * 1000) / opsInSpan,
            loadCpuMsPerOp: ((ownCpuSeconds() - loadCpu) * 1000) / opsInSpan,
          });
        }
        result.details.maxFailuresPerOfficer = Math.max(0, ...officerFailures.values());
      } finally {
        closeConnections();
        const hwm = server.process.peakRssNowMb();
        const atExit = await server.stop();
        peakRssMb = Math.max(hwm ?? 0, atExit ?? 0) || null;
      }

      result.rows.push(...rows.map((r) => ({
        connections: r.concurrency,
        "verifications/s": round(r.perSecond, 1),
        "bound/s": round(r.boundPerSecond, 1),
        ratio: round(r.ratio, 3),
        "p50 ms": round(r.p50Ms, 1),
        "p99 ms": round(r.p99Ms, 1),
        "p99 / one verify": round(r.p99Ms / oneVerifyMs, 2),
        "server CPU ms/op": round(r.serverCpuMsPerOp, 2),
        "loadgen CPU ms/op": round(r.loadCpuMsPerOp, 2),
        outcomes: Object.entries(r.outcomes).map(([k, v]) => `${k} ${v}`).join(", "),
      })));
      const judged = rows.find((r) => r.concurrency === saturating) ?? rows[rows.length - 1]!;
      result.targets.push(
        target(`verifications/s ÷ bound at ${judged.concurrency} connections`, judged.ratio, ">=", 0.85),
        target(`p99 ÷ one verification at ${cores} concurrent (${round(oneVerifyMs, 1)} ms)`, judged.p99Ms / oneVerifyMs, "<=", 4, "×"),
        target("server peak RSS", peakRssMb ?? NaN, "<=", 150, " MB"),
      );
      const unexpected = rows.flatMap((r) => Object.keys(r.outcomes).filter((k) => k !== "granted" && k !== "refused"));
      if (unexpected.length > 0) {
        result.ok = false;
        result.notes.push(`unexpected answers: ${[...new Set(unexpected)].join(", ")} (every right key must be granted, every wrong one refused with 400)`);
      }
      result.notes.push(
        `bound: raw argon2id m=19456,t=2,p=1 in its own process, UV_THREADPOOL_SIZE=${cores}: ` +
        bound.levels.map((l) => `${l.concurrency} concurrent ${round(l.perSecond, 1)}/s (${round(l.meanMs, 1)} ms each)`).join(", ") +
        `; one verification alone ${round(bound.singleMs, 1)} ms`,
        `${officerCount} officers (own loopback address each), ${guaranteeCount} certificates; attempts: ${Math.round((1 - failShare) * 100)} % right key, ` +
        `${Math.round(options.wrongShare * 100)} % wrong key, ${Math.round(options.unknownShare * 100)} % unknown number; production throttle policy`,
      );
      result.details = { ...result.details, bound, oneVerifyMs, officerCount, guaranteeCount, levels: rows, peakRssMb };
    } finally {
      scratch.remove();
    }
  });
}
