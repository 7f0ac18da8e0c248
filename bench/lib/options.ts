import { availableParallelism } from "node:os";
import path from "node:path";
import { projectRoot } from "../../src/paths.js";

export const BENCHMARKS = ["verify", "api", "pages", "issue", "login", "argon2-build", "scale"] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

/** Sizes and durations of one `npm run bench`; `--smoke` shrinks everything to seconds. */
export type BenchOptions = {
  smoke: boolean;
  only: BenchmarkName[];
  cores: number;
  /** Seconds measured per load level (after the warm-up). */
  durationS: number;
  warmupS: number;
  /** Closed-loop concurrencies for verify and login; the second is the one the targets judge. */
  concurrencies: number[];
  /** Connections for the page benchmark (and its hello world). */
  pageConnections: number;
  issueCount: number;
  /** Guarantees of each database of the scale benchmark, smallest first. */
  scaleSizes: number[];
  resultsDir: string;
  /** Share of verification attempts with a wrong key, and with an unknown number. */
  wrongShare: number;
  unknownShare: number;
};

const HELP = `npm run bench [-- options]
  --smoke                 tiny sizes (seconds), as npm test runs it
  --only verify,pages     a subset of: ${BENCHMARKS.join(", ")}
  --duration <s>          seconds measured per load level (default 10, smoke 0.5)
  --issue-count <n>       certificates for the issue benchmark (default 10000, smoke 24)
  --scale-sizes <list>    guarantees of each scale database (default 10000,100000,1000000, smoke 1000)
  --results <dir>         where the JSON goes (default bench/results)
Environment: BENCH_DURATION, BENCH_ISSUE_COUNT, BENCH_SCALE_SIZES, BENCH_CONCURRENCY (e.g. "2,4,8"), BENCH_CONNECTIONS, BENCH_RESULTS_DIR.`;

export class UsageError extends Error {}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): BenchOptions | "help" {
  const args = [...argv];
  const flags = new Map<string, string | true>();
  while (args.length > 0) {
    const arg = args.shift()!;
    if (arg === "--help" || arg === "-h") return "help";
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new UsageError(`unexpected argument ${arg}\n${HELP}`);
    const [, name, inline] = match;
    if (name === "smoke") flags.set(name, true);
    else flags.set(name!, inline ?? args.shift() ?? "");
  }
  for (const name of flags.keys()) {
    if (!["smoke", "only", "duration", "issue-count", "scale-sizes", "results"].includes(name)) throw new UsageError(`unknown option --${name}\n${HELP}`);
  }
  const smoke = flags.get("smoke") === true;
  const cores = availableParallelism();
  const number = (raw: string | true | undefined, fallback: number, what: string) => {
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${what} must be a positive number (got ${String(raw)})`);
    return value;
  };
  const onlyRaw = flags.get("only");
  const only = typeof onlyRaw === "string" && onlyRaw !== "" ? onlyRaw.split(",").map((s) => s.trim()) : [...BENCHMARKS];
  for (const name of only) if (!(BENCHMARKS as readonly string[]).includes(name)) throw new UsageError(`unknown benchmark ${name}; choose from ${BENCHMARKS.join(", ")}`);
  const scaleRaw = flags.get("scale-sizes") ?? env.BENCH_SCALE_SIZES;
  const scaleSizes = typeof scaleRaw === "string" && scaleRaw !== "" ? scaleRaw.split(",").map((s) => Number(s.trim())) : smoke ? [1_000] : [10_000, 100_000, 1_000_000];
  for (const size of scaleSizes) if (!Number.isInteger(size) || size < 1_000) throw new UsageError(`--scale-sizes: each size must be a whole number of guarantees, at least 1000 (got ${String(scaleRaw)})`);
  const concurrencies = (env.BENCH_CONCURRENCY ?? "").split(",").map(Number).filter((n) => Number.isInteger(n) && n > 0);
  return {
    smoke,
    only: only as BenchmarkName[],
    cores,
    durationS: number(flags.get("duration") ?? env.BENCH_DURATION, smoke ? 0.5 : 10, "--duration"),
    warmupS: smoke ? 0.2 : 2,
    concurrencies: concurrencies.length > 0 ? concurrencies : smoke ? [2 * cores] : [cores, 2 * cores, 4 * cores],
    pageConnections: number(env.BENCH_CONNECTIONS, smoke ? 4 : 50, "BENCH_CONNECTIONS"),
    scaleSizes,
    issueCount: Math.round(number(flags.get("issue-count") ?? env.BENCH_ISSUE_COUNT, smoke ? 24 : 10_000, "--issue-count")),
    resultsDir: path.resolve(projectRoot, String(flags.get("results") ?? env.BENCH_RESULTS_DIR ?? path.join("bench", "results"))),
    wrongShare: 0.2,
    unknownShare: 0.1,
  };
}

export { HELP };
