import path from "node:path";
import { measureCommitMs } from "./lib/disk.js";
import { closeConnections, type Session } from "./lib/http-client.js";
import { measureAgainstBound, type LevelResult } from "./lib/interleave.js";
import { loginOfficers } from "./lib/officers.js";
import type { BenchOptions } from "./lib/options.js";
import { measure, round, target, type BenchResult } from "./lib/report.js";
import { generousVerifyRate, seedDatabase } from "./lib/seed.js";
import { scratchDir, serverCommand, startKakunin, type RunningServer } from "./lib/servers.js";

/** Failures one benchmark officer may collect: production allows 10 per officer per 15 minutes
 * (and 100 per address per day; each officer has its own address), so the bench stays below. */
const FAILURES_PER_OFFICER = 6;
/** …and production allows 100 failures per client address per day: officers share addresses up to this. */
const FAILURES_PER_ADDRESS = 60;

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

/** The table rows of a verify-like benchmark (verify and login share them). */
export function levelRows(levels: LevelResult[], rateName: string) {
  return levels.map((r) => ({
    connections: r.concurrency,
    [rateName]: round(r.perSecond, 1),
    "bound/s": round(r.boundPerSecond, 1),
    ratio: round(r.ratio, 3),
    "p50 ms": round(r.p50Ms, 1),
    "p99 ms": round(r.p99Ms, 1),
    "p99 ÷ one verify": round(r.p99Ms / r.oneVerifyMs, 2),
    "server CPU ms/op": round(r.serverCpuMsPerOp, 2),
    "of which event loop": round(r.mainThreadCpuMsPerOp, 2),
    "loadgen CPU ms/op": round(r.loadCpuMsPerOp, 2),
    "argon2 CPU ms": round(r.boundCpuMsPerVerify, 2),
    "CPU ratio": round(r.cpuRatio, 3),
    "commits/op": round(r.commitsPerOp, 2),
    outcomes: Object.entries(r.outcomes).map(([k, v]) => `${k} ${v}`).join(", "),
  }));
}

/** Commits per operation over every level. */
export function judgedCommits(levels: LevelResult[]): number {
  const withCommits = levels.filter((l) => Number.isFinite(l.commitsPerOp));
  return withCommits.reduce((sum, l) => sum + l.commitsPerOp, 0) / Math.max(1, withCommits.length);
}

/** What the disk alone allows: each commit is an fsync that the event loop waits for. */
export function commitNote(what: string, commitsPerOp: number, commitMs: number): string {
  return `disk: one SQLite commit (WAL, synchronous=FULL) takes ${round(commitMs, 2)} ms here; the server made ${round(commitsPerOp, 2)} per ${what}, ` +
    `so its event loop waits at most ${round(commitsPerOp * commitMs, 1)} ms on fsync per ${what} (less where a commit is unsynced), which alone caps it at ${round(1000 / (commitsPerOp * commitMs), 0)}/s or more`;
}

export function rounds(options: BenchOptions): number {
  return options.smoke ? 1 : 3;
}

/** `op` in closed loops at each of `levels` on `server`, in slices alternating with the bound's. */
export function loadLevels(server: RunningServer, options: BenchOptions, levels: number[], op: () => Promise<{ outcome: string; latencyMs?: number }>) {
  return measureAgainstBound({
    levels, rounds: rounds(options), sliceMs: (options.durationS * 1000) / rounds(options), warmupMs: options.warmupS * 1000,
    cores: options.cores, serverPid: server.process.pid, commits: () => server.commits(), op,
  });
}

/** Closes the load's connections and stops the server: its peak RSS in MB, the higher of /proc's
 * high-water mark before the stop and getrusage at exit. */
export async function stopServer(server: RunningServer): Promise<number | null> {
  closeConnections();
  const hwm = server.process.peakRssNowMb();
  const atExit = await server.stop();
  return Math.max(hwm ?? 0, atExit ?? 0) || null;
}

