import type { Check, ContractEvaluation } from "../contracts/checks.js";
import type { RegisterEntry } from "../contracts/contract.service.js";
import type { CertificateContent, Product } from "../guarantees/certificate.schema.js";
import { guaranteeState, type GuaranteeState } from "../guarantees/guarantee-state.js";
import type { Guarantee, GuaranteeVersion } from "../guarantees/guarantee.repository.js";
import type { HeldGuaranteeEntry } from "../holdings/holding.repository.js";
import type { HeldGuaranteeWithVersion } from "../holdings/holding.service.js";

/**
 * The API's JSON, built here so that handlers only choose a status: amounts in integer yen, dates
 * as ISO 8601 dates, instants as ISO 8601 with their offset (UTC, "Z"), as stored.
 */

type Cancellation = { cancelledAt: string; reason: string } | null;

const cancellationOf = (g: Pick<Guarantee, "cancelledAt" | "cancelReason">): Cancellation =>
  g.cancelledAt === null ? null : { cancelledAt: g.cancelledAt, reason: g.cancelReason ?? "" };

export type VersionSummaryJson = {
  sequence: number;
  kind: GuaranteeVersion["kind"];
  amendmentNumber: number;
  reachedPlatformAt: string;
  /** The version this one corrects (訂正), by sequence. */
  correctsSequence: number | null;
  retraction: { cause: "corrected" | "withdrawn"; at: string } | null;
};

const toVersionSummary = (v: GuaranteeVersion, all: readonly GuaranteeVersion[]): VersionSummaryJson => ({
  sequence: v.sequence, kind: v.kind, amendmentNumber: v.amendmentNumber, reachedPlatformAt: v.reachedPlatformAt,
  correctsSequence: v.correctsVersionId === null ? null : all.find((o) => o.id === v.correctsVersionId)?.sequence ?? null,
  retraction: v.retraction,
});

export const toVersionJson = (v: GuaranteeVersion, all: readonly GuaranteeVersion[]) => ({
  ...toVersionSummary(v, all), certificate: v.content satisfies CertificateContent,
});

/** GET /api/v1/guarantees/{contractNumber}. */
export function toGuaranteeJson(held: HeldGuaranteeWithVersion, versions: readonly GuaranteeVersion[], today: string) {
  const { guarantee, current } = held;
  return {
    contractNumber: guarantee.contractNumber,
    product: guarantee.product,
    status: guaranteeState(guarantee, current.content, today),
    cancellation: cancellationOf(guarantee),
    guaranteeExpiry: current.content.guaranteeExpiry,
    current: toVersionJson(current, versions),
    versions: versions.map((v) => toVersionSummary(v, versions)),
  };
}

/** An item of GET /api/v1/guarantees. */
export function toHeldItemJson(entry: HeldGuaranteeEntry, today: string) {
  return {
    contractNumber: entry.contractNumber,
    product: entry.product satisfies Product,
    status: guaranteeState(entry, entry.content, today) satisfies GuaranteeState,
    cancellation: cancellationOf(entry),
    guaranteeExpiry: entry.content.guaranteeExpiry,
    projectName: entry.content.projectName,
    contractor: entry.content.contractor.jvName ?? entry.content.contractor.name,
    contractAmount: entry.content.contractAmount,
    guaranteeAmount: entry.content.guaranteeAmount,
    lastVerifiedAt: entry.lastVerifiedAt,
    changedAt: entry.changedAt,
  };
}

const toCheckJson = (c: Check) => ({
  id: c.id, rule: c.rule, source: c.source, result: c.result, contract: c.contract, certificate: c.certificate, bound: c.bound ?? null,
});

/** A contract of the register, with its one state. */
export function toContractJson(entry: RegisterEntry) {
  const c = entry.contract;
  return {
    reference: c.reference, projectName: c.projectName, contractor: c.contractor, contractAmount: c.contractAmount,
    contractDate: c.contractDate, periodFrom: c.periodFrom, periodTo: c.periodTo, advanceAmount: c.advanceAmount,
    interimAmount: c.interimAmount, guaranteeRatio: c.guaranteeRatio, guaranteeNumbers: c.guaranteeNumbers,
    revision: c.revision, createdAt: c.createdAt, updatedAt: c.updatedAt, state: entry.evaluation.state,
  };
}

/** GET /api/v1/contracts/{reference}/checks: the 照合, rule by rule (the rule ids of src/contracts/checks.ts). */
export function toChecksJson(entry: RegisterEntry) {
  const e: ContractEvaluation = entry.evaluation;
  return {
    reference: entry.contract.reference,
    state: e.state,
    contractChecks: e.contractChecks.map(toCheckJson),
    guarantees: e.links.map((link) => (link.held
      ? { contractNumber: link.contractNumber, held: true, status: link.state, changed: link.changed, checks: link.checks.map(toCheckJson) }
      : { contractNumber: link.contractNumber, held: false, status: null, changed: false, checks: [] })),
    missing: e.missing,
  };
}
