import type { KeyObject } from "node:crypto";
import type { Checkpoint } from "./audit-checkpoint.repository.js";
import { CHECKPOINT_COLUMNS, EXPORT_COLUMNS, type CheckpointRecord, type ExportRecord, type ExportScope } from "./audit-export.js";
import { checkpointSignatureHolds } from "./audit-verify.js";
import { chainHash, GENESIS_HASH, type AuditActorKind } from "./audit.repository.js";

export type ExportCheck =
  | {
    ok: true;
    rows: number;
    /** Rows whose content was recomputed to their own hash. */
    hashed: number;
    /** Rows shown without their hash (an orderer's failed verifications, and the rows after them). */
    unhashed: number;
    /** Pairs of consecutive rows found linked. */
    links: number;
    checkpoints: number;
    /** Checkpoints whose signed row is in the export with the signed hash. */
    anchored: number;
    /** A whole-trail export (no orderer, no --since): rows 1..n all there, recomputed from the start. */
    complete: boolean;
  }
  | { ok: false; problem: string };

const isText = (v: unknown) => v === null || typeof v === "string";
const isId = (v: unknown) => v === null || Number.isInteger(v);

function asRow(value: Record<string, unknown>): ExportRecord | undefined {
  if (!EXPORT_COLUMNS.every((c) => c in value)) return undefined;
  const ok = Number.isInteger(value.id) && typeof value.occurred_at === "string" && typeof value.event === "string"
    && typeof value.outcome === "string" && typeof value.actor_kind === "string" && isText(value.actor) && isId(value.officer_id)
    && isText(value.orderer_code) && isText(value.client_address) && isText(value.contract_number) && isText(value.detail)
    && isText(value.prev_hash) && isText(value.hash);
  return ok ? (value as ExportRecord) : undefined;
}

function asCheckpoint(value: Record<string, unknown>): Checkpoint | undefined {
  if (!CHECKPOINT_COLUMNS.every((c) => c in value)) return undefined;
  const c = value as CheckpointRecord;
  const ok = Number.isInteger(c.checkpoint_id) && Number.isInteger(c.row_id) && typeof c.row_hash === "string"
    && Number.isInteger(c.rows) && typeof c.signed_at === "string" && typeof c.signature === "string";
  return ok ? { id: c.checkpoint_id as number, rowId: c.row_id as number, rowHash: c.row_hash as string, rows: c.rows as number, signedAt: c.signed_at as string, signature: c.signature as string } : undefined;
}

const hashOf = (r: ExportRecord) => chainHash(r.prev_hash as string, {
  occurredAt: r.occurred_at as string, event: r.event as string, outcome: r.outcome as string, actorKind: r.actor_kind as AuditActorKind,
  actor: r.actor as string | null, officerId: r.officer_id as number | null, ordererCode: r.orderer_code as string | null,
  clientAddress: r.client_address as string | null, contractNumber: r.contract_number as string | null, detail: r.detail as string | null,
});

/**
 * `audit verify-export`: what an auditor can check offline in a JSON-lines export, with the
 * service's public key. Each row that carries its hashes is recomputed to its own hash; consecutive
 * rows must link; each checkpoint's signature must hold, and a checkpoint whose row is in the
 * export must name that row's hash. When the export states that it is the whole trail (its first
 * line), rows 1..n must all be there, the chain is recomputed end to end and every checkpoint up
 * to its last row must find its row.
 */
export function verifyExport(text: string, publicKey: KeyObject): ExportCheck {
  const rows: ExportRecord[] = [];
  const checkpoints: Checkpoint[] = [];
  let scope: ExportScope | undefined;
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return { ok: false, problem: `line ${i + 1} is not JSON (verify-export reads the jsonl format: audit export --format jsonl)` };
    }
    const object = typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
    if ("export" in object) {
      const stated = object.export as ExportScope;
      if (scope || rows.length > 0 || typeof stated !== "object" || stated === null || !isText(stated.orderer) || !isText(stated.since)) {
        return { ok: false, problem: `line ${i + 1}: the export's scope must be its first line, once` };
      }
      scope = stated;
      continue;
    }
    const checkpoint = "checkpoint_id" in object ? asCheckpoint(object) : undefined;
    const row = checkpoint ? undefined : asRow(object);
    if (checkpoint) checkpoints.push(checkpoint);
    else if (row) rows.push(row);
    else return { ok: false, problem: `line ${i + 1} is neither an audit row nor a checkpoint with all their fields` };
  }

  const byId = new Map<number, ExportRecord>();
  let hashed = 0, links = 0, lastId = 0;
  for (const row of rows) {
    const id = row.id as number;
    if (id <= lastId) return { ok: false, problem: `row ${id} comes after row ${lastId} (rows repeated or out of order)` };
    lastId = id;
    const previous = byId.get(id - 1);
    byId.set(id, row);
    if (row.prev_hash !== null && row.hash !== null) {
      if (hashOf(row) !== row.hash) return { ok: false, problem: `row ${id}: its content does not match its hash (the row was altered)` };
      hashed++;
    }
    if (previous && previous.hash !== null && row.prev_hash !== null) {
      if (row.prev_hash !== previous.hash) return { ok: false, problem: `row ${id} does not link to row ${id - 1} (a row was altered or replaced)` };
      links++;
    }
  }
  if (!scope) return { ok: false, problem: "the export does not state its scope on its first line (write it with audit export --format jsonl)" };
  const complete = scope.orderer === null && scope.since === null;
  if (complete) {
    const gap = rows.findIndex((r, i) => r.id !== i + 1);
    if (gap >= 0) return { ok: false, problem: `row ${gap + 1} is missing from an export of the whole trail` };
    if (rows.length > 0 && rows[0]!.prev_hash !== GENESIS_HASH) return { ok: false, problem: "row 1 does not start the chain" };
  }

  let anchored = 0;
  for (const c of checkpoints) {
    const at = `checkpoint ${c.id} (signed ${c.signedAt} for row ${c.rowId})`;
    if (!checkpointSignatureHolds(publicKey, c)) return { ok: false, problem: `${at}: its signature is wrong (not signed by this key, or altered)` };
    const row = byId.get(c.rowId);
    if (row && row.hash !== null) {
      if (row.hash !== c.rowHash) return { ok: false, problem: `${at}: row ${c.rowId} in the export does not have the signed hash` };
      anchored++;
    } else if (complete && c.rowId <= rows.length) {
      return { ok: false, problem: `${at}: row ${c.rowId} is missing from the export` };
    }
    if (complete && c.rowId <= rows.length && c.rows !== c.rowId) {
      return { ok: false, problem: `${at}: it signed ${c.rows} rows up to row ${c.rowId}, the export holds ${c.rowId}` };
    }
  }
  return { ok: true, rows: rows.length, hashed, unhashed: rows.length - hashed, links, checkpoints: checkpoints.length, anchored, complete };
}
