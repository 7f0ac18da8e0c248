import { availableParallelism } from "node:os";
import { runWorker } from "./processes.js";

export type VerifyBound = {
  /** One verification with nothing else running (median), ms. */
  singleMs: number;
  levels: { concurrency: number; perSecond: number; meanMs: number; completed: number }[];
};

/** Raw argon2 verifications at the service's parameters, in a process of their own with one pool
 * thread per core: the most any HTTP route that does one verification could reach. */
export function measureVerifyBound(options: { concurrencies: number[]; durationMs: number; warmupMs?: number; moduleDir?: string; singleRuns?: number }) {
  const args = ["verify", "--concurrency", options.concurrencies.join(","), "--duration-ms", String(options.durationMs), "--warmup-ms", String(options.warmupMs ?? 500)];
  if (options.moduleDir) args.push("--module", options.moduleDir);
  if (options.singleRuns) args.push("--single-runs", String(options.singleRuns));
  return runWorker<VerifyBound>("argon2-bound.ts", args, { UV_THREADPOOL_SIZE: String(availableParallelism()) });
}

/** The time to hash `count` keys over all cores: the issue benchmark's bound. */
export function measureHashBound(count: number) {
  const cores = availableParallelism();
  return runWorker<{ seconds: number; perSecond: number; count: number; concurrency: number }>(
    "argon2-bound.ts", ["hash", "--count", String(count), "--concurrency", String(cores)], { UV_THREADPOOL_SIZE: String(cores) });
}

/** The level measured at `concurrency`, or the highest one below it. */
export function boundAt(bound: VerifyBound, concurrency: number) {
  const levels = [...bound.levels].sort((a, b) => a.concurrency - b.concurrency);
  return levels.filter((l) => l.concurrency <= concurrency).pop() ?? levels[0]!;
}
