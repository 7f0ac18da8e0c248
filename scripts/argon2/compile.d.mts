// Types of compile.mjs, for the benchmark (bench/argon2-build.ts). The module stays plain ESM
// because it runs during `npm install`, before tsx or TypeScript matter.

export const projectRoot: string;
export const recordPath: string;
export const SERVICE_PARAMS: Readonly<{ memoryCost: number; timeCost: number; parallelism: number }>;

export type StagedBuild = { moduleDir: string; binary: string };
export type Check = { name: string; ok: boolean; detail?: string };
export type CompileResult = StagedBuild & { ok: boolean; seconds: number; error?: string; log: string; flags?: string };

export function findArgon2(root?: string): { dir: string; version: string; main: string; binary: string };
export function loadedBinary(argon2Dir: string): string | undefined;
export function findNodeGyp(env?: NodeJS.ProcessEnv): string | undefined;
export function findNodedir(env?: NodeJS.ProcessEnv): string | undefined;
export function validMarch(march: string): boolean;
export function simdOf(march: string): "AVX-512" | "AVX2" | "SSE2" | "none" | "unknown";
export function sha256(file: string): string;
export function makeWorkDir(argon2Dir: string, prefix?: string): string;
export function stageModule(argon2Dir: string, binary: string, into: string): StagedBuild;
export function compileArgon2(options: { argon2Dir: string; march: string; into: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CompileResult>;
export function probeBuild(request: Record<string, unknown>, options?: { timeoutMs?: number; argon2Dir?: string }): { ok: boolean; checks: Check[]; verifyMs?: number };
export function failedChecks(result: { checks?: Check[] }): string[];
export function proveAgainst(options: { reference: StagedBuild; candidate: StagedBuild; timingRuns?: number }): {
  ok: boolean;
  problems: string[];
  referenceMs?: number;
  candidateMs?: number;
  checks: Check[];
};
export function swapIn(source: string, target: string): void;
export function readRecord(): Record<string, unknown> | undefined;
export function writeRecord(record: Record<string, unknown>): void;
export function removeDir(dir: string): void;
