#!/usr/bin/env node
/**
 * `postinstall`: puts the fastest correct argon2 build in place. The package's own install
 * compiles it with generic x86-64 flags (SSE2); compiled with `-O3 -march=native` it verifies
 * about twice as fast, and the speed of the service is the speed of argon2 (docs/BENCHMARKS.md).
 *
 *   KAKUNIN_ARGON2_MARCH=x86-64-v3   portable build for other AVX2 hosts (default: native)
 *   KAKUNIN_ARGON2_BUILD=default     keep (or go back to) the package's default build
 *
 * The candidate is compiled in a scratch copy, proven in child processes (RFC 9106 vectors,
 * node-argon2's vectors, a round trip both ways with the default build at the service's
 * parameters, identical bytes for a fixed salt) and only then renamed over the installed
 * binary. Anything that goes wrong keeps or restores the default build with one warning:
 * this script never fails the install. The outcome goes to node_modules/.kakunin-argon2-build.json.
 */
import { existsSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  compileArgon2, findArgon2, loadedBinary, probeBuild, failedChecks, proveAgainst, readRecord, removeDir, sha256, simdOf, stageModule,
  swapIn, validMarch, writeRecord, makeWorkDir,
} from "./compile.mjs";

const log = (line) => process.stdout.write(`kakunin argon2: ${line}\n`);
const warn = (line) => process.stdout.write(`kakunin argon2: warning: ${line}\n`);

/** The default build is kept beside the installed one under a name node-gyp-build never loads
 * (it picks the first build/Release/*.node). */
const backupOf = (binary) => `${binary}.default`;

