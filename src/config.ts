import path from "node:path";
import { defaultDatabasePath, projectRoot } from "./paths.js";
import { OWASP_ARGON2, type Argon2Params } from "./security/hasher.js";

export type Config = Readonly<{
  nodeEnv: "production" | "development" | "test";
  port: number;
  host: string;
  databasePath: string;
  sessionSecret: string;
  trustProxy: string | false;
  cookieSecure: boolean;
  argon2: Argon2Params;
}>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join("; ")}`);
  }
}

const DEVELOPMENT_SECRET = "kakunin-development-only-session-secret-not-for-production";

/** Environment -> typed, frozen config. Reports every bad key at once; nothing else reads env. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const problems: string[] = [];
  const nodeEnv = env.NODE_ENV ?? "development";
  if (nodeEnv !== "production" && nodeEnv !== "development" && nodeEnv !== "test") {
    problems.push(`NODE_ENV must be production, development or test (got "${nodeEnv}")`);
  }
  const production = nodeEnv === "production";

  const port = parseInteger(env.PORT ?? "3000");
  if (port === undefined || port < 0 || port > 65535) problems.push(`PORT must be a number from 0 to 65535 (got "${env.PORT}")`);

  const host = env.HOST ?? "127.0.0.1";
  if (host.trim() === "") problems.push("HOST must not be empty");

  const databasePath = env.DATABASE_PATH ? path.resolve(projectRoot, env.DATABASE_PATH) : defaultDatabasePath;

  let sessionSecret = env.SESSION_SECRET ?? "";
  if (sessionSecret === "") {
    if (production) problems.push("SESSION_SECRET is required when NODE_ENV=production (at least 32 random bytes)");
    sessionSecret = DEVELOPMENT_SECRET;
  } else if (Buffer.byteLength(sessionSecret) < 32) {
    problems.push("SESSION_SECRET must be at least 32 bytes long");
  }

  const cookieSecure = parseBoolean(env.COOKIE_SECURE, production);
  if (cookieSecure === undefined) problems.push(`COOKIE_SECURE must be true or false (got "${env.COOKIE_SECURE}")`);

  const trustProxy = env.TRUST_PROXY && env.TRUST_PROXY !== "false" ? env.TRUST_PROXY : false;

  const argon2 = {
    memoryCost: parseInteger(env.ARGON2_MEMORY_KIB ?? String(OWASP_ARGON2.memoryCost)),
    timeCost: parseInteger(env.ARGON2_TIME_COST ?? String(OWASP_ARGON2.timeCost)),
    parallelism: parseInteger(env.ARGON2_PARALLELISM ?? String(OWASP_ARGON2.parallelism)),
  };
  if (
    argon2.memoryCost === undefined || argon2.timeCost === undefined || argon2.parallelism === undefined ||
    argon2.memoryCost < OWASP_ARGON2.memoryCost || argon2.timeCost < OWASP_ARGON2.timeCost || argon2.parallelism < 1
  ) {
    problems.push(`ARGON2_* must be integers at least OWASP's m=${OWASP_ARGON2.memoryCost} KiB, t=${OWASP_ARGON2.timeCost}, p=1`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    nodeEnv: nodeEnv as Config["nodeEnv"],
    port: port!,
    host,
    databasePath,
    sessionSecret,
    trustProxy,
    cookieSecure: cookieSecure!,
    argon2: Object.freeze(argon2 as Argon2Params),
  });
}

function parseInteger(raw: string): number | undefined {
  return /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
}

function parseBoolean(raw: string | undefined, fallback: boolean): boolean | undefined {
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  return undefined;
}
