import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { Transactions } from "../db/transactions.js";
import { tokyoDate } from "../format/era-date.js";
import { hasForbiddenCharacters, normalizeContractNumber, normalizeText } from "../format/normalize.js";
import type { IssuerRepository } from "../issuers/issuer.repository.js";
import { refusal, success, type Outcome } from "../result.js";
import type { Hasher } from "../security/hasher.js";
import { generateAuthKey } from "../security/secrets.js";
import { changeSchema, checkCertificateRules, toProblems, type CertificateContent } from "./certificate.schema.js";
import type { Guarantee, GuaranteeRepository, GuaranteeVersion } from "./guarantee.repository.js";
import { snapshotIssuer } from "./issuance.service.js";
import { versionLabel } from "./version-label.js";

export type ChangeKind = "amendment" | "correction";

/** What reached the platform for a guarantee: a 変更 or 訂正 (`before` -> `after`), a 変更取消
 * (`withdrawn`, with the version in force again), or a 取消. */
export type GuaranteeChange =
  | { kind: "amended" | "corrected"; guarantee: Guarantee; before: GuaranteeVersion; after: GuaranteeVersion; at: string }
  | { kind: "withdrawn"; guarantee: Guarantee; withdrawn: GuaranteeVersion; current: GuaranteeVersion; at: string }
  | { kind: "cancelled"; guarantee: Guarantee; current: GuaranteeVersion; reason: string; at: string };

/** Told of every change inside the transaction that makes it (the notifications record their events there). */
export type GuaranteeChangeListener = (change: GuaranteeChange) => void;

