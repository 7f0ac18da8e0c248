import type { Db } from "../db/database.js";
import { readSchema, type SchemaObject } from "../db/schema.js";

/** A signed statement by the service: "row `rowId` of the audit trail has hash `rowHash`, and the
 * trail holds `rows` rows up to it", at `signedAt`. */
export type Checkpoint = { id: number; rowId: number; rowHash: string; rows: number; signedAt: string; signature: string };

type RawCheckpoint = { id: number; row_id: number; row_hash: string; rows: number; signed_at: string; signature: string };

const toCheckpoint = (r: RawCheckpoint): Checkpoint => ({
  id: r.id, rowId: r.row_id, rowHash: r.row_hash, rows: r.rows, signedAt: r.signed_at, signature: r.signature,
});

export function createAuditCheckpointRepository(db: Db) {
  const insert = db.prepare<Omit<Checkpoint, "id">>(`
    INSERT INTO audit_checkpoints (row_id, row_hash, rows, signed_at, signature)
    VALUES (@rowId, @rowHash, @rows, @signedAt, @signature)`);
  const all = db.prepare<[], RawCheckpoint>("SELECT * FROM audit_checkpoints ORDER BY id");
  const last = db.prepare<[], RawCheckpoint>("SELECT * FROM audit_checkpoints ORDER BY id DESC LIMIT 1");
  return {
    /** Call inside a transaction that also read the head it signs. */
    append(checkpoint: Omit<Checkpoint, "id">): Checkpoint {
      const id = Number(insert.run(checkpoint).lastInsertRowid);
      return { id, ...checkpoint };
    },
    all: (): Checkpoint[] => all.all().map(toCheckpoint),
    last: (): Checkpoint | undefined => {
      const row = last.get();
      return row && toCheckpoint(row);
    },
    /** The triggers of the audit tables as the file holds them, to compare with the migrations'. */
    auditTriggers: (): SchemaObject[] =>
      readSchema(db).filter((o) => o.type === "trigger" && (o.tblName === "audit_events" || o.tblName === "audit_checkpoints")),
  };
}

export type AuditCheckpointRepository = ReturnType<typeof createAuditCheckpointRepository>;
