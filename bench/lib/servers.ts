import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { projectRoot } from "../../src/paths.js";
import { startNode, type NodeChild } from "./processes.js";

export type RunningServer = {
  url: URL;
  process: NodeChild;
  /** From the spawn to the "listening" line, ms: node's own start-up, opening and migrating the database, building the app. */
  startedInMs: number;
  /** SQLite commits the server has made so far (bench/workers/count-commits.cjs), or NaN. */
  commits(): Promise<number>;
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
  };
}

/** Extra node options for the server under test, e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof" to profile it. */
const serverNodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);

const countCommits = path.join(projectRoot, "bench", "workers", "count-commits.cjs");

async function startListening(args: string[], env: NodeJS.ProcessEnv, banner: RegExp, nodeArgs: string[] = [], tsx = true): Promise<RunningServer> {
  const counts = scratchDir("commits");
  const commitsFile = path.join(counts.dir, "commits.json");
  const began = performance.now();
  const child = startNode(args, { env: { ...env, KAKUNIN_BENCH_COMMITS_FILE: commitsFile }, nodeArgs: [...nodeArgs, "--require", countCommits], tsx });
  void child.exited.then(() => counts.remove());
  try {
    const match = await child.waitForLine(banner, 60_000);
    return {
      url: new URL(match[1]!),
      process: child,
      startedInMs: performance.now() - began,
      async commits() {
        rmSync(commitsFile, { force: true });
        try {
          process.kill(child.pid, "SIGUSR2");
        } catch {
          return NaN;
        }
        for (let i = 0; i < 100; i++) {
          await new Promise((r) => setTimeout(r, 20));
          try {
            return (JSON.parse(readFileSync(commitsFile, "utf8")) as { commits: number }).commits;
          } catch {
            // not written yet
          }
        }
        return NaN;
      },
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

let compiled: string | undefined;

/** The server compiled by `tsc -p tsconfig.build.json` (into .scratch/, git-ignored, leaving dist/
 * alone) and run without tsx, as `npm start` runs it. Inside the project, not under node_modules:
 * the compiled code finds db/ and views/ from the nearest package.json above it, and a
 * node_modules shared by several checkouts would hand it another checkout's. */
function compiledServer(): string {
  if (compiled) return compiled;
  const outDir = path.join(projectRoot, ".scratch", "bench-dist");
  rmSync(outDir, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [path.join(projectRoot, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json", "--outDir", outDir], { cwd: projectRoot, encoding: "utf8" });
  const entry = path.join(outDir, "src", "start.cjs");
  if (!existsSync(entry)) throw new Error(`tsc did not produce ${entry}: ${tsc.stdout}${tsc.stderr}`);
  compiled = entry;
  return entry;
}

/** The node options of an npm script `node [options] <entry>`, read from package.json so that the
 * benchmark runs the program exactly as npm (or systemd) does. */
function npmScriptNodeArgs(name: string, entry: string[]): string[] {
  const script = (JSON.parse(readFileSync(path.join(projectRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts[name] ?? "";
  const words = script.trim().split(/\s+/);
  if (words[0] !== "node" || words.slice(-entry.length).join(" ") !== entry.join(" ")) {
    throw new Error(`npm run ${name} is not "node [options] ${entry.join(" ")}": ${script}`);
  }
  return words.slice(1, -entry.length);
}

/** The node options of `npm start` (`npm run serve`: its V8 heap settings). */
export function startNodeArgs(): string[] {
  return npmScriptNodeArgs("serve", ["dist/src/start.cjs"]);
}

/** The node options of `npm run admin` before tsx (its pool-size preload); startNode adds tsx. */
export function adminNodeArgs(): string[] {
  return npmScriptNodeArgs("admin", ["--import", "tsx", "scripts/admin.ts"]);
}

/** The compiled server, exactly as `npm start` runs it; BENCH_SERVER=tsx runs the sources through tsx instead, to show what the loader costs. */
export function startKakunin(databasePath: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  const env = { ...productionEnv(databasePath), ...extraEnv };
  const banner = /listening on (http:\/\/\S+)/;
  if (process.env.BENCH_SERVER !== "tsx") return startListening([compiledServer()], env, banner, [...startNodeArgs(), ...serverNodeArgs], false);
  // tsx is an ES module loader: it starts libuv's pool before src/start.cts could size it.
  return startListening(["src/start.cts"], { ...env, UV_THREADPOOL_SIZE: String(availableParallelism()) }, banner, [...startNodeArgs(), ...serverNodeArgs]);
}

/** How the server under test runs, for the notes. */
export function serverCommand(): string {
  return process.env.BENCH_SERVER !== "tsx" ? `node ${startNodeArgs().join(" ")} dist/src/start.cjs (compiled, no tsx, as npm start)` : "node --import tsx src/start.cts";
}

/** A bare Express 5 "hello world", the yardstick of the page benchmark. */
export function startHelloWorld(): Promise<RunningServer> {
  return startListening(["bench/workers/hello-world.ts"], { NODE_ENV: "production", UV_THREADPOOL_SIZE: String(availableParallelism()) }, /listening on (http:\/\/\S+)/);
}