export function createGuaranteeService(deps: { guarantees: GuaranteeRepository; issuers: IssuerRepository; tx: Transactions; clock: Clock; hasher: Hasher; audit: AuditService; onChange: GuaranteeChangeListener }) {
  const { guarantees, issuers, tx: db, clock, hasher, audit, onChange } = deps;
  const now = () => clock.now().toISOString();

  function findLive(rawNumber: string): Outcome<{ guarantee: Guarantee; current: GuaranteeVersion }> {
    const number = normalizeContractNumber(rawNumber);
    if (!number.ok) return refusal({ field: "contractNumber", message: `must be NNNNN-NNNNNN (got "${rawNumber}")` });
    const guarantee = guarantees.findByContractNumber(number.value);
    if (!guarantee) return refusal({ field: "contractNumber", message: `no guarantee ${number.value} has been issued` });
    if (guarantee.status === "cancelled") return refusal({ field: "contractNumber", message: `guarantee ${number.value} is cancelled` });
    return success({ guarantee, current: guarantees.currentVersion(guarantee.id)! });
  }

  /** Inside a write transaction: a refusal if another admin cancelled or changed the guarantee
   * since `current` was read outside the lock. */
  function changedSince(guarantee: Guarantee, current: GuaranteeVersion): Outcome<never> | undefined {
    if (guarantees.findById(guarantee.id)!.status !== "valid") {
      return refusal({ field: "contractNumber", message: `guarantee ${guarantee.contractNumber} was cancelled meanwhile` });
    }
    if (guarantees.currentVersion(guarantee.id)!.id !== current.id) {
      return refusal({ field: "contractNumber", message: `guarantee ${guarantee.contractNumber} was changed meanwhile; check it with "show" and try again` });
    }
    return undefined;
  }

  const appendVersion = db.transaction(
    (guarantee: Guarantee, current: GuaranteeVersion, kind: ChangeKind, content: CertificateContent, actor: string) => {
      // Read again under the write lock: still valid, and the version we changed still the current one.
      const changedMeanwhile = changedSince(guarantee, current);
      if (changedMeanwhile) return changedMeanwhile;
      const all = guarantees.listVersions(guarantee.id);
      const at = now();
      // Amendment numbers are never reused, so a printed 変更-N always means one certificate.
      const amendmentNumber = kind === "amendment" ? Math.max(...all.map((v) => v.amendmentNumber)) + 1 : current.amendmentNumber;
      const sequence = all.length + 1;
      guarantees.insertVersion({
        guaranteeId: guarantee.id, sequence, kind, amendmentNumber,
        correctsVersionId: kind === "correction" ? current.id : null, reachedPlatformAt: at, content,
      });
      if (kind === "correction") guarantees.retractVersion(current.id, "corrected", at);
      audit.appendInTransaction({
        event: kind === "amendment" ? "guarantee_amend" : "guarantee_correct", outcome: "ok", actorKind: "admin", actor,
        ordererCode: guarantee.ordererCode, contractNumber: guarantee.contractNumber, detail: { sequence, label: versionLabel({ amendmentNumber }) },
      });
      const after = guarantees.findVersion(guarantee.id, sequence)!;
      onChange({ kind: kind === "amendment" ? "amended" : "corrected", guarantee, before: current, after, at });
      return success(after);
    },
  );

  const withdraw = db.transaction((guarantee: Guarantee, current: GuaranteeVersion, actor: string): Outcome<GuaranteeVersion> => {
    const changedMeanwhile = changedSince(guarantee, current);
    if (changedMeanwhile) return changedMeanwhile;
    const at = now();
    guarantees.retractVersion(current.id, "withdrawn", at);
    audit.appendInTransaction({
      event: "guarantee_withdraw", outcome: "ok", actorKind: "admin", actor, ordererCode: guarantee.ordererCode,
      contractNumber: guarantee.contractNumber, detail: { sequence: current.sequence, label: versionLabel(current) },
    });
    const inForce = guarantees.currentVersion(guarantee.id)!;
    onChange({ kind: "withdrawn", guarantee, withdrawn: current, current: inForce, at });
    return success(inForce);
  });

  const cancel = db.transaction((guarantee: Guarantee, reason: string, actor: string) => {
    const at = now();
    if (!guarantees.cancel(guarantee.id, reason, at)) return false;
    audit.appendInTransaction({
      event: "guarantee_cancel", outcome: "ok", actorKind: "admin", actor, ordererCode: guarantee.ordererCode,
      contractNumber: guarantee.contractNumber, detail: { reason },
    });
    onChange({ kind: "cancelled", guarantee, current: guarantees.currentVersion(guarantee.id)!, reason, at });
    return true;
  });

  const rotateKey = db.transaction((guarantee: Guarantee, hash: string, actor: string) => {
    guarantees.setAuthKeyHash(guarantee.id, hash, now());
    audit.appendInTransaction({
      event: "guarantee_rotate_key", outcome: "ok", actorKind: "admin", actor, ordererCode: guarantee.ordererCode, contractNumber: guarantee.contractNumber,
    });
  });

  return {
    findByContractNumber: guarantees.findByContractNumber,
    listVersions: guarantees.listVersions,
    findVersion: guarantees.findVersion,
    currentVersion: guarantees.currentVersion,

    /**
     * 変更 (kind "amendment") or 訂正 (kind "correction"): merges the changed fields into the current
     * certificate, checks the whole again and appends a version. A correction replaces the current
     * version in the history; an amendment gets the next 変更-N. The key stays.
     */
    change(rawNumber: string, kind: ChangeKind, changes: unknown, actor: string): Outcome<GuaranteeVersion> {
      const found = findLive(rawNumber);
      if (!found.ok) return found;
      const { guarantee, current } = found.value;
      const parsed = changeSchema.safeParse(changes);
      if (!parsed.success) return refusal(...toProblems(parsed.error));
      const changed = parsed.data;
      if (Object.keys(changed).length === 0) return refusal({ field: "(file)", message: "names no field to change" });
      const before = current.content;
      const issuer = issuers.findById(guarantee.issuerId)!;
      const content: CertificateContent = {
        ...before,
        ...changed,
        contractor: { ...before.contractor, ...changed.contractor },
        branch: { ...before.branch, ...changed.branch },
        orderer: { ...before.orderer, ...changed.orderer },
        // A new 変更 certificate is issued today by today's representative; a 訂正 keeps its date unless told.
        issuer: kind === "amendment" ? snapshotIssuer(issuer) : before.issuer,
        issuedOn: changed.issuedOn ?? (kind === "amendment" ? tokyoDate(clock.now()) : before.issuedOn),
      };
      const problems = checkCertificateRules(guarantee.product, content);
      if (problems.length > 0) return refusal(...problems);
      if (JSON.stringify(content) === JSON.stringify(before)) return refusal({ field: "(file)", message: "changes nothing in the current certificate" });
      return appendVersion.immediate(guarantee, current, kind, content, actor);
    },

    /** 変更取消: withdraws the current 変更 so that the version before it is in force again. */
    withdraw(rawNumber: string, actor: string): Outcome<GuaranteeVersion> {
      const found = findLive(rawNumber);
      if (!found.ok) return found;
      const { guarantee, current } = found.value;
      if (current.amendmentNumber === 0) {
        return refusal({ field: "contractNumber", message: `the current version of ${guarantee.contractNumber} is the original (新規); there is no 変更 to withdraw` });
      }
      return withdraw.immediate(guarantee, current, actor);
    },

    cancel(rawNumber: string, rawReason: string, actor: string): Outcome<Guarantee> {
      const found = findLive(rawNumber);
      if (!found.ok) return found;
      const reason = normalizeText(rawReason);
      if (reason === "" || reason.length > 200 || hasForbiddenCharacters(reason)) {
        return refusal({ field: "reason", message: "must be 1-200 printable characters" });
      }
      if (!cancel.immediate(found.value.guarantee, reason, actor)) {
        return refusal({ field: "contractNumber", message: `guarantee ${found.value.guarantee.contractNumber} is already cancelled` });
      }
      return success(guarantees.findById(found.value.guarantee.id)!);
    },

    /** A new key at once; the old one stops working when this commits. Returns the new key, once. */
    async rotateKey(rawNumber: string, actor: string): Promise<Outcome<{ contractNumber: string; authKey: string }>> {
      const found = findLive(rawNumber);
      if (!found.ok) return found;
      const authKey = generateAuthKey();
      rotateKey.immediate(found.value.guarantee, await hasher.hash(authKey), actor);
      return success({ contractNumber: found.value.guarantee.contractNumber, authKey });
    },
  };
}

export type GuaranteeService = ReturnType<typeof createGuaranteeService>;
