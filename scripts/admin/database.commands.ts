import type { KeyObject } from "node:crypto";
import type { Command } from "commander";
import { existsSync } from "node:fs";
import path from "node:path";
import { backupDatabase, restoreDatabase } from "../../src/operations/backup.js";
import { checkDatabase, type DatabaseCheck } from "../../src/operations/check.js";
import { compareWithReplica } from "../../src/operations/replica-check.js";
import { latestSchemaVersion, openDatabase, type Db } from "../../src/db/database.js";
import { resolvePublicKey, resolveTrust } from "./audit.commands.js";
import type { CliContext, Run } from "./context.js";

/** The --db file, or DATABASE_PATH, or the default; the config is read (and checked) either way. */
export function databaseFile(ctx: CliContext, command: Command): string {
  const config = ctx.config();
  const option = command.optsWithGlobals<{ db?: string }>().db;
  return option ? path.resolve(option) : config.databasePath;
}

/** Opens a database that must already exist: checking or backing up a mistyped path must not
 * create an empty database and call it sound. Never migrates. */
async function withExistingDatabase<T>(ctx: CliContext, command: Command, fn: (db: Db, file: string) => Promise<T> | T): Promise<T | 1> {
  const file = databaseFile(ctx, command);
  if (!existsSync(file)) {
    ctx.err(`error: there is no database at ${file}`);
    return 1;
  }
  let db: Db;
  try {
    db = openDatabase(file, { mustExist: true });
  } catch (error) {
    ctx.err(`error: cannot open the database ${file}: ${(error as Error).message}`);
    return 1;
  }
  try {
    return await fn(db, file);
  } finally {
    db.close();
  }
}

function describeChain(check: DatabaseCheck): string {
  if (!check.chain.ok) return "audit trail BROKEN";
  if (!check.head) return "audit trail empty";
  return `audit trail ${check.chain.rows} row(s), chain intact, ${check.checkpoints} signed checkpoint(s), last row ${check.head.id} sha256 ${check.head.hash}`;
}

/** Seconds of replication lag `check --against-replica` accepts by default: Litestream ships once
 * per sync interval (1 s here), plus an upload to object storage. */
const DEFAULT_MAX_LAG_SECONDS = 10;

function describeHead(head: { id: number; hash: string } | undefined): string {
  return head ? `last audit row ${head.id} sha256 ${head.hash}` : "no audit rows";
}

/** The second half of `check --against-replica`: prints the comparison, returns the exit status. */
async function checkReplica(ctx: CliContext, db: Db, replica: string, maxLagSeconds: number, publicKey: KeyObject | undefined): Promise<0 | 1> {
  const result = await compareWithReplica(db, replica, { clock: ctx.deps.clock, env: ctx.deps.env, maxLagMs: maxLagSeconds * 1000, ...(publicKey ? { publicKey } : {}) });
  if (!result.ok) {
    ctx.err(`error: replica check FAILED: ${result.problem}`);
    for (const problem of result.problems ?? []) ctx.err(`  ${problem}`);
    return 1;
  }
  ctx.out(`replica ${replica}`);
  ctx.out(`  schema version ${result.replica.userVersion} (live: ${result.live.userVersion}), ${describeHead(result.replica.head)}`);
  const lag = `${result.behindRows} audit row(s) behind the live database, the oldest committed ${(result.lagMs / 1000).toFixed(1)} s ago`;
  if (!result.current) {
    const why = result.replica.userVersion !== result.live.userVersion
      ? `its schema version differs from the live database's`
      : `${lag} (allowed: ${maxLagSeconds} s)`;
    ctx.err(`error: the replica is BEHIND: ${why}; is litestream running? (systemctl status litestream, docs/operations.md)`);
    return 1;
  }
  ctx.out(result.behindRows === 0 ? "  holds every audit row of the live database" : `  ${lag}: in transit (allowed: ${maxLagSeconds} s)`);
  ctx.out("replica current");
  return 0;
}

