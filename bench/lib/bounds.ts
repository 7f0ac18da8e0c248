import { availableParallelism } from "node:os";
import path from "node:path";
import { projectRoot } from "../../src/paths.js";
import { runWorker, startNode } from "./processes.js";

export type BoundLevel = { concurrency: number; perSecond: number; meanMs: number; completed: number; cpuMsPerVerify: number };

export type VerifyBound = {
  /** One verification with nothing else running (median), ms. */
  singleMs: number;
  levels: BoundLevel[];
};

const boundScript = path.join(projectRoot, "bench", "workers", "argon2-bound.ts");
const poolEnv = () => ({ UV_THREADPOOL_SIZE: String(availableParallelism()) });

/** Raw argon2 verifications at the service's parameters, in a process of their own with one pool
 * thread per core: the most any HTTP route that does one verification could reach. */
export function measureVerifyBound(options: { concurrencies: number[]; durationMs: number; warmupMs?: number; moduleDir?: string; singleRuns?: number }) {
  const args = ["verify", "--concurrency", options.concurrencies.join(","), "--duration-ms", String(options.durationMs), "--warmup-ms", String(options.warmupMs ?? 500)];
  if (options.moduleDir) args.push("--module", options.moduleDir);
  if (options.singleRuns) args.push("--single-runs", String(options.singleRuns));
  return runWorker<VerifyBound>("argon2-bound.ts", args, poolEnv());
}

/** The time to hash `count` keys over all cores: the issue benchmark's bound. */
export function measureHashBound(count: number) {
  const cores = availableParallelism();
  return runWorker<{ seconds: number; perSecond: number; count: number; concurrency: number }>(
    "argon2-bound.ts", ["hash", "--count", String(count), "--concurrency", String(cores)], { UV_THREADPOOL_SIZE: String(cores) });
}

/** A bound process that stays up, so that the bound can be measured in slices alternating with
 * the benchmark's own: a noisy neighbour then weighs on both alike. */
export async function startBoundProcess() {
  const node = startNode([boundScript, "serve"], { env: poolEnv(), stdin: true });
  await node.waitForLine(/^\{"ready":true\}/, 60_000);
  const ask = async <T>(command: Record<string, number>): Promise<T> => {
    const answer = node.waitForLine(/^\{.*\}$/, 10 * 60_000);
    node.child.stdin!.write(JSON.stringify(command) + "\n");
    return JSON.parse((await answer)[0]) as T;
  };
  return {
    level: (concurrency: number, durationMs: number, warmupMs: number) => ask<BoundLevel>({ concurrency, durationMs, warmupMs }),
    single: async (runs: number) => (await ask<{ singleMs: number }>({ single: runs })).singleMs,
    async stop(): Promise<void> {
      node.child.stdin!.end();
      await node.stop(5000);
    },
  };
}
