import Database from "better-sqlite3";
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { createAuditService, type TrailTrust } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import { createRepositories } from "../composition.js";
import { latestSchemaVersion, migrate, openDatabase, probeExclusive, type Db } from "../db/database.js";
import { createTransactions } from "../db/transactions.js";
import { checkDatabase, schemaDifference, type DatabaseCheck } from "./check.js";

/** The public key a copy's checkpoints are checked with (a copy has no checkpoint log of its own). */
type CopyTrust = Pick<TrailTrust, "publicKey">;

function auditServiceOf(db: Db, clock: Clock) {
  const { audit, auditCheckpoints } = createRepositories(db);
  return createAuditService({ audit, checkpoints: auditCheckpoints, tx: createTransactions(db), clock });
}

export type BackupResult =
  | { ok: true; file: string; bytes: number; check: DatabaseCheck }
  | { ok: false; problem: string };

export type RestoreResult =
  | { ok: true; replacedBy: string; keptAs: string | undefined; check: DatabaseCheck; sessionsEnded: number; warning?: string }
  | { ok: false; problem: string; problems?: string[] };

/** better-sqlite3 copies 100 pages per event-loop turn unless told otherwise. A write by another
 * connection between two turns restarts the copy, so under steady load it might never finish; all
 * pages in one step is one read transaction: a consistent snapshot that writers (WAL) do not wait for. */
const ALL_PAGES = 0x7fffffff;

/** SQLite's companions of a database file: deleting or mispairing them corrupts data. */
const SIDECARS = ["-wal", "-shm", "-journal"];

/** Writes a file's (or a folder's) data to the disk before we rely on it (a rename is only as
 * durable as the folder entry; VACUUM INTO and the backup API do not fsync for us). */
