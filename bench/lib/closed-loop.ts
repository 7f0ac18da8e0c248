import { performance } from "node:perf_hooks";
import { percentile } from "./report.js";

export type LoopResult = {
  concurrency: number;
  seconds: number;
  completed: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  outcomes: Record<string, number>;
  /** Every latency of the window, sorted (not written to the JSON). */
  latencies: number[];
  /** Operations completed from the start (warm-up included) and the time that took: for CPU per operation. */
  allCompleted: number;
  elapsedMs: number;
};

/**
 * `concurrency` workers, each starting its next operation as soon as the last one ends (a closed
 * loop, like officers who wait for their page). Operations that end inside the measured window
 * (after the warm-up, for `durationMs`) are counted, which keeps the rate unbiased; operations
 * still running when it closes are awaited but not counted. `op` names its outcome ("ok",
 * "refused", "http 500", …) and may report its own latency (e.g. one request of several).
 */
export async function closedLoop(options: {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  op: (worker: number) => Promise<{ outcome: string; latencyMs?: number }>;
}): Promise<LoopResult> {
  const start = performance.now();
  const windowStart = start + options.warmupMs;
  const windowEnd = windowStart + options.durationMs;
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  let allCompleted = 0;
  const worker = async (index: number) => {
    while (performance.now() < windowEnd) {
      const began = performance.now();
      const { outcome, latencyMs } = await options.op(index);
      const ended = performance.now();
      allCompleted++;
      if (ended >= windowStart && ended <= windowEnd) {
        latencies.push(latencyMs ?? ended - began);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  const elapsedMs = performance.now() - start;
  latencies.sort((a, b) => a - b);
  const seconds = options.durationMs / 1000;
  return {
    concurrency: options.concurrency,
    seconds,
    completed: latencies.length,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    meanMs: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    maxMs: latencies[latencies.length - 1] ?? NaN,
    outcomes,
    latencies,
    allCompleted,
    elapsedMs,
  };
}
