import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { Transactions } from "../db/transactions.js";
import { normalizeContractNumber, normalizeLogin } from "../format/normalize.js";
import { refusal, success, type Outcome } from "../result.js";
import type { Escalation, ThrottleScope } from "./attempt-throttle.js";
import type { ThrottleCounterRepository } from "./throttle-counter.repository.js";

/** Audit names (OWASP logging vocabulary where it has one) for a counter crossing a threshold. */
export const ESCALATION_EVENTS: Record<ThrottleScope, Partial<Record<Escalation["kind"], string>>> = {
  login: { delay: "authn_login_fail_max", lock: "authn_login_lock" },
  contract: { delay: "key_fail_max", lock: "key_lock" },
  officer: { block: "key_officer_block" },
  address: { block: "address_block" },
};

/** Records the thresholds an attempt crossed; call inside the transaction that records the attempt. */
export function auditEscalations(
  audit: AuditService,
  escalations: Escalation[],
  context: { actor: string; officerId?: number | null; ordererCode?: string | null; clientAddress: string },
): void {
  for (const e of escalations) {
    audit.appendInTransaction({
      event: ESCALATION_EVENTS[e.scope][e.kind] ?? `${e.scope}_${e.kind}`,
      outcome: e.kind === "lock" ? "locked" : e.kind === "delay" ? "delayed" : "blocked",
      actorKind: "system",
      actor: context.actor,
      officerId: context.officerId ?? null,
      ordererCode: context.ordererCode ?? null,
      clientAddress: context.clientAddress,
      contractNumber: e.scope === "contract" ? e.key : null,
      detail: {
        scope: e.scope,
        ...(e.scope === "address" || e.scope === "officer" ? { key: e.key } : {}),
        failures: e.failures,
        until: e.untilMs === null ? "admin unlock" : new Date(e.untilMs).toISOString(),
      },
    });
  }
}

export type Unlocked = { key: string; wasThrottled: boolean; failures: number; locked: boolean };

/**
 * What the admin CLI needs for lockouts: `officer unlock LOGIN`, `key unlock CONTRACT_NO`,
 * `address unlock ADDRESS` and the list of locks. Unlocking forgets the key's failures, delay
 * and lock, and is audited whether or not there was anything to forget. Keys are normalised as
 * the web forms normalise them, so "Mutsu-Tanaka" unlocks what "ｍｕｔｓｕ-tanaka" locked.
 */
export function createLockoutService(deps: { counters: ThrottleCounterRepository; tx: Transactions; clock: Clock; audit: AuditService }) {
  const { counters, tx: db, clock, audit } = deps;

  const unlock = db.transaction((scope: ThrottleScope, key: string, event: string, actor: string): Unlocked => {
    const before = counters.get(scope, key);
    counters.clear(scope, key);
    audit.appendInTransaction({
      event, outcome: before ? "ok" : "nothing-to-unlock", actorKind: "admin", actor,
      contractNumber: scope === "contract" ? key : null,
      detail: { scope, key, failures: before?.failures ?? 0, locked: before?.locked === 1, blockedUntil: before && before.blocked_until > clock.now().getTime() ? new Date(before.blocked_until).toISOString() : null },
    });
    return { key, wasThrottled: before !== undefined && (before.locked === 1 || before.blocked_until > clock.now().getTime()), failures: before?.failures ?? 0, locked: before?.locked === 1 };
  });

  return {
    /** `npm run admin -- officer unlock LOGIN`: ends a login's delay or lock (real or unknown login alike). */
    unlockLogin(rawLogin: string, actor: string): Outcome<Unlocked> {
      const login = normalizeLogin(rawLogin);
      if (login === "" || login.length > 64) return refusal({ field: "login", message: "must be 1-64 characters" });
      return success(unlock.immediate("login", login, "authn_login_unlock", actor));
    },

    /** `npm run admin -- key unlock CONTRACT_NO`: ends a contract number's verification delay or lock. */
    unlockContract(rawContractNumber: string, actor: string): Outcome<Unlocked> {
      const contractNumber = normalizeContractNumber(rawContractNumber);
      if (!contractNumber.ok) return refusal({ field: "contractNumber", message: "must be a contract number like 12345-123456" });
      return success(unlock.immediate("contract", contractNumber.value, "key_unlock", actor));
    },

    /** `npm run admin -- address unlock ADDRESS`: ends a client address's daily block (e.g. an office's NAT after a user's mistakes). */
    unlockAddress(address: string, actor: string): Outcome<Unlocked> {
      const key = address.trim();
      if (key === "" || key.length > 64) return refusal({ field: "address", message: "must be an IP address as the server sees it" });
      return success(unlock.immediate("address", key, "address_unlock", actor));
    },

    /** `npm run admin -- locks`: logins and contract numbers locked until an admin unlocks them. */
    listLocked(): { logins: { key: string; failures: number }[]; contracts: { key: string; failures: number }[] } {
      return { logins: counters.listLocked("login"), contracts: counters.listLocked("contract") };
    },
  };
}

export type LockoutService = ReturnType<typeof createLockoutService>;
