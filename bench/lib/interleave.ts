import { startBoundProcess, type BoundLevel } from "./bounds.js";
import { closedLoop, type LoopResult } from "./closed-loop.js";
import { cpuSecondsOf, ownCpuSeconds, threadCpuSecondsOf } from "./officers.js";
import { percentile } from "./report.js";

/** A level's closed loop over all its slices, and its figures against the bound. */
export type LevelResult = Pick<LoopResult, "concurrency" | "seconds" | "completed" | "perSecond" | "p50Ms" | "p99Ms" | "maxMs" | "outcomes"> & {
  /** Raw argon2 verifications/s in the slices between this level's, and the ratio to it. */
  boundPerSecond: number;
  ratio: number;
  /** The time one verification takes while every core runs one: cores ÷ bound rate. */
  oneVerifyMs: number;
  serverCpuMsPerOp: number;
  /** Of which the main thread (event loop: JavaScript, SQLite, fsync's CPU); the rest is mostly argon2. */
  mainThreadCpuMsPerOp: number;
  loadCpuMsPerOp: number;
  boundCpuMsPerVerify: number;
  /** Bound CPU per verification ÷ (server + load generator CPU per operation): robust to noise. */
  cpuRatio: number;
  /** SQLite commits the server made per operation (each an fsync on the event loop). */
  commitsPerOp: number;
};

/**
 * For each concurrency, alternates slices of the HTTP closed loop with slices of raw argon2 at
 * 2 × cores in its own process (`rounds` of each), so that the bound and the figure it divides
 * are measured over the same minutes. A noisy neighbour then weighs on both alike.
 */
export async function measureAgainstBound(options: {
  levels: number[];
  rounds: number;
  sliceMs: number;
  warmupMs: number;
  cores: number;
  serverPid: number;
  commits: () => Promise<number>;
  op: () => Promise<{ outcome: string; latencyMs?: number }>;
}): Promise<{ levels: LevelResult[]; singleMs: number; boundSlices: BoundLevel[] }> {
  const bound = await startBoundProcess();
  const boundSlices: BoundLevel[] = [];
  try {
    const singleMs = await bound.single(9);
    const results: LevelResult[] = [];
    for (const concurrency of options.levels) {
      const latencies: number[] = [];
      const outcomes: Record<string, number> = {};
      let completed = 0;
      let seconds = 0;
      let boundCompleted = 0;
      let boundSeconds = 0;
      let boundCpuMs = 0;
      let serverCpu = 0;
      let mainCpu = 0;
      let commits = 0;
      let loadCpu = 0;
      let allOps = 0;
      for (let round = 0; round < options.rounds; round++) {
        const slice = await bound.level(2 * options.cores, options.sliceMs, Math.min(300, options.warmupMs));
        boundSlices.push(slice);
        boundCompleted += slice.completed;
        boundSeconds += options.sliceMs / 1000;
        boundCpuMs += slice.cpuMsPerVerify * slice.completed;
        const serverBefore = cpuSecondsOf(options.serverPid);
        const mainBefore = threadCpuSecondsOf(options.serverPid).main;
        const commitsBefore = await options.commits();
        const loadBefore = ownCpuSeconds();
        const loop = await closedLoop({ concurrency, warmupMs: round === 0 ? options.warmupMs : Math.min(300, options.warmupMs), durationMs: options.sliceMs, op: options.op });
        serverCpu += cpuSecondsOf(options.serverPid) - serverBefore;
        mainCpu += threadCpuSecondsOf(options.serverPid).main - mainBefore;
        commits += (await options.commits()) - commitsBefore;
        loadCpu += ownCpuSeconds() - loadBefore;
        allOps += loop.allCompleted;
        latencies.push(...loop.latencies);
        for (const [k, v] of Object.entries(loop.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + v;
        completed += loop.completed;
        seconds += loop.seconds;
      }
      latencies.sort((a, b) => a - b);
      const perSecond = completed / seconds;
      const boundPerSecond = boundCompleted / boundSeconds;
      const serverCpuMsPerOp = (serverCpu * 1000) / Math.max(1, allOps);
      const loadCpuMsPerOp = (loadCpu * 1000) / Math.max(1, allOps);
      const mainThreadCpuMsPerOp = (mainCpu * 1000) / Math.max(1, allOps);
      const boundCpuMsPerVerify = boundCpuMs / Math.max(1, boundCompleted);
      results.push({
        concurrency, seconds, completed, perSecond,
        p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: latencies[latencies.length - 1] ?? NaN,
        outcomes, boundPerSecond, ratio: perSecond / boundPerSecond, oneVerifyMs: (options.cores * 1000) / boundPerSecond,
        serverCpuMsPerOp, mainThreadCpuMsPerOp, loadCpuMsPerOp, boundCpuMsPerVerify, commitsPerOp: commits / Math.max(1, allOps), cpuRatio: boundCpuMsPerVerify / (serverCpuMsPerOp + loadCpuMsPerOp),
      });
    }
    return { levels: results, singleMs, boundSlices };
  } finally {
    await bound.stop();
  }
}
