import type { Command } from "commander";
import { readFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Clock } from "../../src/clock.js";
import { loadConfig, type Config } from "../../src/config.js";
import { openMigratedDatabase, type Db } from "../../src/db/database.js";
import { describeProblem, type Problem } from "../../src/result.js";
import { createHasher, type Argon2Params, type Hasher } from "../../src/security/hasher.js";
import { createLoginNameHash } from "../../src/security/keyed-hash.js";
import { createServices, type Services } from "../../src/composition.js";
import { notificationSettings } from "../../src/notifications/mail.service.js";
import type { WebhookSettings } from "../../src/notifications/webhook.service.js";
import { createSealer, loadSealingPublicKey, type Sealer } from "../../src/security/sealed-box.js";

/** Anything with write(): process.stdout, or a string collector in tests. */
export type Output = { write(chunk: string): unknown; isTTY?: boolean };

export type CliDeps = {
  stdout: Output;
  stderr: Output;
  /** What --password-stdin reads: the text itself (tests) or a stream (process.stdin). */
  stdin: string | NodeJS.ReadableStream;
  clock: Clock;
  /** A ready hasher (tests), else one is made from argon2, else from config.argon2. */
  hasher?: Hasher;
  argon2?: Argon2Params;
  env: NodeJS.ProcessEnv;
  /** Who the audit trail names for this run: the OS user unless injected. */
  actor: string;
};

/** Wraps a command action that returns its exit status (commander's own args: arguments, options, command). */
export type Run = (fn: (...args: any[]) => Promise<number>) => (...args: any[]) => Promise<void>;

/** What every command action gets: output, the actor, and the database opened on demand. */
export type CliContext = {
  deps: CliDeps;
  out(line?: string): void;
  err(line?: string): void;
  /** Prints refusals, one per line, and returns exit status 1. */
  refuse(problems: Problem[], heading?: string): 1;
  config(): Config;
  /** The signing key and checkpoint log of the --db database: beside it unless AUDIT_* say otherwise. */
  auditFiles(command: Command): { keyFile: string; logFile: string };
  /** The service's sealing key (WEBHOOK_KEY_FILE): beside the --db database unless the environment names it. */
  sealingKeyFile(command: Command): string;
  /** Opens (and migrates) the --db database, runs fn over its services and always closes it. */
  withServices<T>(command: Command, fn: (services: Services, db: Db) => Promise<T> | T): Promise<T>;
  readStdinLine(prompt: string): Promise<string | undefined>;
  readFile(file: string): { ok: true; bytes: Buffer } | { ok: false; status: 1 };
};

export function createContext(deps: CliDeps): CliContext {
  let config: Config | undefined;
  const err = (line = "") => void deps.stderr.write(`${line}\n`);
  const ctx: CliContext = {
    deps,
    out: (line = "") => void deps.stdout.write(`${line}\n`),
    err,
    refuse(problems, heading) {
      if (heading) err(`error: ${heading}`);
      for (const p of problems) err(heading ? describeProblem(p) : `error: ${describeProblem(p)}`);
      return 1;
    },
    // The CLI signs no cookie: SESSION_SECRET is needed only to find a login id that names no officer.
    config: () => (config ??= loadConfig(deps.env, { sessionSecret: "optional" })),
    auditFiles(command) {
      const option = command.optsWithGlobals<{ db?: string }>().db;
      // The same defaults as the service's, from the database this command works on.
      const of = option ? loadConfig({ ...deps.env, DATABASE_PATH: path.resolve(option) }, { sessionSecret: "optional" }) : ctx.config();
      return { keyFile: of.auditSigningKeyFile, logFile: of.auditCheckpointLog };
    },
    sealingKeyFile(command) {
      const option = command.optsWithGlobals<{ db?: string }>().db;
      return option ? loadConfig({ ...deps.env, DATABASE_PATH: path.resolve(option) }, { sessionSecret: "optional" }).webhooks.keyFile : ctx.config().webhooks.keyFile;
    },
    async withServices(command, fn) {
      const config = ctx.config(); // fail fast on a bad environment, even when --db makes it unneeded
      const option = command.optsWithGlobals<{ db?: string }>().db;
      const file = option ? path.resolve(option) : config.databasePath;
      const hasher = deps.hasher ?? (await createHasher(deps.argon2 ?? config.argon2));
      let db: Db;
      try {
        db = openMigratedDatabase(file);
      } catch (error) {
        throw new Error(`cannot open the database ${file}: ${(error as Error).message}`);
      }
      try {
        const secret = config.sessionSecrets[0];
        return await fn(createServices({
          db, clock: deps.clock, hasher, limits: config.limits, notifications: notificationSettings(config.mail), webhooks: cliWebhookSettings(config, ctx.sealingKeyFile(command)),
          ...(secret ? { loginNames: createLoginNameHash(secret) } : {}),
        }), db);
      } finally {
        db.close();
      }
    },
    async readStdinLine(prompt) {
      const stdin = deps.stdin;
      if (typeof stdin === "string") return stdin.split(/\r?\n/)[0];
      if ((stdin as { isTTY?: boolean }).isTTY) err(prompt);
      const lines = createInterface({ input: stdin, crlfDelay: Infinity, terminal: false });
      try {
        for await (const line of lines) return line;
        return undefined;
      } finally {
        lines.close();
      }
    },
    readFile(file) {
      try {
        return { ok: true, bytes: readFileSync(file) };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : (error as Error).message;
        err(`error: cannot read ${file}: ${reason}`);
        return { ok: false, status: 1 };
      }
    },
  };
  return ctx;
}

/**
 * The CLI seals webhook secrets with the service's public key (the .pub beside WEBHOOK_KEY_FILE)
 * and can open none: administrators never read a stored secret back.
 */
function cliWebhookSettings(config: Config, keyFile: string): WebhookSettings {
  let sealer: Sealer | undefined;
  return {
    policy: { production: config.nodeEnv === "production", allowedHosts: config.webhooks.allowedHosts },
    keys: {
      sealer() {
        if (sealer) return sealer;
        const loaded = loadSealingPublicKey(keyFile);
        if (!loaded.ok) throw new Error(loaded.problem);
        return (sealer = createSealer(loaded.publicKey));
      },
      opener() {
        throw new Error("the admin CLI cannot read webhook secrets: only the service opens them");
      },
    },
  };
}

// East Asian wide and full-width characters take two terminal columns.
const WIDE = /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]/u;

function displayWidth(s: string): number {
  let width = 0;
  for (const ch of s) width += WIDE.test(ch) ? 2 : 1;
  return width;
}

/** A plain table: a header row, then rows, columns padded for a terminal with Japanese text. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ""))));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i]! - displayWidth(c)))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}
