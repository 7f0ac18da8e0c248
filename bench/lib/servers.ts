import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { startNode, type NodeChild } from "./processes.js";

export type RunningServer = {
  url: URL;
  process: NodeChild;
  /** Stops it (SIGTERM, as in production) and returns its peak RSS in MB. */
  stop(): Promise<number | null>;
};

/** A scratch folder for one benchmark's database; removed by the returned function. */
export function scratchDir(name: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `kakunin-bench-${name}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The environment the service runs with in production, pointed at the benchmark's database. */
export function productionEnv(databasePath: string): NodeJS.ProcessEnv {
  return {
    NODE_ENV: "production",
    SESSION_SECRET: randomBytes(48).toString("base64url"),
    DATABASE_PATH: databasePath,
    HOST: "127.0.0.1",
    PORT: "0",
    // Plain HTTP on loopback: a Secure cookie would never be sent back.
    COOKIE_SECURE: "false",
    // One pool thread per core: more only time-slices argon2 and keeps 19 MiB per extra thread.
    UV_THREADPOOL_SIZE: String(availableParallelism()),
  };
}

/** Extra node options for the server under test, e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof" to profile it. */
const serverNodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);

async function startListening(args: string[], env: NodeJS.ProcessEnv, banner: RegExp, nodeArgs: string[] = []): Promise<RunningServer> {
  const child = startNode(args, { env, nodeArgs });
  try {
    const match = await child.waitForLine(banner, 60_000);
    return {
      url: new URL(match[1]!),
      process: child,
      async stop() {
        const result = await child.stop();
        return result.peakRssMb;
      },
    };
  } catch (error) {
    await child.stop(1000);
    throw error;
  }
}

/** `node --import tsx src/server.ts`, exactly as `npm start` runs it. */
export function startKakunin(databasePath: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  return startListening(["src/server.ts"], { ...productionEnv(databasePath), ...extraEnv }, /listening on (http:\/\/\S+)/, serverNodeArgs);
}

/** A bare Express 5 "hello world", the yardstick of the page benchmark. */
export function startHelloWorld(): Promise<RunningServer> {
  return startListening(["bench/workers/hello-world.ts"], { NODE_ENV: "production", UV_THREADPOOL_SIZE: String(availableParallelism()) }, /listening on (http:\/\/\S+)/);
}
