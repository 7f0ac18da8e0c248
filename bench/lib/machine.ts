import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { projectRoot } from "../../src/paths.js";

export type Argon2Build = {
  version: string;
  /** "native", "x86-64-v3", … for a build compiled by scripts/argon2/build.mjs; "default" otherwise. */
  build: string;
  simd: string | null;
  flags: string | null;
  /** Whether the record of scripts/argon2/build.mjs still describes the installed binary. */
  recordMatches: boolean;
  binary: string;
};

export type Machine = {
  cores: number;
  cpu: string;
  node: string;
  platform: string;
  memoryGb: number;
  loadAverage: number[];
  argon2: Argon2Build;
};

export const argon2Record = path.join(projectRoot, "node_modules", ".kakunin-argon2-build.json");

export function installedArgon2(): Argon2Build {
  const require = createRequire(path.join(projectRoot, "package.json"));
  const manifest = require.resolve("argon2/package.json");
  const version = (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
  const binary = path.join(path.dirname(manifest), "build", "Release", "argon2.node");
  let record: { build?: string; simd?: string; flags?: string; installedSha256?: string; argon2Version?: string } = {};
  try {
    record = JSON.parse(readFileSync(argon2Record, "utf8"));
  } catch {
    // no record: the install step did not run (or ran before it existed)
  }
  const sha = existsSync(binary) ? createHash("sha256").update(readFileSync(binary)).digest("hex") : undefined;
  const recordMatches = sha !== undefined && record.installedSha256 === sha && record.argon2Version === version;
  return {
    version,
    build: recordMatches ? record.build ?? "unknown" : existsSync(binary) ? "compiled at install, flags unknown" : "prebuilt",
    simd: recordMatches ? record.simd ?? null : null,
    flags: recordMatches ? record.flags ?? null : null,
    recordMatches,
    binary,
  };
}

let cached: Omit<Machine, "loadAverage"> | undefined;

/** The machine, with its load average now (other work on the same cores skews every figure). */
export function machine(): Machine {
  cached ??= {
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? "unknown",
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    argon2: installedArgon2(),
  };
  return { ...cached, loadAverage: os.loadavg().map((n) => Math.round(n * 100) / 100) };
}
