/**
 * Compiling node-argon2 for a CPU and proving a build correct. Used by the install step
 * (build.mjs) and by the benchmark (bench/argon2-build.ts), which compiles a -march=native
 * build of the installed version to compare against. Plain Node ESM: it runs during
 * `npm install`, before TypeScript or tsx matter.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const projectRoot = path.resolve(here, "..", "..");
export const recordPath = path.join(projectRoot, "node_modules", ".kakunin-argon2-build.json");

/** The service's argon2 parameters (OWASP's floor, src/security/hasher.ts): the round trip and the
 * timing use them, so a build is proven on the hashes the service actually stores. */
export const SERVICE_PARAMS = Object.freeze({ memoryCost: 19456, timeCost: 2, parallelism: 1 });

/** Where the installed argon2 package lives, its version and the binary node-gyp-build loads first. */
export function findArgon2(root = projectRoot) {
  const require = createRequire(path.join(root, "package.json"));
  const manifest = require.resolve("argon2/package.json");
  const dir = path.dirname(manifest);
  const pkg = JSON.parse(readFileSync(manifest, "utf8"));
  return { dir, version: pkg.version, main: pkg.main ?? "index.js", binary: path.join(dir, "build", "Release", "argon2.node") };
}

/** The binary `require("argon2")` loads today (build/Release first, else a prebuilt one), without loading it. */
export function loadedBinary(argon2Dir) {
  try {
    const require = createRequire(path.join(argon2Dir, "package.json"));
    return require("node-gyp-build").path(argon2Dir);
  } catch {
    return undefined;
  }
}

