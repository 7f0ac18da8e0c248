import type { ChainCheck, TrailTrust } from "../audit/audit.service.js";
import { verifyTrail } from "../audit/audit-verify.js";
import { createRepositories } from "../composition.js";
import { latestSchemaVersion, type Db } from "../db/database.js";
import { expectedSchema, firstSchemaDifference, readSchema } from "../db/schema.js";

export type DatabaseCheck = {
  ok: boolean;
  /** One line per problem, naming it: what an operator reads. */
  problems: string[];
  chain: ChainCheck;
  /** Signed checkpoints found sound (0 when the trail is broken or has none). */
  checkpoints: number;
  head: { id: number; hash: string } | undefined;
  userVersion: number;
  /** Persistent in the file, unlike the per-connection pragmas: "wal" for a live database. */
  journalMode: string;
};

type ForeignKeyProblem = { table: string; rowid: number | null; parent: string; fkid: number };

/** Reports at most this many lines of integrity_check (SQLite's own default is 100). */
const INTEGRITY_LINES = 20;

/** The triggers that keep the audit tables append-only, as the migrations define them. */
export function expectedAuditTriggers(): TrailTrust["expectedTriggers"] {
  return expectedSchema(latestSchemaVersion()).filter((o) => o.type === "trigger" && o.tblName.startsWith("audit_"));
}

/** The first way a file's tables, indexes, triggers and views differ from what the migrations
 * produce at its own version (an extra trigger, say, that grants an orderer every new certificate). */
export function schemaDifference(db: Db): string | undefined {
  const version = db.pragma("user_version", { simple: true }) as number;
  const difference = firstSchemaDifference(readSchema(db), expectedSchema(version));
  return difference && `schema differs from what the migrations produce at version ${version}: ${difference}`;
}

/**
 * Everything `admin check` and `admin restore` need to know about a database: SQLite's
 * integrity_check (pages, indexes, CHECK and NOT NULL), foreign_key_check (which integrity_check
 * does not do), a schema no newer than this code and equal to the migrations', and the audit trail:
 * its hash chain, its signed checkpoints (with `trust`'s public key; against its log when given).
 */
export function checkDatabase(db: Db, trust: Omit<TrailTrust, "expectedTriggers"> = { publicKey: undefined, log: undefined }): DatabaseCheck {
  const problems: string[] = [];
  const integrity = (db.pragma(`integrity_check(${INTEGRITY_LINES})`) as { integrity_check: string }[]).map((r) => r.integrity_check);
  if (!(integrity.length === 1 && integrity[0] === "ok")) {
    problems.push(...integrity.map((line) => `integrity_check: ${line}`));
  }
  const foreignKeys = db.pragma("foreign_key_check") as ForeignKeyProblem[];
  for (const fk of foreignKeys.slice(0, INTEGRITY_LINES)) {
    problems.push(`foreign_key_check: ${fk.table} row ${fk.rowid ?? "?"} refers to a missing ${fk.parent} row`);
  }
  if (foreignKeys.length > INTEGRITY_LINES) problems.push(`foreign_key_check: and ${foreignKeys.length - INTEGRITY_LINES} more`);

  const userVersion = db.pragma("user_version", { simple: true }) as number;
  const latest = latestSchemaVersion();
  if (userVersion > latest) problems.push(`schema version ${userVersion} is newer than this code knows (${latest}): use the release that wrote it`);

  let chain: ChainCheck;
  let head: DatabaseCheck["head"];
  if (userVersion < latest) {
    // The repositories read views of the latest schema; the service and every admin command that
    // opens the live database migrate it first.
    problems.push(`schema version ${userVersion} is older than this code (${latest}): start the service or run any admin command (e.g. "orderer list") to migrate it, then check again`);
    return { ok: false, problems, chain: { ok: false, rows: 0, firstBrokenId: 0, problem: "not checked" }, checkpoints: 0, head: undefined, userVersion, journalMode: db.pragma("journal_mode", { simple: true }) as string };
  }
  const schema = userVersion === latest ? schemaDifference(db) : undefined;
  if (schema) problems.push(schema);
  let checkpoints = 0;
  try {
    const { audit, auditCheckpoints } = createRepositories(db);
    const trail = verifyTrail({
      rows: audit.iterate(), checkpoints: auditCheckpoints.all(), triggers: auditCheckpoints.auditTriggers(),
      expectedTriggers: expectedAuditTriggers(), ...trust,
    });
    chain = trail.ok ? { ok: true, rows: trail.rows } : trail;
    if (trail.ok) checkpoints = trail.checkpoints;
    head = audit.head();
  } catch (error) {
    // A file too damaged to read the audit table at all (or one without it).
    chain = { ok: false, rows: 0, firstBrokenId: 0, problem: `the audit trail cannot be read (${(error as Error).message})` };
    head = undefined;
  }
  if (!chain.ok) {
    problems.push(chain.firstBrokenId > 0 ? `audit trail broken at row id ${chain.firstBrokenId}: ${chain.problem}` : chain.problem);
  }

  return {
    ok: problems.length === 0,
    problems,
    chain,
    checkpoints,
    head,
    userVersion,
    journalMode: db.pragma("journal_mode", { simple: true }) as string,
  };
}
