import type { Db } from "../db/database.js";
import type { CertificateContent, Product } from "./certificate.schema.js";
import { guaranteeState, type GuaranteeStatus } from "./guarantee-state.js";

export type { GuaranteeStatus };

export type Guarantee = {
  id: number;
  contractNumber: string;
  product: Product;
  issuerId: number;
  ordererId: number;
  ordererCode: string;
  authKeyHash: string;
  status: GuaranteeStatus;
  cancelledAt: string | null;
  cancelReason: string | null;
  createdAt: string;
};

export type VersionKind = "new" | "amendment" | "correction";

export type GuaranteeVersion = {
  id: number;
  guaranteeId: number;
  sequence: number;
  kind: VersionKind;
  amendmentNumber: number;
  correctsVersionId: number | null;
  reachedPlatformAt: string;
  content: CertificateContent;
  /** Why it left the default history, if it did. */
  retraction: { cause: "corrected" | "withdrawn"; at: string } | null;
};

type GuaranteeRow = {
  id: number; contract_number: string; product: Product; issuer_id: number; orderer_id: number; orderer_code: string;
  auth_key_hash: string; status: GuaranteeStatus; cancelled_at: string | null; cancel_reason: string | null; created_at: string;
};

type VersionRow = {
  id: number; guarantee_id: number; sequence: number; kind: VersionKind; amendment_number: number;
  corrects_version_id: number | null; reached_platform_at: string; content: string;
  retraction_cause: "corrected" | "withdrawn" | null; retracted_at: string | null;
};

const toGuarantee = (r: GuaranteeRow): Guarantee => ({
  id: r.id, contractNumber: r.contract_number, product: r.product, issuerId: r.issuer_id, ordererId: r.orderer_id,
  ordererCode: r.orderer_code, authKeyHash: r.auth_key_hash, status: r.status, cancelledAt: r.cancelled_at,
  cancelReason: r.cancel_reason, createdAt: r.created_at,
});

const toVersion = (r: VersionRow): GuaranteeVersion => ({
  id: r.id, guaranteeId: r.guarantee_id, sequence: r.sequence, kind: r.kind, amendmentNumber: r.amendment_number,
  correctsVersionId: r.corrects_version_id, reachedPlatformAt: r.reached_platform_at,
  content: JSON.parse(r.content) as CertificateContent,
  retraction: r.retraction_cause ? { cause: r.retraction_cause, at: r.retracted_at! } : null,
});

const SELECT_GUARANTEE = `
  SELECT g.*, o.code AS orderer_code FROM guarantees g JOIN orderers o ON o.id = g.orderer_id`;

const SELECT_VERSION = `
  SELECT v.*, r.cause AS retraction_cause, r.retracted_at
  FROM guarantee_versions v LEFT JOIN version_retractions r ON r.version_id = v.id`;

export type NewVersion = {
  guaranteeId: number;
  sequence: number;
  kind: VersionKind;
  amendmentNumber: number;
  correctsVersionId: number | null;
  reachedPlatformAt: string;
  content: CertificateContent;
};

/** Search folding: NFKC (full-width and half-width forms alike) and lower case. */
export function foldForSearch(text: string): string {
  return text.normalize("NFKC").toLowerCase();
}

/**
 * The guarantee rules SQL filters need, as functions of this connection: guarantee_state (the one
 * 有効/取消/期限切れ rule) and search_fold. Registered once per connection by the composition root.
 */
export function registerGuaranteeFunctions(db: Db): void {
  db.function("guarantee_state", { deterministic: true }, (status: unknown, expiry: unknown, today: unknown) =>
    guaranteeState({ status: status as GuaranteeStatus }, { guaranteeExpiry: String(expiry) }, String(today)));
  db.function("search_fold", { deterministic: true }, (text: unknown) => (typeof text === "string" ? foldForSearch(text) : text));
}

export function createGuaranteeRepository(db: Db) {
  const byNumber = db.prepare<[string], GuaranteeRow>(`${SELECT_GUARANTEE} WHERE g.contract_number = ?`);
  const byId = db.prepare<[number], GuaranteeRow>(`${SELECT_GUARANTEE} WHERE g.id = ?`);
  const numberTaken = db.prepare<[string], { one: number }>("SELECT 1 AS one FROM guarantees WHERE contract_number = ?");
  const insertGuarantee = db.prepare(`
    INSERT INTO guarantees (contract_number, product, issuer_id, orderer_id, auth_key_hash, created_at)
    VALUES (@contractNumber, @product, @issuerId, @ordererId, @authKeyHash, @createdAt)`);
  const insertVersion = db.prepare(`
    INSERT INTO guarantee_versions (guarantee_id, sequence, kind, amendment_number, corrects_version_id, reached_platform_at, content)
    VALUES (@guaranteeId, @sequence, @kind, @amendmentNumber, @correctsVersionId, @reachedPlatformAt, @content)`);
  const insertRetraction = db.prepare("INSERT INTO version_retractions (version_id, cause, retracted_at) VALUES (?, ?, ?)");
  const versions = db.prepare<[number], VersionRow>(`${SELECT_VERSION} WHERE v.guarantee_id = ? ORDER BY v.sequence`);
  const version = db.prepare<[number, number], VersionRow>(`${SELECT_VERSION} WHERE v.guarantee_id = ? AND v.sequence = ?`);
  const current = db.prepare<[number], VersionRow>("SELECT v.*, NULL AS retraction_cause, NULL AS retracted_at FROM current_versions v WHERE v.guarantee_id = ?");
  const setKey = db.prepare("UPDATE guarantees SET auth_key_hash = @hash, key_rotated_at = @at WHERE id = @id");
  const cancel = db.prepare(`
    UPDATE guarantees SET status = 'cancelled', cancelled_at = @at, cancel_reason = @reason WHERE id = @id AND status = 'valid'`);

  return {
    findByContractNumber: (contractNumber: string) => { const r = byNumber.get(contractNumber); return r && toGuarantee(r); },
    findById: (id: number) => { const r = byId.get(id); return r && toGuarantee(r); },
    isContractNumberTaken: (contractNumber: string) => numberTaken.get(contractNumber) !== undefined,
    insertGuarantee: (g: { contractNumber: string; product: Product; issuerId: number; ordererId: number; authKeyHash: string; createdAt: string }) =>
      Number(insertGuarantee.run(g).lastInsertRowid),
    insertVersion: (v: NewVersion) => Number(insertVersion.run({ ...v, content: JSON.stringify(v.content) }).lastInsertRowid),
    retractVersion: (versionId: number, cause: "corrected" | "withdrawn", at: string) => void insertRetraction.run(versionId, cause, at),
    listVersions: (guaranteeId: number) => versions.all(guaranteeId).map(toVersion),
    findVersion: (guaranteeId: number, sequence: number) => { const r = version.get(guaranteeId, sequence); return r && toVersion(r); },
    /** The version in force: the latest one not corrected or withdrawn. */
    currentVersion: (guaranteeId: number) => { const r = current.get(guaranteeId); return r && toVersion(r); },
    setAuthKeyHash: (id: number, hash: string, at: string) => void setKey.run({ id, hash, at }),
    /** False if it was already cancelled. */
    cancel: (id: number, reason: string, at: string) => cancel.run({ id, reason, at }).changes === 1,
  };
}

export type GuaranteeRepository = ReturnType<typeof createGuaranteeRepository>;
