/**
 * The machine's argon2 limit, measured in a process of its own (nothing else on its event loop):
 *
 *   verify --concurrency 2,4 --duration-ms 5000 [--module <dir>]
 *     one verification alone (median), then for each concurrency: verifications/s and the mean
 *     time of one verification while that many run, with the service's parameters (OWASP).
 *   hash --count 10000 --concurrency 2 [--module <dir>]
 *     the time to hash `count` fresh keys, `concurrency` at a time (the issue benchmark's bound).
 *
 * `--module` loads another build of argon2 (a staged folder); otherwise the installed one.
 * Prints one JSON line.
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import { performance } from "node:perf_hooks";
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

async function verifyBound() {
  const concurrencies = option("concurrency").split(",").map(Number);
  const durationMs = Number(option("duration-ms"));
  const warmupMs = Number(option("warmup-ms", "500"));
  const phc = await argon2.hash("bound", params);
  for (let i = 0; i < 3; i++) await argon2.verify(phc, "bound");
  const single: number[] = [];
  for (let i = 0; i < Number(option("single-runs", "15")); i++) {
    const began = performance.now();
    await argon2.verify(phc, "bound");
    single.push(performance.now() - began);
  }
  single.sort((a, b) => a - b);
  const levels = [];
  for (const concurrency of concurrencies) {
    const start = performance.now();
    const windowStart = start + warmupMs;
    const windowEnd = windowStart + durationMs;
    let completed = 0;
    let busyMs = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < windowEnd) {
        const began = performance.now();
        await argon2.verify(phc, "bound");
        const ended = performance.now();
        if (ended >= windowStart && ended <= windowEnd) {
          completed++;
          busyMs += ended - began;
        }
      }
    }));
    levels.push({ concurrency, perSecond: completed / (durationMs / 1000), meanMs: busyMs / Math.max(1, completed), completed });
  }
  return { mode: "verify", singleMs: single[Math.floor(single.length / 2)], levels };
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

const result = mode === "verify" ? await verifyBound() : mode === "hash" ? await hashBound() : undefined;
if (!result) throw new Error("usage: argon2-bound.ts verify|hash …");
process.stdout.write(JSON.stringify(result) + "\n");
