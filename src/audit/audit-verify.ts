import type { KeyObject } from "node:crypto";
import type { SchemaObject } from "../db/schema.js";
import type { Checkpoint } from "./audit-checkpoint.repository.js";
import { chainHash, GENESIS_HASH, type AuditRow } from "./audit.repository.js";
import { verifySignature } from "./signing-key.js";

/** What a checkpoint's signature covers, in a fixed order (the tag keeps it from meaning anything else). */
export function checkpointPayload(c: Omit<Checkpoint, "id" | "signature">): Buffer {
  return Buffer.from(JSON.stringify(["kakunin-audit-checkpoint/1", c.rowId, c.rowHash, c.rows, c.signedAt]));
}

export const checkpointSignatureHolds = (publicKey: KeyObject, c: Checkpoint) =>
  verifySignature(publicKey, checkpointPayload(c), c.signature);

export type TrailCheck =
  | { ok: true; rows: number; checkpoints: number; lastCheckpoint: Checkpoint | undefined }
  | { ok: false; rows: number; firstBrokenId: number; problem: string };

const broken = (rows: number, problem: string, firstBrokenId = 0): TrailCheck => ({ ok: false, rows, firstBrokenId, problem });

/** The first difference between the audit tables' triggers and the migrations' (the append-only guard). */
export function triggerDifference(actual: SchemaObject[], expected: SchemaObject[]): string | undefined {
  const found = new Map(actual.map((t) => [t.name, t]));
  for (const t of expected) {
    const a = found.get(t.name);
    if (!a) return `the append-only trigger ${t.name} is missing`;
    if (a.sql !== t.sql || a.tblName !== t.tblName) return `the append-only trigger ${t.name} differs from the migrations' (found: ${a.sql})`;
  }
  const extra = actual.find((a) => !expected.some((t) => t.name === a.name));
  return extra ? `the trigger ${extra.name} on ${extra.tblName} is not defined by the migrations` : undefined;
}

/**
 * Everything `audit verify` and `check` prove about the trail, and the first problem found:
 * the append-only triggers are the migrations'; every row links to the one before and matches its
 * hash; every checkpoint is signed by the key, its row is still there with the signed hash and as
 * many rows up to it as were signed; every checkpoint in the log (when it could be read) is in the table.
 */
export function verifyTrail(input: {
  rows: Iterable<AuditRow>;
  checkpoints: Checkpoint[];
  triggers: SchemaObject[];
  expectedTriggers: SchemaObject[];
  publicKey: KeyObject | undefined;
  log: Checkpoint[] | undefined;
}): TrailCheck {
  const triggers = triggerDifference(input.triggers, input.expectedTriggers);
  if (triggers) return broken(0, triggers);

  const signedRows = new Set(input.checkpoints.map((c) => c.rowId));
  const seen = new Map<number, { hash: string; rows: number }>();
  let prevHash = GENESIS_HASH;
  let count = 0;
  for (const row of input.rows) {
    count++;
    if (row.prevHash !== prevHash) return broken(count, "its link to the previous row is broken (a row was removed or reordered)", row.id);
    if (chainHash(row.prevHash, row) !== row.hash) return broken(count, "its content does not match its hash (the row was altered)", row.id);
    if (signedRows.has(row.id)) seen.set(row.id, { hash: row.hash, rows: count });
    prevHash = row.hash;
  }

  if (input.checkpoints.length > 0 && !input.publicKey) {
    return broken(count, "there is no public key to check the signed checkpoints with (give --public-key, or keep the .pub file beside the signing key)");
  }
  for (const c of input.checkpoints) {
    const at = `checkpoint ${c.id} (signed ${c.signedAt} for row ${c.rowId})`;
    if (!checkpointSignatureHolds(input.publicKey!, c)) return broken(count, `${at}: its signature is wrong (not signed by this key, or altered)`);
    const row = seen.get(c.rowId);
    if (!row) return broken(count, `${at}: row ${c.rowId} is gone (rows the checkpoint covered were cut)`, c.rowId);
    if (row.hash !== c.rowHash) return broken(count, `${at}: the chain at row ${c.rowId} no longer hashes to what was signed (rows up to it were rewritten)`, c.rowId);
    if (row.rows !== c.rows) return broken(count, `${at}: ${row.rows} row(s) up to row ${c.rowId}, ${c.rows} were signed (rows were removed)`, c.rowId);
  }

  const stored = new Map(input.checkpoints.map((c) => [c.id, c]));
  for (const entry of input.log ?? []) {
    const c = stored.get(entry.id);
    if (!c) return broken(count, `checkpoint ${entry.id} (signed ${entry.signedAt} for row ${entry.rowId}) is in the checkpoint log but missing from the database`);
    if (JSON.stringify(c) !== JSON.stringify({ ...c, ...entry })) return broken(count, `checkpoint ${entry.id} in the database differs from the checkpoint log`);
  }
  return { ok: true, rows: count, checkpoints: input.checkpoints.length, lastCheckpoint: input.checkpoints.at(-1) };
}