/** npm's own node-gyp: npm passes it to scripts; otherwise it sits next to the npm that runs us. */
export function findNodeGyp(env = process.env) {
  const candidates = [];
  if (env.npm_config_node_gyp) candidates.push(env.npm_config_node_gyp);
  if (env.npm_execpath) candidates.push(path.join(path.dirname(env.npm_execpath), "..", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  try {
    const prefix = execFileSync("npm", ["prefix", "-g"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 30_000 }).trim();
    candidates.push(path.join(prefix, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  } catch {
    // no npm on PATH: only the candidates above
  }
  candidates.push(path.join(path.dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  return candidates.find((file) => existsSync(file));
}

/** Node's headers: npm's `nodedir` (set to /usr here, where no download is possible). */
export function findNodedir(env = process.env) {
  if (env.npm_config_nodedir) return env.npm_config_nodedir;
  try {
    const value = execFileSync("npm", ["config", "get", "nodedir"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 30_000 }).trim();
    return value && value !== "undefined" && value !== "null" ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A -march value that is safe to pass to the compiler (it goes into CFLAGS). */
export function validMarch(march) {
  return typeof march === "string" && /^[a-z0-9][a-z0-9._+-]{0,39}$/i.test(march);
}

/** The widest SIMD the compiler enables for a -march: what argon2's opt.c will use. */
export function simdOf(march) {
  try {
    const out = execFileSync("cc", [`-march=${march}`, "-dM", "-E", "-"], { input: "", encoding: "utf8", stdio: ["pipe", "pipe", "ignore"], timeout: 30_000 });
    if (/#define __AVX512F__ 1/.test(out)) return "AVX-512";
    if (/#define __AVX2__ 1/.test(out)) return "AVX2";
    if (/#define __SSE2__ 1/.test(out)) return "SSE2";
    return "none";
  } catch {
    return "unknown";
  }
}

export function sha256(file) {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** A scratch folder inside node_modules, so that node-addon-api, node-gyp-build and @phc/format
 * resolve from it exactly as they do for the installed package. */
export function makeWorkDir(argon2Dir, prefix = "kakunin-argon2-") {
  const base = path.join(path.dirname(argon2Dir), ".cache");
  mkdirSync(base, { recursive: true });
  return mkdtempSync(path.join(base, prefix));
}

function copySources(argon2Dir, into) {
  mkdirSync(into, { recursive: true });
  const { main } = JSON.parse(readFileSync(path.join(argon2Dir, "package.json"), "utf8"));
  for (const file of ["package.json", "binding.gyp", "argon2.cpp", main ?? "index.js"]) {
    if (existsSync(path.join(argon2Dir, file))) copyFileSync(path.join(argon2Dir, file), path.join(into, file));
  }
  cpSync(path.join(argon2Dir, "argon2"), path.join(into, "argon2"), { recursive: true });
}

/** A loadable copy of the package with `binary` as its build/Release/argon2.node. */
export function stageModule(argon2Dir, binary, into) {
  copySources(argon2Dir, into);
  mkdirSync(path.join(into, "build", "Release"), { recursive: true });
  copyFileSync(binary, path.join(into, "build", "Release", "argon2.node"));
  return { moduleDir: into, binary: path.join(into, "build", "Release", "argon2.node") };
}

/**
 * Compiles the package's sources into `into` with `-O3 -march=<march>`, invoking npm's node-gyp
 * directly (`npm rebuild --build-from-source` warns about an unknown config). Never touches the
 * installed package. Resolves to { ok, moduleDir, binary, seconds, error?, log }.
 */
export function compileArgon2({ argon2Dir, march, into, env = process.env, timeoutMs = 300_000 }) {
  const started = Date.now();
  const fail = (error, log = "") => ({ ok: false, moduleDir: into, binary: path.join(into, "build", "Release", "argon2.node"), seconds: (Date.now() - started) / 1000, error, log });
  if (!validMarch(march)) return Promise.resolve(fail(`refusing -march value ${JSON.stringify(march)}`));
  const nodeGyp = findNodeGyp(env);
  if (!nodeGyp) return Promise.resolve(fail("npm's node-gyp was not found (npm_config_node_gyp, npm prefix -g)"));
  try {
    copySources(argon2Dir, into);
  } catch (error) {
    return Promise.resolve(fail(`cannot copy the sources: ${error.message}`));
  }
  const flags = `-O3 -march=${march}`;
  const nodedir = findNodedir(env);
  const args = [nodeGyp, "rebuild", "--release", `--jobs=${Math.max(1, os.availableParallelism())}`];
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  const childEnv = {
    ...env, CFLAGS: flags, CXXFLAGS: flags, ZERO_AR_DATE: "1",
    NODE_PATH: [path.join(argon2Dir, "node_modules"), path.dirname(argon2Dir), env.NODE_PATH].filter(Boolean).join(path.delimiter),
  };
  return new Promise((resolve) => {
    let log = "";
    const child = spawn(process.execPath, args, { cwd: into, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (d) => { log += d; });
    child.stderr.on("data", (d) => { log += d; });
    child.on("error", (error) => { clearTimeout(timer); resolve(fail(error.message, log)); });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const binary = path.join(into, "build", "Release", "argon2.node");
      if (code !== 0 || !existsSync(binary)) {
        const firstError = log.split("\n").find((line) => /\berror\b/i.test(line) && !/^gyp ERR!/.test(line));
        return resolve(fail(`node-gyp exited with ${signal ?? code}: ${firstError?.trim() ?? lastLines(log)}`, log));
      }
      resolve({ ok: true, moduleDir: into, binary, seconds: (Date.now() - started) / 1000, log, flags });
    });
  });
}

function lastLines(text, n = 3) {
  return text.trim().split("\n").slice(-n).join(" | ");
}

/** Runs probe.cjs against a staged module in a fresh process. A crash (a bad build can segfault
 * on load) or a timeout is a failed probe, never an exception. */
export function probeBuild(request, { timeoutMs = 120_000, argon2Dir = findArgon2().dir } = {}) {
  const nodePath = [path.join(argon2Dir, "node_modules"), path.dirname(argon2Dir), process.env.NODE_PATH].filter(Boolean).join(path.delimiter);
  const result = spawnSync(process.execPath, [path.join(here, "probe.cjs")], {
    input: JSON.stringify({ service: SERVICE_PARAMS, ...request }),
    encoding: "utf8",
    timeout: timeoutMs,
    env: { ...process.env, UV_THREADPOOL_SIZE: "4", NODE_PATH: nodePath },
    stdio: ["pipe", "pipe", "pipe"],
    maxBuffer: 16 * 1024 * 1024,
  });
  if (result.error || result.status !== 0 || !result.stdout) {
    const why = result.error?.message ?? `exited with ${result.signal ?? result.status}${result.stderr ? `: ${lastLines(result.stderr, 2)}` : ""}`;
    return { ok: false, checks: [{ name: "probe process", ok: false, detail: why }] };
  }
  try {
    return JSON.parse(result.stdout);
  } catch {
    return { ok: false, checks: [{ name: "probe output", ok: false, detail: lastLines(result.stdout, 2) }] };
  }
}

export function failedChecks(result) {
  return (result.checks ?? []).filter((c) => !c.ok).map((c) => (c.detail ? `${c.name} (${c.detail})` : c.name));
}

/**
 * Proves `candidate` against `reference` (the default build): both must pass the RFC 9106 and
 * node-argon2 vectors; each verifies the other's PHC strings at the service's parameters (right
 * password true, wrong one false); and both give the same bytes for a fixed salt.
 * Resolves to { ok, problems, referenceMs, candidateMs, checks }.
 */
export function proveAgainst({ reference, candidate, timingRuns = 0 }) {
  const wrongPassword = "wrong-" + randomBytes(6).toString("hex");
  const passwords = ["kakunin round trip " + randomBytes(6).toString("hex"), "ＡＢＣ 全角 パスワード"];
  const fixedSaltHex = randomBytes(16).toString("hex");
  const base = { wrongPassword, fixedSaltHex, timingRuns };
  const ref = probeBuild({ ...base, moduleDir: reference.moduleDir, expectBinary: reference.binary, produce: passwords });
  if (!ref.ok) return { ok: false, referenceFailed: true, problems: failedChecks(ref).map((p) => `default build: ${p}`), checks: ref.checks };
  const cand = probeBuild({ ...base, moduleDir: candidate.moduleDir, expectBinary: candidate.binary, references: ref.produced, produce: passwords });
  const back = cand.ok ? probeBuild({ ...base, moduleDir: reference.moduleDir, expectBinary: reference.binary, references: cand.produced }) : undefined;
  const problems = failedChecks(cand).map((p) => `candidate: ${p}`);
  if (back) problems.push(...failedChecks(back).map((p) => `default build on the candidate's hashes: ${p}`));
  if (cand.ok && cand.fixedSaltHashHex !== ref.fixedSaltHashHex) problems.push("candidate: different bytes from the default build for the same salt");
  const checks = [...(cand.checks ?? []), ...(back?.checks ?? []).filter((c) => c.name.startsWith("verifies") || c.name.startsWith("refuses")).map((c) => ({ ...c, name: `default build ${c.name}` }))];
  if (cand.ok) checks.push({ name: "same bytes as the default build for a fixed salt", ok: cand.fixedSaltHashHex === ref.fixedSaltHashHex });
  return { ok: problems.length === 0, problems, referenceMs: ref.verifyMs, candidateMs: cand.verifyMs, checks };
}

/** Replaces `target` by `source` with a rename: a running process keeps the old, loaded file
 * (cp over a loaded .node rewrites it in place and crashes that process). */
export function swapIn(source, target) {
  const staging = `${target}.kakunin-swap`;
  copyFileSync(source, staging);
  renameSync(staging, target);
}

export function readRecord() {
  try {
    return JSON.parse(readFileSync(recordPath, "utf8"));
  } catch {
    return undefined;
  }
}

export function writeRecord(record) {
  try {
    mkdirSync(path.dirname(recordPath), { recursive: true });
    writeFileSync(recordPath, JSON.stringify(record, null, 2) + "\n");
  } catch {
    // the record is informative only
  }
}

export function removeDir(dir) {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // a leftover scratch folder under node_modules/.cache is harmless
  }
}