/** Officers (and loopback addresses) enough that `levels` load levels of verifications with the
 * options' share of failures keep every officer and address below the production throttles. */
export async function verifyLoadSize(options: BenchOptions, levels: number): Promise<{ officerCount: number; addressCount: number }> {
  const expectedFailures = (await generousVerifyRate()) * levels * (options.durationS + options.warmupS + rounds(options)) * (options.wrongShare + options.unknownShare);
  const officerCount = Math.max(4, Math.ceil(expectedFailures / FAILURES_PER_OFFICER));
  return { officerCount, addressCount: Math.min(officerCount, Math.max(4, Math.ceil(expectedFailures / FAILURES_PER_ADDRESS))) };
}

/** One verification attempt as a sender (an officer's session, an API client) makes it: the
 * sender's index, what it sends, and whether the key is the right one. */
export type VerificationAttempt = { index: number; contractNumber: string; authKey: string; right: boolean };

/**
 * Attempts in the options' pattern of right keys, wrong keys and unknown numbers (`rightOnly`:
 * right keys only) for `senders` senders; failures go round the senders on their own count, so
 * that each collects as few as possible (`maxFailures`: the most any one collected).
 */
export function verificationAttempts(senders: number, guarantees: { contractNumber: string; authKey: string }[], options: Pick<BenchOptions, "wrongShare" | "unknownShare">, rightOnly = false) {
  const pattern = rightOnly ? (["right"] as Attempt[]) : attemptPattern(options.wrongShare, options.unknownShare);
  let seq = 0;
  let failSeq = 0;
  let rightSeq = 0;
  const failures = new Array<number>(senders).fill(0);
  const next = (): VerificationAttempt => {
    const attempt = pattern[seq++ % pattern.length]!;
    const index = attempt === "right" ? rightSeq++ % senders : failSeq++ % senders;
    const guarantee = guarantees[(attempt === "right" ? rightSeq : failSeq) % guarantees.length]!;
    const contractNumber = attempt === "unknown" ? `02208-9${String(seq % 100000).padStart(5, "0")}` : guarantee.contractNumber;
    const authKey = attempt === "wrong" ? wrongKey(guarantee.authKey) : guarantee.authKey;
    if (attempt !== "right") failures[index]!++;
    return { index, contractNumber, authKey, right: attempt === "right" };
  };
  return { next, maxFailures: () => Math.max(0, ...failures) };
}

/** One POST /verify by a logged-in officer, in verificationAttempts' pattern. */
export function verifyOperation(sessions: Session[], guarantees: { contractNumber: string; authKey: string }[], options: Pick<BenchOptions, "wrongShare" | "unknownShare">, rightOnly = false) {
  const attempts = verificationAttempts(sessions.length, guarantees, options, rightOnly);
  const op = async () => {
    const { index, contractNumber, authKey, right } = attempts.next();
    const session = sessions[index]!;
    const reply = await session.request("POST", "/verify", { _csrf: session.csrfToken!, contractNumber, authKey }, false);
    if (right) return { outcome: reply.status === 303 && reply.location === `/guarantees/${contractNumber}` ? "granted" : `unexpected ${reply.status}` };
    return { outcome: reply.status === 400 ? "refused" : reply.status === 429 ? "throttled" : `unexpected ${reply.status}` };
  };
  return { op, maxFailuresPerOfficer: attempts.maxFailures };
}

/**
 * Logged-in officers POST /verify (real sessions, CSRF tokens, production throttles) in a closed
 * loop, in slices alternating with raw argon2 verifications in a process of their own.
 */
