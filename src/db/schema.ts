import Database from "better-sqlite3";
import { migrate, type Db } from "./database.js";
import { migrationsDir } from "../paths.js";

/** One schema object as sqlite_master holds it, its SQL with whitespace normalised. */
export type SchemaObject = { type: string; name: string; tblName: string; sql: string };

const normalise = (sql: string | null) => (sql ?? "").replace(/\s+/g, " ").trim();

/**
 * Tables, indexes, triggers and views, by type and name. Left out: SQLite's own objects (sqlite_*)
 * and the two bookkeeping tables Litestream adds to a database it replicates (a restored replica
 * holds them); only those tables by name, so a trigger or view on them still counts.
 */
export function readSchema(db: Db): SchemaObject[] {
  return (db.prepare(`SELECT type, name, tbl_name, sql FROM sqlite_master
                       WHERE name NOT LIKE 'sqlite_%' AND NOT (type = 'table' AND name IN ('_litestream_seq', '_litestream_lock'))
                       ORDER BY type, name`)
    .all() as { type: string; name: string; tbl_name: string; sql: string | null }[])
    .map((r) => ({ type: r.type, name: r.name, tblName: r.tbl_name, sql: normalise(r.sql) }));
}

/** What the migrations produce at `version`: an in-memory database migrated that far. The
 * functions views call are registered by the caller (`prepare`) as on a live connection. */
export function expectedSchema(version: number, prepare: (db: Db) => void = () => {}, dir: string = migrationsDir): SchemaObject[] {
  const db = new Database(":memory:");
  try {
    prepare(db);
    migrate(db, dir, version);
    return readSchema(db);
  } finally {
    db.close();
  }
}

/** The first difference between a file's schema and the expected one, in an operator's words. */
export function firstSchemaDifference(actual: SchemaObject[], expected: SchemaObject[]): string | undefined {
  const key = (o: SchemaObject) => `${o.type} ${o.name}`;
  const found = new Map(actual.map((o) => [key(o), o]));
  const wanted = new Map(expected.map((o) => [key(o), o]));
  for (const o of expected) {
    const a = found.get(key(o));
    if (!a) return `${key(o)} is missing`;
    if (a.tblName !== o.tblName) return `${key(o)} is on ${a.tblName}, the migrations put it on ${o.tblName}`;
    if (a.sql !== o.sql) return `${key(o)} differs from what the migrations define (found: ${a.sql})`;
  }
  for (const a of actual) if (!wanted.has(key(a))) return `${key(a)} (on ${a.tblName}) is not defined by the migrations: ${a.sql}`;
  return undefined;
}
