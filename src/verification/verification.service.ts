import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { Transactions } from "../db/transactions.js";
import type { Guarantee, GuaranteeRepository } from "../guarantees/guarantee.repository.js";
import type { HoldingRepository } from "../holdings/holding.repository.js";
import type { Officer } from "../officers/officer.repository.js";
import { Argon2BusyError } from "../security/argon2-limiter.js";
import type { Hasher } from "../security/hasher.js";
import type { Escalation } from "../throttling/attempt-throttle.js";
import { auditEscalations } from "../throttling/lockout.service.js";
import type { VerificationThrottle } from "../throttling/verification-throttle.js";

export type VerifyFailure = "unknown-number" | "wrong-key" | "other-orderer";

export type VerifyResult =
  | { ok: true; guarantee: Guarantee }
  | { ok: false; reason: VerifyFailure }
  | { ok: false; reason: "throttled"; retryAfterSeconds: number; locked: boolean };

/** Who verifies for an orderer: one of its officers (web) or one of its API clients. */
export type VerifyActor = { kind: "officer" | "api-client"; id: number; login: string; ordererId: number; ordererCode: string };

export type VerifyRequest = { actor: VerifyActor; contractNumber: string; authKey: string; clientAddress: string };

export const officerActor = (officer: Officer): VerifyActor => ({
  kind: "officer", id: officer.id, login: officer.login, ordererId: officer.ordererId, ordererCode: officer.ordererCode,
});

/** The throttle's per-actor key: an officer's id as before, a client's id in a namespace of its own. */
const actorKey = (actor: VerifyActor) => (actor.kind === "officer" ? String(actor.id) : `api-client:${actor.id}`);

/**
 * The one path every verification takes: throttle -> lookup -> exactly one argon2 verification
 * (the dummy hash for an unknown number) -> authorise the orderer -> audit, grant and throttle
 * counters in one transaction, committed before the certificate is shown. Inputs are already
 * normalised. A throttled attempt costs no argon2 work and writes nothing (the route logs it):
 * a flood of refused attempts must not become a flood of audit rows.
 */
export function createVerificationService(deps: {
  guarantees: GuaranteeRepository; holdings: HoldingRepository; throttle: VerificationThrottle; tx: Transactions; clock: Clock; hasher: Hasher; audit: AuditService;
}) {
  const { guarantees, holdings, throttle, tx: db, clock, hasher, audit } = deps;

  const recordOutcome = db.transaction((request: VerifyRequest, guarantee: Guarantee | undefined, matched: VerifyFailure | "ok", settle: (success: boolean) => Escalation[]): VerifyFailure | "ok" => {
    const at = clock.now().toISOString();
    // The key was checked against the hash read before argon2 ran; a rotate-key committed meanwhile
    // must still win, so the old key never opens anything once rotation is done.
    const reason = matched === "ok" && guarantees.findById(guarantee!.id)?.authKeyHash !== guarantee!.authKeyHash ? "wrong-key" : matched;
    if (guarantee && reason === "ok") {
      const current = guarantees.currentVersion(guarantee.id)!;
      holdings.recordVerified({ ordererId: request.actor.ordererId, guaranteeId: guarantee.id, verifiedBy: request.actor, at, versionId: current.id, status: guarantee.status });
    }
    const { actor } = request;
    const officerId = actor.kind === "officer" ? actor.id : null;
    audit.appendInTransaction({
      event: reason === "ok" ? "key_verify_success" : reason === "other-orderer" ? "authz_fail" : "key_verify_fail",
      outcome: reason, actorKind: actor.kind, actor: actor.login, officerId,
      ordererCode: actor.ordererCode, clientAddress: request.clientAddress, contractNumber: request.contractNumber,
    });
    // A right key presented by another orderer is still a failure for the throttle: it grants nothing.
    auditEscalations(audit, settle(reason === "ok"), { actor: actor.login, officerId, ordererCode: actor.ordererCode, clientAddress: request.clientAddress });
    return reason;
  });

  return {
    async verify(request: VerifyRequest): Promise<VerifyResult> {
      const reservation = throttle.reserve({ actorKey: actorKey(request.actor), ordererCode: request.actor.ordererCode, contractNumber: request.contractNumber });
      if (!reservation.allowed) {
        return { ok: false, reason: "throttled", retryAfterSeconds: reservation.retryAfterSeconds, locked: reservation.locked };
      }
      const guarantee = guarantees.findByContractNumber(request.contractNumber);
      let keyMatches: boolean;
      try {
        keyMatches = guarantee ? await hasher.verify(guarantee.authKeyHash, request.authKey) : await hasher.verifyDummy(request.authKey);
      } catch (error) {
        // Too busy to verify (503): the attempt was never made, so it counts against nobody.
        if (error instanceof Argon2BusyError) reservation.release();
        throw error;
      }
      const matched: VerifyFailure | "ok" =
        !guarantee ? "unknown-number" : !keyMatches ? "wrong-key" : guarantee.ordererId !== request.actor.ordererId ? "other-orderer" : "ok";
      const reason = recordOutcome.immediate(request, guarantee, matched, reservation.settle);
      return reason === "ok" ? { ok: true, guarantee: guarantee! } : { ok: false, reason };
    },
  };
}

export type VerificationService = ReturnType<typeof createVerificationService>;
