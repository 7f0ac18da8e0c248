import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { projectRoot } from "../../src/paths.js";

/** Lines of a child's output kept for error messages. */
const KEPT_LINES = 200;

const peakRssPreload = path.join(projectRoot, "bench", "workers", "peak-rss.cjs");

/** How a child ended: its status, peak RSS (MB) and CPU seconds, from getrusage at its exit. */
export type Exit = { code: number | null; signal: NodeJS.Signals | null; peakRssMb: number | null; cpuSeconds: number | null };

/** A node child (TypeScript through tsx) whose peak RSS is known when it has exited. */
export type NodeChild = {
  child: ChildProcess;
  pid: number;
  /** Resolves to the first stdout line matching `pattern` (rejects if the child exits first). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** The last of what the child printed: stdout's last lines and stderr's last chunks. */
  output(): string;
  stdoutLines(): number;
  /** Resolves when the child has exited, with its status and peak RSS (MB, from getrusage). */
  exited: Promise<Exit>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<Exit>;
  /** The current VmHWM (peak RSS so far) from /proc, where there is one. */
  peakRssNowMb(): number | null;
};

export function startNode(args: string[], options: { env?: NodeJS.ProcessEnv; keepStdout?: boolean; nodeArgs?: string[]; stdin?: boolean; tsx?: boolean } = {}): NodeChild {
  const scratch = mkdtempSync(path.join(tmpdir(), "kakunin-bench-rss-"));
  const rssFile = path.join(scratch, "rss.json");
  const { NODE_OPTIONS: _ignored, ...parentEnv } = process.env;
  const loader = options.tsx === false ? [] : ["--import", "tsx"];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...loader, "--require", peakRssPreload, ...args], {
    cwd: projectRoot,
    env: { ...parentEnv, ...options.env, KAKUNIN_BENCH_RSS_FILE: rssFile },
    stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"],
  });
  // The last lines only, as a ring: the server under test logs every request, and whatever this
  // process spends per line is taken from the cores it shares with the server.
  const kept: string[] = [];
  let next = 0;
  let pending = "";
  let lines = 0;
  const waiters: { pattern: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  const keep = (text: string) => {
    kept[next] = text;
    next = (next + 1) % KEPT_LINES;
  };
  const tail = () => [...kept.slice(next), ...kept.slice(0, next)].join("");
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    const parts = (pending + chunk).split("\n");
    pending = parts.pop()!;
    for (const line of parts) {
      lines++;
      if (options.keepStdout !== false) keep(line + "\n");
      for (const waiter of waiters.length > 0 ? [...waiters] : []) {
        const match = waiter.pattern.exec(line);
        if (match) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(match);
        }
      }
    }
  });
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", keep);

  const exited = new Promise<Exit>((resolve) => {
    child.on("close", (code, signal) => {
      let peakRssMb: number | null = null;
      let cpuSeconds: number | null = null;
      try {
        const usage = JSON.parse(readFileSync(rssFile, "utf8")) as { maxRssKb: number; cpuSeconds: number };
        peakRssMb = Math.round((usage.maxRssKb / 1024) * 10) / 10;
        cpuSeconds = usage.cpuSeconds;
      } catch {
        // killed before its exit hook ran
      }
      rmSync(scratch, { recursive: true, force: true });
      resolve({ code, signal, peakRssMb, cpuSeconds });
    });
  });

  return {
    child,
    pid: child.pid!,
    output: tail,
    stdoutLines: () => lines,
    waitForLine(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} from ${args.join(" ")}:\n${tail()}`)), timeoutMs);
        waiters.push({ pattern, resolve: (m) => { clearTimeout(timer); resolve(m); } });
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`${args.join(" ")} exited (${signal ?? code}) before printing ${pattern}:\n${tail()}`));
        });
      });
    },
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    },
    peakRssNowMb() {
      try {
        const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
        return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : null;
      } catch {
        return null;
      }
    },
  };
}

/** Runs a worker script to completion and parses the JSON it prints last. */
export async function runWorker<T>(script: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30 * 60_000): Promise<T & { peakRssMb: number | null; cpuSeconds: number | null }> {
  const node = startNode([path.join(projectRoot, "bench", "workers", script), ...args], { env });
  const timer = setTimeout(() => node.child.kill("SIGKILL"), timeoutMs);
  const { code, signal, peakRssMb, cpuSeconds } = await node.exited;
  clearTimeout(timer);
  const lines = node.output().trim().split("\n");
  const last = [...lines].reverse().find((l) => l.startsWith("{"));
  if (code !== 0 || !last) throw new Error(`${script} failed (${signal ?? code}):\n${node.output().slice(-4000)}`);
  return { ...(JSON.parse(last) as T), peakRssMb, cpuSeconds };
}
