import type { AuditActorKind } from "../audit/audit.repository.js";
import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { Transactions } from "../db/transactions.js";
import { normalizeLogin } from "../format/normalize.js";
import type { Officer, OfficerRepository } from "../officers/officer.repository.js";
import { refusal, success, type Outcome } from "../result.js";
import type { Opener, Sealer } from "../security/sealed-box.js";
import { generateRecoveryCode } from "../security/secrets.js";
import type { SessionRepository } from "../sessions/session.repository.js";
import { generateTotpSecret, matchTotp, readTypedCode, recoveryCodeHash, totpUri } from "./codes.js";
import type { SecondFactorRepository } from "./second-factor.repository.js";

/** The service's key pair (WEBHOOK_KEY_FILE): anyone with the public half seals, only the service opens. */
export type SealingKeys = { sealer(): Sealer; opener(): Opener };

export const RECOVERY_CODE_COUNT = 10;

/** Administrators always need a second factor; other officers when their orderer requires it. */
export function secondFactorRequired(officer: Pick<Officer, "role" | "ordererRequiresSecondFactor">): boolean {
  return officer.role === "admin" || officer.ordererRequiresSecondFactor;
}

/** The secret an officer is enrolling, to show once more as a QR code and as text. */
export type Enrolment = { secret: string; uri: string };

/** How a code was accepted, or why not. `replayed`: a code of a time step already used. */
export type CodeCheck = { ok: true; method: "totp" | "recovery" } | { ok: false; reason: "unreadable" | "wrong-code" | "replayed" | "no-factor" };

export type Confirmation = { ok: true; recoveryCodes: string[]; replaced: boolean } | { ok: false; reason: "unreadable" | "wrong-code" | "not-enrolling" };

/** Who resets a lost factor, as the audit names them: the CLI's user, or an orderer's administrator. */
export type ResetBy = { actorKind: AuditActorKind; actor: string; officerId?: number };

const sealingContext = (officerId: number) => `totp:${officerId}`;

/**
 * An officer's second factor (TOTP, RFC 6238): enrolment with a confirming code, the codes of the
 * login's second step and of a step-up, recovery codes, removal and an administrator's reset. The
 * secret is only ever stored sealed; recovery codes only as hashes, shown once when made.
 */
