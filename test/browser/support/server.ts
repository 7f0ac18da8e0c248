import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { projectRoot } from "../../../src/paths.js";

export type RunningServer = {
  /** "http://127.0.0.1:<port>", as the server printed it. */
  url: string;
  /** The server's JSON log lines at level error or fatal (a 500 anywhere) since the last call. */
  takeErrors(): string[];
  output(): string;
  stop(): Promise<void>;
};

/** The environment of a child process of ours: the machine's basics and nothing of the config's own. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ["PATH", "HOME", "TMPDIR", "LANG"]) if (process.env[key] !== undefined) env[key] = process.env[key];
  return { ...env, NODE_ENV: "test", ...extra };
}

/**
 * Starts the service's entry point through tsx, `node --import tsx src/start.cts`, on a free port (PORT=0) over
 * `databasePath`, with the production argon2 parameters (the config refuses cheaper ones), and
 * resolves once it prints "listening on http://…". `env` adds to (or overrides) that environment:
 * SMTP_URL and the like.
 */
export async function startServer(databasePath: string, options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<RunningServer> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/start.cts"], {
    cwd: projectRoot,
    env: childEnv({ PORT: "0", HOST: "127.0.0.1", DATABASE_PATH: databasePath, ...options.env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`the server did not start within ${options.timeoutMs ?? 15_000} ms`)), options.timeoutMs ?? 15_000);
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${error.message}\n${output}`));
    };
    const read = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve(match[1]!.replace(/\/$/, ""));
      }
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.once("error", fail);
    void exited.then((code) => fail(new Error(`the server exited with ${code} before listening`)));
  });
  let taken = 0;
  return {
    url,
    output: () => output,
    takeErrors() {
      const lines = output.split("\n").slice(0, -1);
      const fresh = lines.slice(taken);
      taken = lines.length;
      return fresh.filter((line) => /"level":"(error|fatal)"/.test(line));
    },
    stop: () => stopChild(child, exited),
  };
}

/** SIGTERM (the server closes cleanly), then SIGKILL if it has not exited within 5 s. */
async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * A loopback port free a moment ago, for a server that must know its own address before it
 * listens (PUBLIC_BASE_URL, the links in mails). Another process could take it in between; on a
 * test machine that is rare enough, and the server then fails to start, saying so.
 */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once("error", reject).listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