function fsyncPath(file: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    fsyncSync(fd);
  } catch (error) {
    // Some platforms refuse to fsync a folder; the file's own fsync is what matters most.
    if (!statSync(file).isDirectory()) throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function removeWithSidecars(file: string): void {
  for (const suffix of ["", ...SIDECARS]) rmSync(file + suffix, { force: true });
}

/** Copies `source` (an open connection) into `file`, a new single file in rollback-journal mode,
 * so that it is complete without a -wal beside it. Returns the copy's check. */
async function copyTo(source: Db, file: string, options: { migrate?: boolean; trust: CopyTrust }): Promise<DatabaseCheck> {
  // Created 0600 before SQLite writes a page (its journal takes the same mode), whatever the umask:
  // a backup holds every hash, officer and guarantee.
  closeSync(openSync(file, "w", 0o600));
  chmodSync(file, 0o600);
  await source.backup(file, { progress: () => ALL_PAGES });
  const copy = new Database(file, { fileMustExist: true });
  try {
    copy.pragma("journal_mode = DELETE");
    // A backup taken by an older release is brought to this code's schema (in the private copy) before it is checked.
    if (options.migrate) migrate(copy);
    return checkDatabase(copy, { publicKey: options.trust.publicKey, log: undefined });
  } finally {
    copy.close();
  }
}

/**
 * `admin backup FILE`: an online copy of the live database, consistent while the server runs. The
 * copy is made next to FILE under a temporary name, checked (integrity and audit chain), synced
 * to disk, and only then given its name, so that FILE is never a half-written backup. An existing
 * FILE is kept unless `force`.
 */
export async function backupDatabase(db: Db, file: string, options: { force?: boolean; actor: string; clock: Clock; trust: CopyTrust }): Promise<BackupResult> {
  const target = path.resolve(file);
  if (target === path.resolve(db.name)) return { ok: false, problem: `${file} is the live database itself` };
  if (existsSync(target) && !options.force) return { ok: false, problem: `${file} exists already (add --force to replace it)` };
  const dir = path.dirname(target);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return { ok: false, problem: `the folder ${dir} does not exist` };

  const partial = `${target}.partial-${process.pid}`;
  try {
    const check = await copyTo(db, partial, { trust: options.trust });
    if (!check.ok) return { ok: false, problem: `the copy failed its check, nothing was written: ${check.problems.join("; ")}` };
    fsyncPath(partial);
    if (options.force) {
      renameSync(partial, target);
    } else {
      // link() refuses an existing name atomically: a FILE created meanwhile is not overwritten.
      try {
        linkSync(partial, target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") return { ok: false, problem: `${file} exists already (add --force to replace it)` };
        throw error;
      }
    }
    fsyncPath(dir);
    const bytes = statSync(target).size;
    auditServiceOf(db, options.clock).record({
      event: "db_backup", outcome: "ok", actorKind: "admin", actor: options.actor,
      detail: { file: target, bytes, auditRows: check.chain.rows, lastHash: check.head?.hash ?? null },
    });
    return { ok: true, file: target, bytes, check };
  } finally {
    removeWithSidecars(partial);
  }
}

/** The log names checkpoints of the trail the restore replaced; kept, but no longer compared. */
function moveCheckpointLogAside(log: string | undefined, clock: Clock): string[] {
  if (log === undefined || !existsSync(log)) return [];
  const aside = `${log}.before-restore-${timestamp(clock)}`;
  try {
    renameSync(log, aside);
    return [];
  } catch (error) {
    return [`the checkpoint log ${log} could not be moved aside (${(error as Error).message}): as the service's user, rename it to ${aside} before starting the service, or "audit verify" reports its newer checkpoints as missing`];
  }
}

function timestamp(clock: Clock): string {
  return clock.now().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/**
 * `admin restore FILE`: replaces the live database with a backup, after proving the backup sound
 * (integrity_check, foreign_key_check, the audit chain and its checkpoints, a schema no newer than
 * this code and, before anything is migrated, exactly the migrations' at its version). The
 * backup is copied to a temporary file next to the live one, migrated, its sessions ended (nobody
 * stays logged in across a restore), the restore audited in it, synced to disk, and renamed into
 * place. The replaced database is kept beside it, never deleted. Refused while any process (the
 * server) has the live database open. The checkpoint log, which holds checkpoints the backup
 * predates, is moved aside beside the database it belongs to.
 */
export async function restoreDatabase(source: string, target: string, options: { actor: string; clock: Clock; trust: CopyTrust; checkpointLog?: string }): Promise<RestoreResult> {
  const from = path.resolve(source);
  const to = path.resolve(target);
  if (from === to) return { ok: false, problem: `${source} is the live database itself` };
  if (!existsSync(from) || !statSync(from).isFile()) return { ok: false, problem: `${source} is not a file` };
  const dir = path.dirname(to);
  if (!existsSync(dir)) return { ok: false, problem: `the folder ${dir} does not exist` };

  const restoring = `${to}.restoring-${process.pid}`;
  removeWithSidecars(restoring);
  try {
    let check: DatabaseCheck;
    // Reading a WAL-mode file (a copy of a live database, a Litestream restore) makes SQLite create
    // an empty -wal and -shm beside it, even read-only: those we remove again.
    const strays = ["-wal", "-shm"].filter((suffix) => !existsSync(from + suffix));
    try {
      const backup = new Database(from, { readonly: true, fileMustExist: true });
      try {
        // Compared before migrating: the migrations' own objects at the backup's version, nothing else.
        const version = backup.pragma("user_version", { simple: true }) as number;
        const difference = version <= latestSchemaVersion() ? schemaDifference(backup) : undefined;
        if (difference) return { ok: false, problem: `${source} was refused, the live database is unchanged:`, problems: [difference] };
        check = await copyTo(backup, restoring, { migrate: true, trust: options.trust });
      } finally {
        backup.close();
        for (const suffix of strays) {
          if (existsSync(from + suffix) && (suffix === "-shm" || statSync(from + suffix).size === 0)) rmSync(from + suffix, { force: true });
        }
      }
    } catch (error) {
      return { ok: false, problem: `${source} cannot be read as a SQLite database (${(error as Error).message})` };
    }
    if (!check.ok) return { ok: false, problem: `${source} was refused, the live database is unchanged:`, problems: check.problems };

    const live = existsSync(to) ? probeExclusive(to) : { free: true as const };
    if (!live.free && live.busy) {
      return { ok: false, problem: `the live database ${target} is open in another process: stop the server (and any admin command) first` };
    }
    const keptAs = existsSync(to) ? `${to}.before-restore-${timestamp(options.clock)}` : undefined;

    const db = openDatabase(restoring, { mustExist: true });
    let sessionsEnded: number;
    try {
      db.pragma("journal_mode = DELETE");
      migrate(db);
      const repositories = createRepositories(db);
      const audit = auditServiceOf(db, options.clock);
      db.transaction(() => {
        sessionsEnded = repositories.sessions.deleteAll();
        audit.appendInTransaction({
          event: "db_restore", outcome: "ok", actorKind: "admin", actor: options.actor,
          detail: { from, auditRows: check.chain.rows, sessionsEnded, replaced: keptAs ?? null },
        });
      }).immediate();
      check = checkDatabase(db, { publicKey: options.trust.publicKey, log: undefined });
    } finally {
      db.close();
    }
    fsyncPath(restoring);

    if (keptAs !== undefined) {
      for (const suffix of ["", ...SIDECARS]) if (existsSync(to + suffix)) renameSync(to + suffix, keptAs + suffix);
    }
    renameSync(restoring, to);
    fsyncPath(dir);
    const warnings = [
      ...(live.free ? [] : [`the old database could not be opened to check that no process uses it (${live.message}); make sure the server is stopped`]),
      ...moveCheckpointLogAside(options.checkpointLog, options.clock),
    ];
    return {
      ok: true, replacedBy: from, keptAs, check, sessionsEnded: sessionsEnded!,
      ...(warnings.length > 0 ? { warning: warnings.join("; ") } : {}),
    };
  } finally {
    removeWithSidecars(restoring);
  }
}