async function main() {
  const started = Date.now();
  let argon2;
  try {
    argon2 = findArgon2();
  } catch {
    warn("the argon2 package is not installed; nothing to build");
    return;
  }
  const mode = (process.env.KAKUNIN_ARGON2_BUILD ?? "").trim().toLowerCase();
  const march = (process.env.KAKUNIN_ARGON2_MARCH ?? "").trim() || "native";
  const base = { argon2Version: argon2.version, node: process.version, arch: process.arch, cpu: os.cpus()[0]?.model ?? "unknown", at: new Date().toISOString() };
  const previous = readRecord();
  const backup = backupOf(argon2.binary);
  const current = existsSync(argon2.binary) ? sha256(argon2.binary) : undefined;

  // A rerun over our own build: the default build is the backup kept by the first run. Otherwise
  // it is what the package loads today: its compiled build, or a prebuilt one where that works.
  const ours = previous && current && previous.build !== "default" && previous.installedSha256 === current && previous.argon2Version === argon2.version;
  const defaultBinary = ours ? (existsSync(backup) && sha256(backup) === previous.defaultSha256 ? backup : undefined) : loadedBinary(argon2.dir);

  if (mode === "default") {
    if (ours && defaultBinary === backup) {
      swapIn(backup, argon2.binary);
      log(`restored the package's default build (KAKUNIN_ARGON2_BUILD=default)`);
    } else {
      log(`keeping the package's default build (KAKUNIN_ARGON2_BUILD=default)`);
    }
    writeRecord({ ...base, build: "default", reason: "KAKUNIN_ARGON2_BUILD=default", installedSha256: existsSync(argon2.binary) ? sha256(argon2.binary) : null });
    return;
  }
  if (mode !== "" && mode !== "tuned") {
    warn(`KAKUNIN_ARGON2_BUILD=${mode} is not "default" or "tuned"; keeping the default build`);
    return;
  }
  if (!validMarch(march)) {
    warn(`KAKUNIN_ARGON2_MARCH=${JSON.stringify(march)} is not a -march value; keeping the default build`);
    return;
  }
  if (process.arch !== "x64" || process.platform === "win32") {
    log(`keeping the package's default build (tuned builds are for x64 Linux/macOS; this is ${process.platform}-${process.arch})`);
    writeRecord({ ...base, build: "default", reason: `unsupported platform ${process.platform}-${process.arch}`, installedSha256: current ?? null });
    return;
  }
  if (ours && previous.march === march && defaultBinary) {
    log(`the -O3 -march=${march} build (${previous.simd}) is already in place`);
    return;
  }
  if (!defaultBinary) {
    warn("no default build of argon2 to prove a tuned build against; keeping what is installed");
    writeRecord({ ...base, build: "default", reason: "no default build to compare with", installedSha256: current ?? null });
    return;
  }

  const work = makeWorkDir(argon2.dir);
  try {
    const reference = stageModule(argon2.dir, defaultBinary, path.join(work, "default"));
    const compiled = await compileArgon2({ argon2Dir: argon2.dir, march, into: path.join(work, "tuned") });
    if (!compiled.ok) return keepDefault(base, `the -march=${march} build did not compile (${compiled.error})`, defaultBinary, argon2, ours);

    const proof = proveAgainst({ reference, candidate: compiled, timingRuns: 8 });
    if (!proof.ok) return keepDefault(base, `the -march=${march} build failed its proof: ${proof.problems.slice(0, 3).join("; ")}`, defaultBinary, argon2, ours);
    if (proof.candidateMs > proof.referenceMs * 1.1) {
      return keepDefault(base, `the -march=${march} build is slower (${proof.candidateMs.toFixed(1)} ms) than the default (${proof.referenceMs.toFixed(1)} ms)`, defaultBinary, argon2, ours);
    }

    mkdirSync(path.dirname(argon2.binary), { recursive: true });
    if (defaultBinary !== backup) swapIn(defaultBinary, backup);
    swapIn(compiled.binary, argon2.binary);
    // The installed package, loaded the way the service loads it, must still pass.
    let installed;
    try {
      installed = probeBuild({ moduleDir: argon2.dir, expectBinary: argon2.binary, wrongPassword: "wrong", fixedSaltHex: "00".repeat(16) });
    } catch (error) {
      installed = { ok: false, checks: [{ name: "probe", ok: false, detail: error.message }] };
    }
    if (!installed.ok) {
      swapIn(backup, argon2.binary);
      return keepDefault(base, `the installed -march=${march} build failed after the swap (${failedChecks(installed).slice(0, 2).join("; ")}); restored the default build`, backup, argon2, false);
    }

    const simd = simdOf(march);
    const seconds = (Date.now() - started) / 1000;
    writeRecord({
      ...base, build: march === "native" ? "native" : march, march, simd, flags: `-O3 -march=${march}`,
      defaultSha256: sha256(backup), installedSha256: sha256(argon2.binary), backup,
      verifyMs: { default: round(proof.referenceMs), installed: round(proof.candidateMs) },
      compileSeconds: round(compiled.seconds), totalSeconds: round(seconds),
      proof: proof.checks.map((c) => `${c.ok ? "ok" : "FAILED"} ${c.name}`),
    });
    log(`installed the -O3 -march=${march} build (${simd}): ${proof.candidateMs.toFixed(1)} ms a verification at m=19456,t=2,p=1 ` +
      `against ${proof.referenceMs.toFixed(1)} ms for the default build; proven by RFC 9106 and node-argon2 vectors and a round trip ` +
      `with the default build (${seconds.toFixed(1)} s, of which compiling ${compiled.seconds.toFixed(1)} s)`);
  } finally {
    removeDir(work);
  }
}

/** Keeps (or puts back) the default build and says so in one line. */
function keepDefault(base, reason, defaultBinary, argon2, oursInstalled) {
  if (oursInstalled && defaultBinary !== argon2.binary && existsSync(defaultBinary)) swapIn(defaultBinary, argon2.binary);
  warn(`${reason}; keeping the package's default build`);
  writeRecord({ ...base, build: "default", reason, installedSha256: existsSync(argon2.binary) ? sha256(argon2.binary) : null });
}

const round = (n) => (typeof n === "number" ? Math.round(n * 100) / 100 : n);

try {
  await main();
} catch (error) {
  warn(`unexpected ${error?.message ?? error}; the package's default build stays in place`);
}
process.exitCode = 0;