export function runVerify(options: BenchOptions): Promise<BenchResult> {
  return measure("verify", options.smoke, async (result) => {
    const { cores } = options;
    const saturating = 2 * cores;
    const levels = [...new Set(options.concurrencies)].sort((a, b) => a - b);
    const failShare = options.wrongShare + options.unknownShare;
    const { officerCount, addressCount } = await verifyLoadSize(options, levels.length);
    const guaranteeCount = options.smoke ? 4 : 100;

    const scratch = scratchDir("verify");
    try {
      const databasePath = path.join(scratch.dir, "kakunin.sqlite");
      const seeded = await seedDatabase(databasePath, { officers: officerCount, guarantees: guaranteeCount });
      const server = await startKakunin(databasePath);
      let peakRssMb: number | null = null;
      let measured;
      try {
        const sessions = await loginOfficers(server.url, seeded.officers, 2 * cores, addressCount);
        const load = verifyOperation(sessions, seeded.guarantees, options);
        const op = load.op;
        measured = await loadLevels(server, options, levels, op);
        result.details.maxFailuresPerOfficer = load.maxFailuresPerOfficer();
      } finally {
        peakRssMb = await stopServer(server);
      }

      result.rows.push(...levelRows(measured.levels, "verifications/s"));
      const commitMs = measureCommitMs();
      judgeAgainstBound(result, measured.levels, {
        saturating, cores, peakRssMb, rate: "verifications/s", expected: ["granted", "refused"],
        why: "every right key must be granted, every wrong one refused with 400",
      });
      result.notes.push(
        `bound: raw argon2id m=19456,t=2,p=1, ${2 * cores} in flight in a process of its own (UV_THREADPOOL_SIZE=${cores}), measured in ${rounds(options)} slice(s) ` +
        `alternating with each level's; one verification alone ${round(measured.singleMs, 1)} ms`,
        `${officerCount} officers over ${addressCount} loopback addresses, ${guaranteeCount} certificates; attempts: ${Math.round((1 - failShare) * 100)} % right key, ` +
        `${Math.round(options.wrongShare * 100)} % wrong key, ${Math.round(options.unknownShare * 100)} % unknown number; production throttles, at most ${result.details.maxFailuresPerOfficer} failures per officer`,
        commitNote("verification", judgedCommits(measured.levels), commitMs),
        "argon2 CPU ms: CPU per raw verification in the bound; server and loadgen CPU ms/op: the same for one HTTP operation, of which the server's main thread (event loop) so much; CPU ratio: argon2 CPU ÷ (server + loadgen CPU), the ratio a quiet machine would reach if CPU were the only limit",
      );
      result.details = { ...result.details, commitMs, singleMs: measured.singleMs, officerCount, addressCount, guaranteeCount, peakRssMb, boundSlices: measured.boundSlices, levels: measured.levels.map(({ ...l }) => l) };
    } finally {
      scratch.remove();
    }
  });
}

/**
 * The issue's targets for an argon2-bound route (verify; login is judged "like verify") at the
 * saturating concurrency, and a failed run when any answer was not one of the expected outcomes.
 */
export function judgeAgainstBound(
  result: Pick<BenchResult, "targets" | "notes" | "ok">,
  levels: LevelResult[],
  o: { saturating: number; cores: number; peakRssMb: number | null; rate: string; expected: string[]; why?: string },
): void {
  const judged = levels.find((r) => r.concurrency === o.saturating) ?? levels[levels.length - 1]!;
  result.targets.push(
    target(`${o.rate} ÷ bound at ${judged.concurrency} connections`, judged.ratio, ">=", 0.85),
    target(`p99 ÷ one verification with all ${o.cores} cores busy (${round(judged.oneVerifyMs, 1)} ms)`, judged.p99Ms / judged.oneVerifyMs, "<=", 4, "×"),
    target(`server peak RSS (${serverCommand()})`, o.peakRssMb ?? NaN, "<=", 150, " MB"),
  );
  const unexpected = levels.flatMap((r) => Object.keys(r.outcomes).filter((k) => !o.expected.includes(k)));
  if (unexpected.length > 0) {
    result.ok = false;
    result.notes.push(`unexpected answers: ${[...new Set(unexpected)].join(", ")}${o.why ? ` (${o.why})` : ""}`);
  }
}
