import path from "node:path";
import { parseMailAddress } from "./format/mail-address.js";
import { isHostName } from "./format/host-name.js";
import { defaultDatabasePath, projectRoot } from "./paths.js";
import { OWASP_ARGON2, type Argon2Params } from "./security/hasher.js";

export type Config = Readonly<{
  nodeEnv: "production" | "development" | "test";
  port: number;
  host: string;
  databasePath: string;
  /** The service's Ed25519 key for signing audit checkpoints (PKCS#8 PEM, mode 0600). */
  auditSigningKeyFile: string;
  /** One JSON line per checkpoint, outside the database (mode 0600). */
  auditCheckpointLog: string;
  /** SESSION_SECRET split at commas: the first signs, every one verifies (rotation). Empty only
   * for the admin CLI run without it (see loadConfig's `sessionSecret` option). */
  sessionSecrets: readonly string[];
  trustProxy: string | number | boolean;
  cookieSecure: boolean;
  argon2: Argon2Params;
  /** libuv's pool, where argon2 runs (UV_THREADPOOL_SIZE). */
  poolThreads: number;
  limits: Limits;
  mail: MailConfig;
  webhooks: WebhookConfig;
}>;

/**
 * Webhooks: hosts exempt from the private-address rule (WEBHOOK_ALLOWED_HOSTS, lower-cased), and
 * the service's X25519 key that seals the endpoints' signing secrets (WEBHOOK_KEY_FILE, 0600, its
 * public half beside it as .pub for the admin CLI).
 */
export type WebhookConfig = Readonly<{ allowedHosts: readonly string[]; keyFile: string }>;

/** Notices by mail: SMTP_URL (null: mails wait in the outbox, not sent), MAIL_FROM, PUBLIC_BASE_URL. */
export type MailConfig = Readonly<{ smtpUrl: string | null; from: string; publicBaseUrl: string }>;

/**
 * "window": at most `limit` failures in `windowMs`; the failure that reaches it blocks the key
 * for `blockMs`. "consecutive": failures until a success; from the `delayFrom`th on, a delay of
 * `firstDelayMs` doubling with each further failure up to `maxDelayMs`; the `lockAt`th locks the
 * key until an admin unlocks it.
 */
export type WindowPolicy = Readonly<{ kind: "window"; limit: number; windowMs: number; blockMs: number }>;
export type ConsecutivePolicy = Readonly<{ kind: "consecutive"; delayFrom: number; firstDelayMs: number; maxDelayMs: number; lockAt: number }>;
export type ScopePolicy = WindowPolicy | ConsecutivePolicy;

/** Every number that bounds what a client can make the service do (docs/SECURITY.md has the table). */
export type Limits = Readonly<{
  /** Failed logins per submitted, NFKC-lower-cased username, real or not (RL-01). */
  login: ConsecutivePolicy;
  /** Failed verifications per logged-in officer (KEY-06). */
  officer: WindowPolicy;
  /** Failed verifications per submitted, normalised contract number, real or not, and the
   * officer's orderer: the bound on guesses at a contract's key (KEY-06, docs/SECURITY.md). */
  contract: ConsecutivePolicy;
  /** Failed anonymous logins per client address, IPv6 by its /64 (RL-02); never verifications. */
  address: WindowPolicy;
  /** Failed logins from a browser holding a device cookie of the submitted login (RL-03). */
  device: WindowPolicy;
  /** Failed verifications of one officer on one submitted contract number (KEY-06). */
  officerContract: ConsecutivePolicy;
  /** Form bodies (VAL-03): bytes as sent, and fields. */
  form: Readonly<{ maxBytes: number; maxFields: number }>;
  /** The officers' longer forms (a contract: 11 fields, names up to 200 characters): bytes and fields. */
  contractForm: Readonly<{ maxBytes: number; maxFields: number }>;
  /** File uploads (multipart/form-data, POST /contracts/import only): the file's bytes, its
   * fields besides the file, and the whole body as sent (the file, the fields and the boundaries). */
  upload: Readonly<{ maxFileBytes: number; maxFields: number; maxBodyBytes: number }>;
  /** argon2 work handed to the libuv pool at once (twice its threads) and waiting; beyond both, 503 (DOS-02). */
  argon2: Readonly<{ concurrency: number; queue: number; retryAfterSeconds: number }>;
  /** Node's HTTP server (DOS-03). */
  server: Readonly<{
    headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number;
    maxHeadersCount: number; maxHeaderSize: number; connectionsCheckingIntervalMs: number;
  }>;
  /** Officer sessions (SES-04): idle, and since login whatever the activity; an anonymous
   * session (the login form's CSRF token): from its first form, however often reloaded (DOS-04). */
  session: Readonly<{ idleMs: number; absoluteMs: number; anonymousLifetimeMs: number }>;
  /** Anonymous sessions one client address may start within `windowMs` and still hold (DOS-04). */
  newSessions: Readonly<{ perAddress: number; windowMs: number }>;
  /** Sign-ins through an identity provider started per client address, IPv6 by its /64, each
   * counted whatever its end (DOS-05): every one stores a pending sign-in and may cost a discovery. */
  ssoAddress: WindowPolicy;
  /** Sign-ins through one orderer's provider waiting for its answer at once (DOS-05): a flood at
   * one orderer never stops another's. */
  ssoPending: Readonly<{ perOrderer: number }>;
}>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** libuv's pool size when UV_THREADPOOL_SIZE is not set. */
const NODE_DEFAULT_POOL_THREADS = 4;

