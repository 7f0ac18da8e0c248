/**
 * The machine's argon2 limit, measured in a process of its own (nothing else on its event loop),
 * with the service's parameters (OWASP's m=19456, t=2, p=1):
 *
 *   verify --concurrency 2,4 --duration-ms 5000 [--module <dir>]
 *     one verification alone (median), then for each concurrency: verifications/s and the mean
 *     time of one verification while that many run.
 *   hash --count 10000 --concurrency 2
 *     the time to hash `count` fresh keys, `concurrency` at a time (the issue benchmark's bound).
 *   serve
 *     stays up and answers JSON commands on stdin, one per line, so that a benchmark can measure
 *     the bound in slices between its own: {"concurrency":4,"durationMs":2000,"warmupMs":300}.
 *
 * `--module` loads another build of argon2 (a staged folder); otherwise the installed one.
 * Prints one JSON line per answer.
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { projectRoot } from "../../src/paths.js";
import { OWASP_ARGON2 } from "../../src/security/hasher.js";

type Argon2 = typeof import("argon2");

function option(name: string, fallback?: string): string {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? process.argv[index + 1] : undefined;
  if (value === undefined && fallback === undefined) throw new Error(`--${name} is required`);
  return value ?? fallback!;
}

const require = createRequire(path.join(projectRoot, "package.json"));
const moduleDir = option("module", "");
const argon2 = (moduleDir ? require(path.resolve(moduleDir)) : require("argon2")) as Argon2;
const params = { type: argon2.argon2id as 2, ...OWASP_ARGON2 };
const mode = process.argv[2];
const phc = await argon2.hash("bound", params);

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** `concurrency` verifications kept in flight; those ending inside the window are counted. */
async function level(concurrency: number, durationMs: number, warmupMs: number) {
  const windowStart = performance.now() + warmupMs;
  const windowEnd = windowStart + durationMs;
  let completed = 0;
  let busyMs = 0;
  let cpuAtStart = NaN;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < windowEnd) {
      const began = performance.now();
      await argon2.verify(phc, "bound");
      const ended = performance.now();
      if (Number.isNaN(cpuAtStart) && ended >= windowStart) cpuAtStart = cpuSeconds();
      if (ended >= windowStart && ended <= windowEnd) {
        completed++;
        busyMs += ended - began;
      }
    }
  }));
  const cpuMsPerVerify = ((cpuSeconds() - cpuAtStart) * 1000) / Math.max(1, completed);
  return { concurrency, perSecond: completed / (durationMs / 1000), meanMs: busyMs / Math.max(1, completed), completed, cpuMsPerVerify };
}

async function single(runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const began = performance.now();
    await argon2.verify(phc, "bound");
    times.push(performance.now() - began);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function verifyBound() {
  const concurrencies = option("concurrency").split(",").map(Number);
  const durationMs = Number(option("duration-ms"));
  const warmupMs = Number(option("warmup-ms", "500"));
  for (let i = 0; i < 3; i++) await argon2.verify(phc, "bound");
  const singleMs = await single(Number(option("single-runs", "15")));
  const levels = [];
  for (const concurrency of concurrencies) levels.push(await level(concurrency, durationMs, warmupMs));
  return { mode: "verify", singleMs, levels };
}

async function hashBound() {
  const count = Number(option("count"));
  const concurrency = Number(option("concurrency"));
  const keys = Array.from({ length: count }, () => randomBytes(8).toString("hex"));
  const began = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await argon2.hash(keys[next++]!, params);
  }));
  const seconds = (performance.now() - began) / 1000;
  return { mode: "hash", count, concurrency, seconds, perSecond: count / seconds };
}

async function serve() {
  process.stdout.write(JSON.stringify({ ready: true }) + "\n");
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === "") continue;
    const command = JSON.parse(line) as { concurrency?: number; durationMs?: number; warmupMs?: number; single?: number };
    const answer = command.single
      ? { singleMs: await single(command.single) }
      : await level(command.concurrency!, command.durationMs!, command.warmupMs ?? 0);
    process.stdout.write(JSON.stringify(answer) + "\n");
  }
}

if (mode === "serve") {
  await serve();
} else {
  const result = mode === "verify" ? await verifyBound() : mode === "hash" ? await hashBound() : undefined;
  if (!result) throw new Error("usage: argon2-bound.ts verify|hash|serve …");
  process.stdout.write(JSON.stringify(result) + "\n");
}
