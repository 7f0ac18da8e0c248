/**
 * The admin CLI (`npm run admin -- <command>`): parse arguments, open the database, call the same
 * services the web app uses, print, and exit 0 (done), 1 (refused) or 2 (usage).
 */
import { Command, CommanderError } from "commander";
import { realpathSync } from "node:fs";
import { userInfo } from "node:os";
import { fileURLToPath } from "node:url";
import { systemClock } from "../src/clock.js";
import { ConfigError } from "../src/config.js";
import { addAuditCommands } from "./admin/audit.commands.js";
import { createContext, type CliDeps } from "./admin/context.js";
import { addApiClientCommands } from "./admin/api-client.commands.js";
import { addDatabaseCommands } from "./admin/database.commands.js";
import { addGuaranteeCommands } from "./admin/guarantee.commands.js";
import { addLockoutCommands } from "./admin/lockout.commands.js";
import { addNotificationCommands } from "./admin/notification.commands.js";
import { addRegistryCommands } from "./admin/registry.commands.js";
import { addSessionCommands } from "./admin/session.commands.js";
import { addSystemCommands } from "./admin/system.commands.js";
import { addWebhookCommands } from "./admin/webhook.commands.js";

export type { CliDeps } from "./admin/context.js";

export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "admin";
  }
}

function buildProgram(ctx: ReturnType<typeof createContext>, setStatus: (status: number) => void): Command {
  const program = new Command("admin")
    .description("Kakunin (確認) admin: orderers, issuers, officers and guarantees")
    .option("--db <path>", "the SQLite database file (default: DATABASE_PATH or ./data/kakunin.sqlite)")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void ctx.deps.stdout.write(s),
      writeErr: (s) => void ctx.deps.stderr.write(s),
      outputError: (s, write) => write(s),
    })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError("(add --help for usage)")
    .allowExcessArguments(false);

  // Actions return their exit status; commander only sees them finish.
  const run = (fn: (...args: any[]) => Promise<number>) => async (...args: any[]) => setStatus(await fn(...args));
  addRegistryCommands(program, ctx, run);
  addNotificationCommands(program, ctx, run);
  addLockoutCommands(program, ctx, run);
  addSessionCommands(program, ctx, run);
  addGuaranteeCommands(program, ctx, run);
  addApiClientCommands(program, ctx, run);
  addWebhookCommands(program, ctx, run);
  addSystemCommands(program, ctx, run);
  addAuditCommands(program, ctx, run);
  addDatabaseCommands(program, ctx, run);
  return program;
}

/** Runs one admin command and returns its exit status; deps let tests run it in-process. */
export async function main(argv: string[], deps: Partial<CliDeps> = {}): Promise<number> {
  const full: CliDeps = {
    stdout: deps.stdout ?? process.stdout,
    stderr: deps.stderr ?? process.stderr,
    stdin: deps.stdin ?? process.stdin,
    clock: deps.clock ?? systemClock,
    hasher: deps.hasher,
    argon2: deps.argon2,
    env: deps.env ?? process.env,
    actor: deps.actor ?? osUser(),
  };
  const ctx = createContext(full);
  let status = EXIT_OK;
  const program = buildProgram(ctx, (s) => { status = s; });
  try {
    await program.parseAsync(argv, { from: "user" });
    return status;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help, `help <command>` and --version end "successfully"; everything else commander throws
      // (including the help it shows for a bare group such as `officer`) is a usage error.
      const helped = error.code === "commander.helpDisplayed" || error.code === "commander.version" || (error.code === "commander.help" && error.exitCode === 0);
      return helped ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      ctx.err(`error: ${error.message}`);
      return EXIT_REFUSED;
    }
    const message = error instanceof Error ? error.message : String(error);
    ctx.err(`error: ${message.replace(/\s*\n\s*/g, " ")}`);
    if (full.env.KAKUNIN_DEBUG === "1" && error instanceof Error && error.stack) ctx.err(error.stack);
    return EXIT_REFUSED;
  }
}

function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await main(process.argv.slice(2));
}