/** The production numbers. Tests and the scan may raise them, production may not (see loadConfig). */
export const PRODUCTION_LIMITS: Limits = deepFreeze({
  login: { kind: "consecutive", delayFrom: 5, firstDelayMs: 30_000, maxDelayMs: HOUR, lockAt: 100 },
  officer: { kind: "window", limit: 10, windowMs: 15 * MINUTE, blockMs: 15 * MINUTE },
  contract: { kind: "consecutive", delayFrom: 20, firstDelayMs: 30_000, maxDelayMs: HOUR, lockAt: 100 },
  address: { kind: "window", limit: 100, windowMs: 24 * HOUR, blockMs: 24 * HOUR },
  device: { kind: "window", limit: 10, windowMs: HOUR, blockMs: HOUR },
  officerContract: { kind: "consecutive", delayFrom: 10, firstDelayMs: 30_000, maxDelayMs: HOUR, lockAt: 100 },
  form: { maxBytes: 4096, maxFields: 10 },
  contractForm: { maxBytes: 16 * 1024, maxFields: 16 },
  upload: { maxFileBytes: 2 * 1024 * 1024, maxFields: 2, maxBodyBytes: 2 * 1024 * 1024 + 16 * 1024 },
  // concurrency: twice the pool; loadConfig sets it from UV_THREADPOOL_SIZE (Node's default pool here).
  argon2: { concurrency: 2 * NODE_DEFAULT_POOL_THREADS, queue: 32, retryAfterSeconds: 1 },
  server: {
    headersTimeoutMs: 20_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000,
    maxHeadersCount: 100, maxHeaderSize: 16 * 1024, connectionsCheckingIntervalMs: 1_000,
  },
  session: { idleMs: 30 * MINUTE, absoluteMs: 8 * HOUR, anonymousLifetimeMs: 15 * MINUTE },
  newSessions: { perAddress: 100, windowMs: 10 * MINUTE },
  // As many as the anonymous sessions an address may start (an office's NAT at 8:30); one session can no longer post without end.
  ssoAddress: { kind: "window", limit: 100, windowMs: 10 * MINUTE, blockMs: 10 * MINUTE },
  // Twenty addresses' full budgets; the rows are small, and only the few orderers with a provider have any.
  ssoPending: { perOrderer: 2_000 },
} satisfies Limits);