export function createSecondFactorService(deps: {
  factors: SecondFactorRepository; officers: OfficerRepository; sessions: SessionRepository; tx: Transactions; clock: Clock; audit: AuditService; keys: SealingKeys;
}) {
  const { factors, officers, sessions, tx, clock, audit, keys } = deps;
  const now = () => clock.now().toISOString();
  const own = (officer: Officer, event: string, outcome = "ok", detail?: Record<string, unknown>) => audit.appendInTransaction({
    event, outcome, actorKind: "officer", actor: officer.login, officerId: officer.id, ordererCode: officer.ordererCode, ...(detail ? { detail } : {}),
  });

  /** Ten new codes: their hashes stored (the old ones gone), the codes returned to be shown once. */
  function newRecoveryCodes(officer: Officer): string[] {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, generateRecoveryCode);
    factors.replaceRecoveryCodes(officer.id, codes.map((c) => recoveryCodeHash(officer.id, c.replace(/-/g, ""))), now());
    return codes;
  }

  const startEnrolment = tx.transaction((officer: Officer, secretSealed: string) => {
    factors.insertPending(officer.id, secretSealed, now());
    own(officer, "mfa_enrol_start", officer.secondFactorEnrolled ? "re-enrol" : "ok");
  });

  const confirm = tx.transaction((officer: Officer, pendingId: number, timeStep: number): string[] => {
    factors.confirm(officer.id, pendingId, timeStep, now());
    own(officer, "mfa_enrol", officer.secondFactorEnrolled ? "re-enrolled" : "enrolled");
    return newRecoveryCodes(officer);
  });

  const refuseEnrolment = tx.transaction((officer: Officer, reason: string) => own(officer, "mfa_enrol_fail", reason));

  const remove = tx.transaction((officer: Officer) => {
    factors.removeAll(officer.id);
    own(officer, "mfa_remove");
  });

  const regenerate = tx.transaction((officer: Officer): string[] => {
    own(officer, "mfa_recovery_codes_regenerate");
    return newRecoveryCodes(officer);
  });

  const reset = tx.transaction((officer: Officer, by: ResetBy) => {
    const removed = factors.removeAll(officer.id);
    const sessionsEnded = sessions.destroyByOfficer(officer.id);
    audit.appendInTransaction({
      event: "mfa_reset", outcome: removed ? "ok" : "none-enrolled", actorKind: by.actorKind, actor: by.actor, officerId: officer.id,
      ordererCode: officer.ordererCode, detail: { login: officer.login, sessionsEnded, ...(by.officerId !== undefined ? { byOfficerId: by.officerId } : {}) },
    });
    return sessionsEnded;
  });

  const provision = tx.transaction((officer: Officer, secretSealed: string, actor: string): string[] => {
    factors.removeAll(officer.id);
    factors.insertPending(officer.id, secretSealed, now());
    factors.confirm(officer.id, factors.findPending(officer.id)!.id, 0, now());
    audit.appendInTransaction({ event: "mfa_provision", outcome: "ok", actorKind: "admin", actor, officerId: officer.id, ordererCode: officer.ordererCode, detail: { login: officer.login } });
    return newRecoveryCodes(officer);
  });

  return {
    /** GET /account/mfa: the secret being enrolled, made (sealed, audited) on the first visit and shown again on a reload. */
    enrolment(officer: Officer): Enrolment {
      const pending = factors.findPending(officer.id);
      let secret: string;
      if (pending) {
        secret = keys.opener().open(pending.secretSealed, sealingContext(officer.id));
      } else {
        secret = generateTotpSecret();
        startEnrolment.immediate(officer, keys.sealer().seal(secret, sealingContext(officer.id)));
      }
      return { secret, uri: totpUri(secret, officer.login) };
    },

    /** Whether a re-enrolment (or a first one) waits for its confirming code. */
    isEnrolling: (officer: Officer) => factors.findPending(officer.id) !== undefined,

    /** A re-enrolment (the officer's new phone): a new secret, the old one valid until it is confirmed. */
    startReEnrolment(officer: Officer): void {
      if (factors.findPending(officer.id)) return;
      startEnrolment.immediate(officer, keys.sealer().seal(generateTotpSecret(), sealingContext(officer.id)));
    },

    /** POST /account/mfa: one code of the new secret confirms it; the ten recovery codes are returned, to be shown once. */
    confirmEnrolment(officer: Officer, rawCode: string): Confirmation {
      const pending = factors.findPending(officer.id);
      if (!pending) return { ok: false, reason: "not-enrolling" };
      const typed = readTypedCode(rawCode);
      const step = typed?.kind === "totp"
        ? matchTotp(keys.opener().open(pending.secretSealed, sealingContext(officer.id)), typed.code, clock.now(), pending.lastTimeStep)
        : undefined;
      if (step === undefined) {
        const reason = typed?.kind === "totp" ? "wrong-code" : "unreadable";
        refuseEnrolment.immediate(officer, reason);
        return { ok: false, reason };
      }
      return { ok: true, recoveryCodes: confirm.immediate(officer, pending.id, step), replaced: officer.secondFactorEnrolled };
    },

    /**
     * A code of the officer's confirmed factor, used up when accepted: a TOTP code of a step after
     * the last accepted one, or an unused recovery code. Runs in the caller's transaction (the
     * login's, with its audit row and throttle counters).
     */
    consumeCode(officer: Officer, rawCode: string): CodeCheck {
      const factor = factors.findConfirmed(officer.id);
      if (!factor) return { ok: false, reason: "no-factor" };
      const typed = readTypedCode(rawCode);
      if (!typed) return { ok: false, reason: "unreadable" };
      if (typed.kind === "recovery") {
        return factors.useRecoveryCode(officer.id, recoveryCodeHash(officer.id, typed.code), now()) ? { ok: true, method: "recovery" } : { ok: false, reason: "wrong-code" };
      }
      const secret = keys.opener().open(factor.secretSealed, sealingContext(officer.id));
      const step = matchTotp(secret, typed.code, clock.now(), 0);
      if (step === undefined) return { ok: false, reason: "wrong-code" };
      return factors.useTimeStep(factor.id, step) ? { ok: true, method: "totp" } : { ok: false, reason: "replayed" };
    },

    unusedRecoveryCodes: (officer: Officer) => factors.countUnusedRecoveryCodes(officer.id),

    /** The officer's own removal: not while their orderer or their role requires a factor (then only a re-enrolment). */
    removeOwn(officer: Officer): { ok: true } | { ok: false; reason: "required" | "not-enrolled" } {
      if (secondFactorRequired(officer)) return { ok: false, reason: "required" };
      if (!officer.secondFactorEnrolled) return { ok: false, reason: "not-enrolled" };
      remove.immediate(officer);
      return { ok: true };
    },

    /** Ten new recovery codes, the old ones no longer valid; undefined without a confirmed factor. */
    regenerateRecoveryCodes(officer: Officer): string[] | undefined {
      return officer.secondFactorEnrolled ? regenerate.immediate(officer) : undefined;
    },

    /**
     * A lost phone: the factor and the recovery codes go and every session of the officer ends
     * (audited with who did it). Their next login is by password alone, and where a factor is
     * required they enrol a new one at once. Returns how many sessions ended.
     */
    resetSecondFactor: (officer: Officer, by: ResetBy): number => reset.immediate(officer, by),

    /** `officer mfa-reset LOGIN`. */
    resetByLogin(rawLogin: string, actor: string): Outcome<{ officer: Officer; sessionsEnded: number }> {
      const officer = officers.findByLogin(normalizeLogin(rawLogin));
      if (!officer) return refusal({ field: "login", message: `no officer with login "${normalizeLogin(rawLogin)}"` });
      const sessionsEnded = reset.immediate(officer, { actorKind: "admin", actor });
      return success({ officer: officers.findById(officer.id)!, sessionsEnded });
    },

    /**
     * The demo's administrator: a confirmed factor without a confirming code, its secret returned
     * to be printed. Needs only the public key (the admin CLI seals, it never opens).
     */
    provision(officer: Officer, actor: string): { secret: string; recoveryCodes: string[] } {
      const secret = generateTotpSecret();
      const recoveryCodes = provision.immediate(officer, keys.sealer().seal(secret, sealingContext(officer.id)), actor);
      return { secret, recoveryCodes };
    },
  };
}

export type SecondFactorService = ReturnType<typeof createSecondFactorService>;
