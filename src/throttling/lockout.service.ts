import type { AuditService } from "../audit/audit.service.js";
import type { Clock } from "../clock.js";
import type { Transactions } from "../db/transactions.js";
import { normalizeContractNumber, normalizeLogin } from "../format/normalize.js";
import { refusal, success, type Outcome } from "../result.js";
import type { Escalation, ThrottleScope } from "./attempt-throttle.js";
import { addressKey } from "../http/client-address.js";
import type { LoginNameHash } from "../security/keyed-hash.js";
import type { Counter, ThrottleCounterRepository } from "./throttle-counter.repository.js";

/** Audit names (OWASP logging vocabulary where it has one) for a counter crossing a threshold. */
export const ESCALATION_EVENTS: Record<ThrottleScope, Partial<Record<Escalation["kind"], string>>> = {
  login: { delay: "authn_login_fail_max", lock: "authn_login_lock" },
  device: { block: "authn_device_block" },
  officer_contract: { delay: "key_officer_fail_max", lock: "key_officer_lock" },
  contract: { delay: "key_fail_max", lock: "key_lock" },
  officer: { block: "key_officer_block" },
  address: { block: "address_block" },
  sso_address: { block: "authn_sso_address_block" },
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
      contractNumber: e.scope === "contract" || e.scope === "officer_contract" ? e.key.split("/")[0]! : null,
      detail: {
        scope: e.scope,
        ...(e.scope === "address" || e.scope === "sso_address" || e.scope === "officer" || e.scope === "device" ? { key: e.key } : {}),
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
 * the web forms normalise them, so "Mutsu-Tanaka" unlocks what "ｍｕｔｓｕ-tanaka" locked, and an
 * address as the throttle counts it (an IPv6 address by its /64).
 */
export function createLockoutService(deps: { counters: ThrottleCounterRepository; tx: Transactions; clock: Clock; audit: AuditService; loginNames: LoginNameHash; isOfficerLogin(login: string): boolean }) {
  const { counters, tx: db, clock, audit, loginNames } = deps;

  const recordUnlock = (scope: ThrottleScope, key: string, event: string, actor: string, before: Counter | undefined, contractNumber: string | null): Unlocked => {
    const now = clock.now().getTime();
    audit.appendInTransaction({
      event, outcome: before ? "ok" : "nothing-to-unlock", actorKind: "admin", actor, contractNumber,
      detail: { scope, key, failures: before?.failures ?? 0, locked: before?.locked === 1, blockedUntil: before && before.blocked_until > now ? new Date(before.blocked_until).toISOString() : null },
    });
    return { key, wasThrottled: before !== undefined && (before.locked === 1 || before.blocked_until > now), failures: before?.failures ?? 0, locked: before?.locked === 1 };
  };

  const unlock = db.transaction((scope: ThrottleScope, key: string, event: string, actor: string): Unlocked => {
    const before = counters.get(scope, key);
    counters.clear(scope, key);
    return recordUnlock(scope, key, event, actor, before, null);
  });

  // A login id that names an officer is counted as typed; one that does not, under its keyed hash
  // (see the login service). Both are cleared, so a login created after its failures unlocks too.
  const unlockLoginKeys = db.transaction((login: string, hashed: string | undefined, actor: string): Unlocked => {
    const plain = counters.get("login", login);
    const keyed = hashed === undefined ? undefined : counters.get("login", hashed);
    counters.clear("login", login);
    if (hashed !== undefined) counters.clear("login", hashed);
    const before = plain && keyed ? (plain.locked || plain.failures >= keyed.failures ? plain : keyed) : plain ?? keyed;
    // The audit names an officer's login id as typed, any other only by its hash.
    const named = hashed === undefined || deps.isOfficerLogin(login) ? login : hashed;
    return { ...recordUnlock("login", named, "authn_login_unlock", actor, before, null), key: login };
  });

  const unlockContractKeys = db.transaction((contractNumber: string, actor: string): Unlocked => {
    const state = counters.contractState(contractNumber);
    const cleared = counters.clearContract(contractNumber);
    const before: Counter | undefined = cleared === 0 ? undefined : { failures: state.failures, locked: state.locked, blocked_until: 0, window_start: 0 };
    const unlocked = recordUnlock("contract", contractNumber, "key_unlock", actor, before, contractNumber);
    // A delay of the number's own is over at once too; say it was throttled when anything was kept.
    return { ...unlocked, wasThrottled: unlocked.locked || cleared > 0 };
  });

  return {
    /** `npm run admin -- officer unlock LOGIN`: ends a login's delay or lock (real or unknown login alike). */
    unlockLogin(rawLogin: string, actor: string): Outcome<Unlocked> {
      const login = normalizeLogin(rawLogin);
      if (login === "" || login.length > 64) return refusal({ field: "login", message: "must be 1-64 characters" });
      let hashed: string | undefined;
      try {
        hashed = loginNames(login);
      } catch {
        // The CLI without SESSION_SECRET: an officer's login is counted as typed and can be found.
        if (!deps.isOfficerLogin(login) && !counters.get("login", login)) {
          return refusal({ field: "login", message: "names no officer, so its counter is kept under a keyed hash: run the command with SESSION_SECRET set as the service has it" });
        }
      }
      return success(unlockLoginKeys.immediate(login, hashed, actor));
    },

    /** `npm run admin -- key unlock CONTRACT_NO`: ends a contract number's verification delays and locks, for every orderer and officer. */
    unlockContract(rawContractNumber: string, actor: string): Outcome<Unlocked> {
      const contractNumber = normalizeContractNumber(rawContractNumber);
      if (!contractNumber.ok) return refusal({ field: "contractNumber", message: "must be a contract number like 12345-123456" });
      return success(unlockContractKeys.immediate(contractNumber.value, actor));
    },

    /** `npm run admin -- address unlock ADDRESS`: ends a client address's daily block of anonymous logins (e.g. an office's NAT after a user's mistakes). */
    unlockAddress(address: string, actor: string): Outcome<Unlocked> {
      const raw = address.trim();
      if (raw === "" || raw.length > 64) return refusal({ field: "address", message: "must be an IP address as the server sees it" });
      return success(unlock.immediate("address", addressKey(raw), "address_unlock", actor));
    },

    /** `npm run admin -- locks`: logins and contract numbers (with the orderer, "NUMBER/ORDERER") locked until an admin unlocks them. */
    listLocked(): { logins: { key: string; failures: number }[]; contracts: { key: string; failures: number }[] } {
      return { logins: counters.listLocked("login"), contracts: counters.listLocked("contract") };
    },
  };
}

export type LockoutService = ReturnType<typeof createLockoutService>;