/** Raised (or lowered) numbers for tests and the scan; refused when NODE_ENV=production. */
export type LimitOverrides = { [K in keyof Limits]?: Partial<Limits[K]> };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join("; ")}`);
  }
}

const DEVELOPMENT_SECRET = "kakunin-development-only-session-secret-not-for-production";

/**
 * Environment -> typed, frozen config. Reports every bad key at once; nothing else reads env.
 * An unset NODE_ENV is production: a server started bare gets no built-in secret, Secure
 * cookies and no stack traces (`npm run dev` and `npm run demo` say development themselves).
 * `sessionSecret: "optional"` is for the admin CLI, which signs no cookie.
 */
export function loadConfig(env: NodeJS.ProcessEnv, overrides: { limits?: LimitOverrides; sessionSecret?: "required" | "optional" } = {}): Config {
  const problems: string[] = [];
  const nodeEnv = env.NODE_ENV || "production";
  if (nodeEnv !== "production" && nodeEnv !== "development" && nodeEnv !== "test") {
    problems.push(`NODE_ENV must be production, development or test (got "${nodeEnv}")`);
  }
  const production = nodeEnv === "production";
  /** A whole-number variable in [min, max], `fallback` when unset; undefined (and a problem) otherwise. */
  const integerSetting = (name: string, fallback: number, min: number, max: number): number | undefined => {
    const value = parseInteger(env[name] ?? String(fallback));
    if (value !== undefined && value >= min && value <= max) return value;
    problems.push(`${name} must be an integer from ${min} to ${max} (got "${env[name]}")`);
    return undefined;
  };

  const port = parseInteger(env.PORT ?? "3000");
  if (port === undefined || port < 0 || port > 65535) problems.push(`PORT must be a number from 0 to 65535 (got "${env.PORT}")`);

  const host = env.HOST ?? "127.0.0.1";
  if (host.trim() === "") problems.push("HOST must not be empty");

  const databasePath = env.DATABASE_PATH ? path.resolve(projectRoot, env.DATABASE_PATH) : defaultDatabasePath;
  // Beside the database by default; docs/operations.md says why a folder of their own is better.
  const fileSetting = (name: string, fallback: string): string => {
    const raw = env[name];
    if (raw === undefined) return fallback;
    if (raw.trim() === "" || raw.endsWith("/")) problems.push(`${name} must be a file path (got "${raw}")`);
    return path.resolve(projectRoot, raw);
  };
  const auditSigningKeyFile = fileSetting("AUDIT_SIGNING_KEY_FILE", path.join(path.dirname(databasePath), "audit-signing-key.pem"));
  const auditCheckpointLog = fileSetting("AUDIT_CHECKPOINT_LOG", path.join(path.dirname(auditSigningKeyFile), "audit-checkpoints.jsonl"));
  if (auditCheckpointLog === auditSigningKeyFile || auditCheckpointLog === databasePath || auditSigningKeyFile === databasePath) {
    problems.push("DATABASE_PATH, AUDIT_SIGNING_KEY_FILE and AUDIT_CHECKPOINT_LOG must be three different files");
  }
  // Beside the audit signing key: the same folder of the service's own (docs/operations.md).
  const webhookKeyFile = fileSetting("WEBHOOK_KEY_FILE", path.join(path.dirname(auditSigningKeyFile), "webhook-key.pem"));
  if ([databasePath, auditSigningKeyFile, auditCheckpointLog].includes(webhookKeyFile)) {
    problems.push("WEBHOOK_KEY_FILE must differ from DATABASE_PATH, AUDIT_SIGNING_KEY_FILE and AUDIT_CHECKPOINT_LOG");
  }
  const allowedHosts = (env.WEBHOOK_ALLOWED_HOSTS ?? "").split(",").map((h) => h.trim().toLowerCase()).filter((h) => h !== "");
  for (const host of allowedHosts) {
    if (!isHostName(host)) problems.push(`WEBHOOK_ALLOWED_HOSTS: "${host}" is not a host name or IP address (list hosts only, comma-separated, e.g. hooks.city.example.lg.jp,10.20.0.8)`);
  }

  // "new,old": the first signs session and device cookies, all verify, so a rotation logs nobody out.
  let sessionSecrets = (env.SESSION_SECRET ?? "").split(",").map((s) => s.trim());
  if (sessionSecrets.every((s) => s === "")) {
    if (production && overrides.sessionSecret !== "optional") problems.push("SESSION_SECRET is required when NODE_ENV=production (at least 32 random bytes)");
    sessionSecrets = production ? [] : [DEVELOPMENT_SECRET];
  } else {
    sessionSecrets.forEach((secret, i) => {
      if (Buffer.byteLength(secret) < 32) {
        problems.push(sessionSecrets.length === 1 ? "SESSION_SECRET must be at least 32 bytes long" : `SESSION_SECRET: secret ${i + 1} of ${sessionSecrets.length} must be at least 32 bytes long`);
      }
    });
  }

  const cookieSecure = parseBoolean(env.COOKIE_SECURE, production);
  if (cookieSecure === undefined) problems.push(`COOKIE_SECURE must be true or false (got "${env.COOKIE_SECURE}")`);

  const trustProxy = parseTrustProxy(env.TRUST_PROXY);

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

  // argon2 runs on libuv's pool: UV_THREADPOOL_SIZE threads (src/start.cts sets one per core; Node's
  // default is 4). Twice as many hashes as threads are handed to it, so that a thread that finishes
  // one starts the next at once instead of idling until the event loop, busy with a commit, hands it
  // work. Hashes waiting in the pool hold no memory: peak argon2 memory stays threads x m.
  const poolThreads = integerSetting("UV_THREADPOOL_SIZE", NODE_DEFAULT_POOL_THREADS, 1, 1024);
  const concurrency = integerSetting("ARGON2_CONCURRENCY", 2 * (poolThreads ?? NODE_DEFAULT_POOL_THREADS), 1, 2048);
  // DOS-04's cap, raised by the operator where many offices share one egress address (a
  // prefecture's municipal gateway, say): they would share 100 login forms per 10 minutes.
  const newSessionsPerAddress = integerSetting("NEW_SESSIONS_PER_ADDRESS", PRODUCTION_LIMITS.newSessions.perAddress, 1, 1_000_000);
  // RL-02 for the same gateways: failed anonymous logins one address (an IPv6 /64) may make a day.
  const loginFailuresPerAddress = integerSetting("LOGIN_FAILURES_PER_ADDRESS_PER_DAY", PRODUCTION_LIMITS.address.limit, 1, 1_000_000);
  const mail = readMailConfig(env, production, port !== undefined && port <= 65535 ? port : 3000, problems);

  if (overrides.limits && production) problems.push("limits cannot be overridden when NODE_ENV=production");
  const limits = mergeLimits(
    {
      ...PRODUCTION_LIMITS,
      argon2: { ...PRODUCTION_LIMITS.argon2, concurrency: concurrency ?? 1 },
      newSessions: { ...PRODUCTION_LIMITS.newSessions, perAddress: newSessionsPerAddress ?? 1 },
      address: { ...PRODUCTION_LIMITS.address, limit: loginFailuresPerAddress ?? 1 },
    },
    production ? {} : overrides.limits ?? {},
  );

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    nodeEnv: nodeEnv as Config["nodeEnv"],
    port: port!,
    host,
    databasePath,
    auditSigningKeyFile,
    auditCheckpointLog,
    sessionSecrets: Object.freeze(sessionSecrets),
    trustProxy,
    cookieSecure: cookieSecure!,
    argon2: Object.freeze(argon2 as Argon2Params),
    poolThreads: poolThreads!,
    limits,
    mail,
    webhooks: Object.freeze({ allowedHosts: Object.freeze(allowedHosts), keyFile: webhookKeyFile }),
  });
}

/**
 * SMTP_URL is never echoed in a problem: it may hold the relay's password. Links in mails must
 * reach the service, so production with SMTP_URL needs PUBLIC_BASE_URL and MAIL_FROM.
 */
function readMailConfig(env: NodeJS.ProcessEnv, production: boolean, port: number, problems: string[]): MailConfig {
  const smtpUrl = env.SMTP_URL ? env.SMTP_URL : null;
  if (smtpUrl !== null) {
    let url: URL | undefined;
    try {
      url = new URL(smtpUrl);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== "smtp:" && url.protocol !== "smtps:") || url.hostname === "") {
      problems.push("SMTP_URL must be smtp://[user:password@]host[:port] or smtps://… (the value is not shown: it may hold a password)");
    }
  }
  let publicBaseUrl = `http://localhost:${port}`;
  if (env.PUBLIC_BASE_URL) {
    const raw = env.PUBLIC_BASE_URL;
    const url = URL.canParse(raw) ? new URL(raw) : undefined;
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
      problems.push(`PUBLIC_BASE_URL must be the service's address, e.g. https://kakunin.example.lg.jp (got "${raw}")`);
    } else {
      publicBaseUrl = url.toString().replace(/\/+$/, "");
    }
  } else if (production && smtpUrl !== null) {
    problems.push("PUBLIC_BASE_URL is required with SMTP_URL when NODE_ENV=production (the links in mails)");
  }
  let from = `Kakunin <noreply@${new URL(publicBaseUrl).hostname}>`;
  if (env.MAIL_FROM) {
    const address = /<([^<>]*)>\s*$/.exec(env.MAIL_FROM)?.[1] ?? env.MAIL_FROM;
    if (!parseMailAddress(address).ok || /[\r\n]/.test(env.MAIL_FROM)) {
      problems.push(`MAIL_FROM must be an address, or a name and <address> (got "${env.MAIL_FROM}")`);
    } else {
      from = env.MAIL_FROM.trim();
    }
  } else if (production && smtpUrl !== null) {
    problems.push("MAIL_FROM is required with SMTP_URL when NODE_ENV=production");
  }
  return Object.freeze({ smtpUrl, from, publicBaseUrl });
}

function mergeLimits(base: Limits, overrides: LimitOverrides): Limits {
  const merged: Record<string, unknown> = {};
  for (const key of Object.keys(base) as (keyof Limits)[]) merged[key] = { ...base[key], ...overrides[key] };
  return deepFreeze(merged as Limits);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
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

/** Express reads a string as addresses, so "1" would mean the address 0.0.0.1: hop counts become
 * numbers, "true"/"false" booleans, anything else (loopback, CIDRs, lists) stays as written. */
function parseTrustProxy(raw: string | undefined): string | number | boolean {
  if (raw === undefined || raw === "" || raw === "false") return false;
  if (raw === "true") return true;
  if (/^\d{1,2}$/.test(raw)) return Number(raw);
  return raw;
}
