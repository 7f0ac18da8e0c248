import { existsSync } from "node:fs";
import path from "node:path";
import { compileArgon2, findArgon2, makeWorkDir, proveAgainst, removeDir, sha256, simdOf, stageModule } from "../scripts/argon2/compile.mjs";
import { measureVerifyBound, type VerifyBound } from "./lib/bounds.js";
import { installedArgon2 } from "./lib/machine.js";
import type { BenchOptions } from "./lib/options.js";
import { measure, round, target, type BenchResult } from "./lib/report.js";

type Measured = { name: string; flags: string; moduleDir?: string; rounds: VerifyBound[] };

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * Which argon2 build is installed, how fast it verifies, and how it compares with a
 * -march=native build of the same version compiled here (and with the package's default build,
 * when the install step kept it). Builds are measured in alternating rounds, each in a fresh
 * process, so that a noisy neighbour hurts all of them alike.
 */
export function runArgon2Build(options: BenchOptions): Promise<BenchResult> {
  return measure("argon2-build", options.smoke, async (result) => {
    const installed = installedArgon2();
    const argon2 = findArgon2();
    const work = makeWorkDir(argon2.dir, "kakunin-bench-argon2-");
    try {
      const compiled = await compileArgon2({ argon2Dir: argon2.dir, march: "native", into: path.join(work, "native") });
      const builds: Measured[] = [{ name: `installed (${installed.build})`, flags: installed.flags ?? "package default", rounds: [] }];
      if (compiled.ok) {
        // Proven like the install step's builds before its speed means anything (skipped at smoke size: the install step proves the same code).
        if (!options.smoke) {
          const proof = proveAgainst({ reference: stageModule(argon2.dir, argon2.binary, path.join(work, "installed")), candidate: compiled });
          result.details.nativeProof = proof.checks;
          if (!proof.ok) {
            result.ok = false;
            result.notes.push(`the -march=native build compiled here failed its proof: ${proof.problems.join("; ")}`);
          }
        }
        builds.push({ name: "native (compiled by the bench)", flags: `-O3 -march=native (${simdOf("native")})`, moduleDir: compiled.moduleDir, rounds: [] });
      } else {
        result.notes.push(`no -march=native build to compare with: ${compiled.error}`);
      }
      result.details.nativeCompileSeconds = round(compiled.seconds, 1);
      const backup = `${argon2.binary}.default`;
      if (!options.smoke && installed.build !== "default" && existsSync(backup)) {
        const staged = stageModule(argon2.dir, backup, path.join(work, "default"));
        builds.push({ name: "package default (kept by the install step)", flags: "node-gyp defaults (-O3, SSE2)", moduleDir: staged.moduleDir, rounds: [] });
      }

      const rounds = options.smoke ? 1 : 3;
      const durationMs = options.smoke ? 500 : 2500;
      for (let r = 0; r < rounds; r++) {
        for (const build of r % 2 === 0 ? builds : [...builds].reverse()) {
          build.rounds.push(await measureVerifyBound({ concurrencies: [options.cores], durationMs, warmupMs: options.smoke ? 100 : 400, moduleDir: build.moduleDir, singleRuns: options.smoke ? 3 : 9 }));
        }
      }

      const summary = builds.map((b) => ({
        name: b.name, flags: b.flags,
        singleMs: median(b.rounds.map((x) => x.singleMs)),
        perSecond: median(b.rounds.map((x) => x.levels[0]!.perSecond)),
        meanMs: median(b.rounds.map((x) => x.levels[0]!.meanMs)),
      }));
      const native = summary.find((s) => s.name.startsWith("native"));
      for (const s of summary) {
        result.rows.push({
          build: s.name,
          flags: s.flags,
          "one verify ms": round(s.singleMs, 2),
          [`${options.cores} concurrent ms`]: round(s.meanMs, 2),
          "verifications/s": round(s.perSecond, 1),
          "÷ native": native ? round(s.perSecond / native.perSecond, 3) : null,
        });
      }
      const identical = compiled.ok && sha256(compiled.binary) === sha256(argon2.binary);
      result.details.identicalToNative = identical;
      if (native && identical) {
        // Same compiler, same flags, same sources: the same bytes. Any measured difference is noise.
        result.targets.push(target("installed build ÷ -march=native build (byte-identical binaries)", 1, ">=", 0.9));
        result.notes.push(`the installed binary is byte-identical to the -march=native build compiled here (sha256 ${sha256(argon2.binary).slice(0, 16)}…): ` +
          `the ratio is 1 by construction; the measured ${round(summary[0]!.perSecond / native.perSecond, 3)} shows this machine's noise`);
      } else if (native) {
        result.targets.push(target("installed build ÷ -march=native build (verifications/s)", summary[0]!.perSecond / native.perSecond, ">=", 0.9));
      }
      if (!installed.recordMatches) result.notes.push("node_modules/.kakunin-argon2-build.json does not describe the installed binary: run `npm run postinstall` (scripts/argon2/build.mjs)");
      result.notes.push(`median of ${rounds} alternating round(s), each a fresh process with UV_THREADPOOL_SIZE=${options.cores}; argon2id m=19456,t=2,p=1`);
      result.details = { ...result.details, installed, builds: summary, rounds: builds.map((b) => ({ name: b.name, rounds: b.rounds })) };
    } finally {
      removeDir(work);
    }
  });
}
