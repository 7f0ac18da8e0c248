import Database from "better-sqlite3";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { migrationsDir } from "../paths.js";

export type Db = Database.Database;

/** Opens the database file (creating it and its folder unless it must exist) with the pragmas
 * every connection needs: WAL for concurrent readers, FULL sync so a committed issuance survives
 * a power cut, foreign keys, and a busy timeout so the CLI and the server can share the file. */
export function openDatabase(file: string, options: { mustExist?: boolean } = {}): Db {
  if (file !== ":memory:" && !options.mustExist) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file, { timeout: 5000, fileMustExist: options.mustExist === true });
  if (file !== ":memory:") db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  return db;
}

/**
 * Runs `transaction` (a better-sqlite3 transaction, begun IMMEDIATE here) and commits it without
 * waiting for the disk: in WAL mode with synchronous=NORMAL the commit survives a crash of the
 * process, and a power cut can lose it only together with every commit after it, because the next
 * FULL commit syncs the log up to and including it. For writes nobody has been answered about yet,
 * such as a throttle's reservation before argon2. Inside an open transaction SQLite cannot change
 * the level, and the outer commit decides anyway: the transaction then simply joins it.
 */
export function commitUnsynced<A extends unknown[], R>(db: Db, transaction: Database.Transaction<(...args: A) => R>, ...args: A): R {
  if (db.inTransaction) return transaction(...args);
  const level = db.pragma("synchronous", { simple: true }) as number;
  // exec, not a prepared statement: SQLite applies a PRAGMA setting when the statement is prepared.
  db.exec("PRAGMA synchronous = NORMAL");
  try {
    return transaction.immediate(...args);
  } finally {
    // The wrapper has committed or rolled back, so the level can be set again; if it could not be,
    // every later commit would silently skip its fsync: better to stop.
    db.exec(`PRAGMA synchronous = ${level}`);
    if (db.pragma("synchronous", { simple: true }) !== level) throw new Error("could not restore PRAGMA synchronous");
  }
}

/** Up to this size the whole file is read by quick_check at start-up (about a second); above it,
 * reading gigabytes would hold the start for minutes, so `admin check` does that job (daily, see
 * docs/operations.md) and the start reads the first and last page of every table. */
export const FULL_CHECK_AT_STARTUP_MAX_BYTES = 256 * 1024 * 1024;

/** Takes the write lock once (so a read-only file or folder fails now, not at the first login)
 * and checks the file: quick_check when it is small, otherwise every table's first and last row
 * (a truncated or overwritten file fails there). "ok", or the first finding. */
export function checkAtStartup(db: Db, fullCheckMaxBytes = FULL_CHECK_AT_STARTUP_MAX_BYTES): { finding: string; full: boolean } {
  db.exec("BEGIN IMMEDIATE; COMMIT");
  const bytes = (db.pragma("page_count", { simple: true }) as number) * (db.pragma("page_size", { simple: true }) as number);
  if (bytes <= fullCheckMaxBytes) return { finding: db.pragma("quick_check", { simple: true }) as string, full: true };
  const tables = db.prepare<[], { name: string; withoutRowid: number }>(
    "SELECT name, sql LIKE '%WITHOUT ROWID%' AS withoutRowid FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all();
  try {
    for (const { name, withoutRowid } of tables) {
      const quoted = `"${name.replaceAll('"', '""')}"`;
      db.prepare(`SELECT * FROM ${quoted} LIMIT 1`).get();
      if (!withoutRowid) db.prepare(`SELECT * FROM ${quoted} ORDER BY rowid DESC LIMIT 1`).get();
    }
  } catch (error) {
    return { finding: (error as Error).message, full: false };
  }
  return { finding: "ok", full: false };
}

type Migration = { version: number; name: string; sql: string };

function readMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .filter((name) => /^\d{3}-[a-z0-9-]+\.sql$/.test(name))
    .sort()
    .map((name) => ({ version: Number(name.slice(0, 3)), name, sql: readFileSync(path.join(dir, name), "utf8") }));
}

/** Applies the numbered migrations above PRAGMA user_version (up to `upTo`, else all), each in its
 * own transaction together with its version bump; a re-run finds nothing to do. Returns the names applied. */
export function migrate(db: Db, dir: string = migrationsDir, upTo: number = Infinity): string[] {
  const applied: string[] = [];
  for (const migration of readMigrations(dir).filter((m) => m.version <= upTo)) {
    // Up to date: no write lock at all (a busy writer must not delay every start-up or CLI run).
    if (migration.version <= (db.pragma("user_version", { simple: true }) as number)) continue;
    // Read again under the write lock, so a server and the CLI starting together on a new file
    // never both apply the same migration.
    const ran = db.transaction(() => {
      const current = db.pragma("user_version", { simple: true }) as number;
      if (migration.version <= current) return false;
      if (migration.version !== current + 1) {
        throw new Error(`migration ${migration.name} does not follow version ${current}`);
      }
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
      return true;
    }).immediate();
    if (ran) applied.push(migration.name);
  }
  return applied;
}

/** The schema version this code migrates to: the highest numbered migration. */
export function latestSchemaVersion(dir: string = migrationsDir): number {
  return readMigrations(dir).reduce((max, m) => Math.max(max, m.version), 0);
}

export function openMigratedDatabase(file: string): Db {
  const db = openDatabase(file);
  migrate(db);
  return db;
}

/** Whether any other connection, in this process or another, has the database open: the server
 * keeps it open while it runs. An exclusive lock is granted only when nobody else holds one. */
export function probeExclusive(file: string): { free: true } | { free: false; busy: boolean; message: string } {
  let db: Db | undefined;
  try {
    db = new Database(file, { fileMustExist: true, timeout: 250 });
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE");
    db.exec("COMMIT");
    // Alone: fold a leftover -wal (after a crash) into the file, so the old database is whole on its own.
    db.pragma("wal_checkpoint(TRUNCATE)");
    return { free: true };
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    return { free: false, busy: code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"), message: (error as Error).message };
  } finally {
    db?.close();
  }
}
