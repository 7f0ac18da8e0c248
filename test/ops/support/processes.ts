import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { projectRoot } from "../../../src/paths.js";

export type Child = {
  process: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout (or stderr), rejects if the child exits first or on timeout. */
  waitFor(pattern: RegExp, options?: { stream?: "stdout" | "stderr"; timeoutMs?: number }): Promise<RegExpExecArray>;
  /** Resolves with the exit code (or the signal's name) once the child has exited. */
  exited: Promise<number | NodeJS.Signals>;
  kill(signal: NodeJS.Signals): void;
};

/** `node --import tsx <script> ...args` from the project root, with exactly `env` (plus PATH). */
export function spawnTs(script: string, args: string[], env: NodeJS.ProcessEnv): Child {
  return spawnChild(process.execPath, ["--import", "tsx", path.join(projectRoot, script), ...args], env, script);
}

/** Any program from the project root, with exactly `env` (plus PATH); `script` names it in errors. */
export function spawnChild(command: string, args: string[], env: NodeJS.ProcessEnv, script: string): Child {
  const child = spawn(command, args, {
    cwd: projectRoot,
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  const notify = () => { for (const listener of listeners) listener(); };
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => { out += chunk; notify(); });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => { err += chunk; notify(); });
  const exited = new Promise<number | NodeJS.Signals>((resolve) => {
    child.on("exit", (code, signal) => { resolve(code ?? signal!); notify(); });
  });
  let exitCode: number | NodeJS.Signals | undefined;
  void exited.then((code) => { exitCode = code; });

  return {
    process: child,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: (signal) => { child.kill(signal); },
    waitFor(pattern, options = {}) {
      const timeoutMs = options.timeoutMs ?? 15_000;
      return new Promise((resolve, reject) => {
        const check = () => {
          const text = options.stream === "stderr" ? err : out;
          const match = pattern.exec(text);
          if (match) return done(() => resolve(match));
          if (exitCode !== undefined) {
            // Let the last chunks arrive before giving up.
            setImmediate(() => {
              const late = pattern.exec(options.stream === "stderr" ? err : out);
              done(() => late ? resolve(late) : reject(new Error(`${script} exited (${exitCode}) before ${pattern}\nstdout: ${out}\nstderr: ${err}`)));
            });
          }
        };
        const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${pattern} from ${script}\nstdout: ${out}\nstderr: ${err}`))), timeoutMs);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Kills a child that a failed test left running; a no-op once it has exited. */
export function reap(child: Child | undefined): Promise<unknown> {
  if (!child || child.process.exitCode !== null || child.process.signalCode !== null) return Promise.resolve();
  child.kill("SIGKILL");
  return child.exited;
}