/** backup, restore, check. */
export function addDatabaseCommands(program: Command, ctx: CliContext, run: Run): void {
  program
    .command("backup")
    .description("copy the live database to FILE, consistent while the server runs; the copy is checked before it gets its name")
    .argument("<file>", "the backup file to write (its folder must exist)")
    .option("--force", "replace FILE if it exists")
    .action(run(async (file: string, opts: { force?: boolean }, cmd: Command) =>
      withExistingDatabase(ctx, cmd, async (db) => {
        const key = resolvePublicKey(ctx, cmd, undefined);
        if (!key.ok) return 1;
        let result;
        try {
          result = await backupDatabase(db, file, { force: opts.force === true, actor: ctx.deps.actor, clock: ctx.deps.clock, trust: { publicKey: key.key } });
        } catch (error) {
          ctx.err(`error: the backup failed, nothing was written to ${file}: ${(error as Error).message}`);
          return 1;
        }
        if (!result.ok) {
          ctx.err(`error: ${result.problem}`);
          return 1;
        }
        ctx.out(`backup written to ${result.file} (${result.bytes} bytes): integrity ok, ${describeChain(result.check)}`);
        return 0;
      })));

  program
    .command("restore")
    .description("replace the live database with a backup FILE that passes integrity_check and the audit chain; the server must be stopped")
    .argument("<file>", "a backup written by \"admin backup\" (or a Litestream restore)")
    .addHelpText("after", `
The live database is kept beside it as <database>.before-restore-<time>. Everyone must log in
again afterwards. Anything done after the backup was taken (issues, key rotations, officers
disabled) is not in it: see docs/operations.md, "Restore drill".`)
    .action(run(async (file: string, _opts: unknown, cmd: Command) => {
      const target = databaseFile(ctx, cmd);
      ctx.err("restore: the server must be stopped; this refuses to run while any process has the database open");
      const key = resolvePublicKey(ctx, cmd, undefined);
      if (!key.ok) return 1;
      const result = await restoreDatabase(file, target, {
        actor: ctx.deps.actor, clock: ctx.deps.clock, trust: { publicKey: key.key }, checkpointLog: ctx.auditFiles(cmd).logFile,
      });
      if (!result.ok) {
        ctx.err(`error: ${result.problem}`);
        for (const problem of result.problems ?? []) ctx.err(`  ${problem}`);
        return 1;
      }
      if (result.warning) ctx.err(`warning: ${result.warning}`);
      ctx.out(`restored ${target} from ${result.replacedBy}: integrity ok, ${describeChain(result.check)}`);
      if (result.keptAs) ctx.out(`the database it replaced is kept as ${result.keptAs}`);
      ctx.out(`${result.sessionsEnded} session(s) ended: officers log in again`);
      return 0;
    }));

  program
    .command("check")
    .description("check the live database: integrity_check, foreign_key_check, the schema against the migrations' and the signed audit trail (exit 1 naming the problem)")
    .option("--against-replica <dir-or-url>", "also restore the latest state of this Litestream replica (a folder or a URL such as s3://bucket/path) into a temporary file, check it and compare its audit head with the live database")
    .option("--max-lag <seconds>", `with --against-replica: how old the oldest unreplicated audit row may be (default ${DEFAULT_MAX_LAG_SECONDS})`)
    .action(run(async (opts: { againstReplica?: string; maxLag?: string }, cmd: Command) => {
      let maxLagSeconds = DEFAULT_MAX_LAG_SECONDS;
      if (opts.maxLag !== undefined) {
        if (!/^\d+(\.\d+)?$/.test(opts.maxLag)) {
          ctx.err(`error: --max-lag must be a number of seconds (0 or more), not "${opts.maxLag}"`);
          return 1;
        }
        if (opts.againstReplica === undefined) {
          ctx.err("error: --max-lag applies only with --against-replica");
          return 1;
        }
        maxLagSeconds = Number(opts.maxLag);
      }
      return withExistingDatabase(ctx, cmd, async (db, file) => {
        const trust = resolveTrust(ctx, cmd, undefined);
        if (!trust) return 1;
        let check: DatabaseCheck;
        try {
          check = checkDatabase(db, trust);
        } catch (error) {
          ctx.err(`error: ${file} cannot be checked: ${(error as Error).message}`);
          return 1;
        }
        ctx.out(`database ${file}`);
        ctx.out(`  schema version ${check.userVersion} (this code: ${latestSchemaVersion()}), journal_mode ${check.journalMode}`);
        if (!check.ok) {
          ctx.err(`error: database check FAILED (${check.problems.length} problem${check.problems.length === 1 ? "" : "s"}):`);
          for (const problem of check.problems) ctx.err(`  ${problem}`);
          return 1;
        }
        ctx.out("  integrity_check ok, foreign_key_check ok");
        ctx.out(`  ${describeChain(check)}`);
        ctx.out("check OK");
        return opts.againstReplica === undefined ? 0 : checkReplica(ctx, db, opts.againstReplica, maxLagSeconds, trust.publicKey);
      });
    }));
}
