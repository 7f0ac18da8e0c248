import type { AuditService } from "../audit/audit.service.js";
import type { Limits } from "../config.js";
import type { Transactions } from "../db/transactions.js";
import { normalizeLogin } from "../format/normalize.js";
import type { CodeCheck, SecondFactorService } from "../mfa/second-factor.service.js";
import type { Officer } from "../officers/officer.repository.js";
import type { OfficerService } from "../officers/officer.service.js";
import { normalizePassword } from "../officers/password-policy.js";
import { Argon2BusyError } from "../security/argon2-limiter.js";
import type { Hasher } from "../security/hasher.js";
import type { LoginNameHash } from "../security/keyed-hash.js";
import { addressKey } from "../http/client-address.js";
import type { SessionRepository } from "../sessions/session.repository.js";
import type { Attempt, AttemptThrottle, Escalation, ThrottleKey } from "../throttling/attempt-throttle.js";
import type { Device } from "./device-cookie.js";
import { auditEscalations } from "../throttling/lockout.service.js";

export type LoginFailure = "unknown-user" | "wrong-password" | "disabled";

export type Throttled = { ok: false; reason: "throttled"; retryAfterSeconds: number; locked: boolean };

export type LoginResult = { ok: true; officer: Officer } | { ok: false; reason: LoginFailure } | Throttled;

/** The login's second step, or a step-up: the code (or password) was accepted, or why not. */
export type SecondFactorResult = { ok: true; method: "totp" | "recovery" } | { ok: false; reason: "wrong-code" } | Throttled;
export type ReauthenticationResult = { ok: true; method: "password" | "totp" | "recovery" } | { ok: false; reason: "wrong-password" | "wrong-code" } | Throttled;

export type PasswordChange =
  | { ok: true; officer: Officer; sessionsEnded: number }
  | { ok: false; reason: "wrong-password" | "mismatch" | "unchanged" | "policy"; message?: string }
  | Throttled;

/**
 * Whether a login still owes its second step (the code at /login/mfa) after the first factor: the
 * one rule for the password and the identity provider alike. Until it is given the officer is not
 * logged in, and their last login is not recorded.
 */
export function secondStepOwed(officer: Officer, secondFactorByIdentityProvider: boolean): boolean {
  return officer.secondFactorEnrolled && !secondFactorByIdentityProvider;
}

/**
 * Officer login, the rules only (no req/res). The order is fixed: look-up (an indexed read, no
 * argon2) -> throttle -> exactly one argon2 verification, against the start-up dummy hash when the
 * login is unknown, so that unknown, wrong and disabled cost the same -> audit and count the
 * attempt in one transaction. A throttled attempt costs no argon2 work at all.
 *
 * Counted on: from a browser holding a device cookie of the submitted login, that device only
 * (RL-03); from anywhere else, the submitted login id (RL-01) and the client address (RL-02, an
 * IPv6 address by its /64). A device in lockout falls back to the second, as OWASP says. A login
 * id that names no officer is counted and audited only under its keyed hash (it may be a password
 * typed into the wrong box).
 */
export function createLoginService(deps: {
  officers: OfficerService; secondFactors: SecondFactorService; sessions: SessionRepository; attempts: AttemptThrottle; tx: Transactions; hasher: Hasher; audit: AuditService;
  limits: Pick<Limits, "login" | "address" | "device">; loginNames: LoginNameHash;
}) {
  const { officers, secondFactors, sessions, attempts: throttle, tx: db, hasher, audit, limits, loginNames } = deps;
  const untrusted = (actor: string, clientAddress: string): ThrottleKey[] => [
    { scope: "login", key: actor, policy: limits.login },
    { scope: "address", key: addressKey(clientAddress), policy: limits.address },
  ];

  const recordAttempt = db.transaction((countAttempt: () => Escalation[], event: string, outcome: string, actor: string, officer: Officer | undefined, clientAddress: string, viaDevice: boolean) => {
    audit.appendInTransaction({
      event, outcome, actorKind: officer ? "officer" : "anonymous", actor,
      officerId: officer?.id ?? null, ordererCode: officer?.ordererCode ?? null, clientAddress,
      ...(viaDevice ? { detail: { device: true } } : {}),
    });
    auditEscalations(audit, countAttempt(), { actor, officerId: officer?.id, ordererCode: officer?.ordererCode, clientAddress });
  });

  // A code is checked, used up, audited and counted in one transaction: a code accepted is a code spent.
  const recordCode = db.transaction((officer: Officer, code: string, attempt: Attempt & { allowed: true }, events: { ok: string; fail: string }, clientAddress: string, viaDevice: boolean, onSuccess: () => void): CodeCheck => {
    const check = secondFactors.consumeCode(officer, code);
    const entry = { actorKind: "officer" as const, actor: officer.login, officerId: officer.id, ordererCode: officer.ordererCode, clientAddress };
    if (check.ok) {
      attempt.succeeded();
      onSuccess();
      audit.appendInTransaction({ ...entry, event: events.ok, outcome: check.method, ...(viaDevice ? { detail: { device: true } } : {}) });
    } else {
      const escalations = attempt.failed();
      audit.appendInTransaction({ ...entry, event: events.fail, outcome: check.reason, ...(viaDevice ? { detail: { device: true } } : {}) });
      auditEscalations(audit, escalations, { actor: officer.login, officerId: officer.id, ordererCode: officer.ordererCode, clientAddress });
    }
    return check;
  });

  /** The device's own counter when the browser holds a device cookie for this login and it is not in lockout. */
  function reserveTrusted(login: string, device: Device | undefined): Attempt | undefined {
    if (!device || device.login !== login) return undefined;
    const attempt = throttle.reserve([{ scope: "device", key: device.id, policy: limits.device }]);
    return attempt.allowed ? attempt : undefined;
  }

  /** Reserve, then one argon2 verification of `password` (against the dummy hash when unknown). */
  async function checkPassword(officer: Officer | undefined, password: string, keys: ThrottleKey[], trusted?: Attempt) {
    const attempt = trusted ?? throttle.reserve(keys);
    if (!attempt.allowed) return { throttled: { retryAfterSeconds: attempt.retryAfterSeconds, locked: attempt.locked } } as const;
    let matches: boolean;
    try {
      matches = officer ? await hasher.verify(officer.passwordHash, password) : await hasher.verifyDummy(password);
    } catch (error) {
      // Too busy to verify: the attempt was never made, so it must not count against anyone.
      if (error instanceof Argon2BusyError) attempt.release();
      throw error;
    }
    return { throttled: undefined, attempt, matches } as const;
  }

  return {
    async authenticate(input: { username: string; password: string; clientAddress: string; device?: Device }): Promise<LoginResult> {
      // Audit rows are bounded too: a username is at most 64 characters by then (readForm).
      const login = normalizeLogin(input.username).slice(0, 64);
      const password = normalizePassword(input.password);
      const officer = login === "" ? undefined : officers.findByLogin(login);
      const actor = officer ? login : loginNames(login);
      const trusted = reserveTrusted(login, input.device);
      const checked = await checkPassword(officer, password, untrusted(actor, input.clientAddress), trusted);
      if (checked.throttled) return { ok: false, reason: "throttled", ...checked.throttled };
      const { attempt, matches } = checked;
      const failure: LoginFailure | undefined = !officer ? "unknown-user" : !matches ? "wrong-password" : !officer.active ? "disabled" : undefined;
      if (failure) {
        recordAttempt.immediate(() => attempt.failed(), "authn_login_fail", failure, actor, officer, input.clientAddress, trusted !== undefined);
        return { ok: false, reason: failure };
      }
      if (secondStepOwed(officer!, false)) {
        // Not logged in yet: the reservation is given back without the success that would clear the
        // counters, so that someone holding the password still meets the login id's delay and lock
        // when guessing codes (a success clears them only after the code: verifySecondFactor).
        recordAttempt.immediate(() => { attempt.release(); return []; }, "authn_login_password_ok", "second-factor-next", login, officer, input.clientAddress, trusted !== undefined);
      } else {
        recordAttempt.immediate(() => { attempt.succeeded(); officers.recordLogin(officer!); return []; }, "authn_login_success", "ok", login, officer, input.clientAddress, trusted !== undefined);
      }
      await officers.rehashIfNeeded(officer!, password);
      return { ok: true, officer: officers.findById(officer!.id)! };
    },

    /**
     * The login's second step: a TOTP code or a recovery code of the officer who has just given
     * the password, throttled on the same counters as the password (the device's, else the login
     * id's and the address's), each failure audited; the login is recorded when the code is accepted.
     */
    verifySecondFactor(officer: Officer, code: string, context: { clientAddress: string; device?: Device }): SecondFactorResult {
      const trusted = reserveTrusted(officer.login, context.device);
      const attempt = trusted ?? throttle.reserve(untrusted(officer.login, context.clientAddress));
      if (!attempt.allowed) return { ok: false, reason: "throttled", retryAfterSeconds: attempt.retryAfterSeconds, locked: attempt.locked };
      const check = recordCode.immediate(officer, code, attempt, { ok: "authn_login_success", fail: "authn_mfa_fail" }, context.clientAddress, trusted !== undefined, () => officers.recordLogin(officer));
      return check.ok ? check : { ok: false, reason: "wrong-code" };
    },

    /**
     * A step-up (requireRecentAuthentication): a logged-in officer proves again who they are, by
     * password or by code, counted like the password change (the device's counter, else the login id's).
     */
    async reauthenticate(officer: Officer, input: { password: string; code: string }, context: { clientAddress: string; device?: Device }): Promise<ReauthenticationResult> {
      const keys: ThrottleKey[] = [{ scope: "login", key: officer.login, policy: limits.login }];
      const trusted = reserveTrusted(officer.login, context.device);
      const viaDevice = trusted !== undefined;
      if (input.code !== "") {
        const attempt = trusted ?? throttle.reserve(keys);
        if (!attempt.allowed) return { ok: false, reason: "throttled", retryAfterSeconds: attempt.retryAfterSeconds, locked: attempt.locked };
        const check = recordCode.immediate(officer, input.code, attempt, { ok: "authn_reauth_success", fail: "authn_reauth_fail" }, context.clientAddress, viaDevice, () => undefined);
        return check.ok ? check : { ok: false, reason: "wrong-code" };
      }
      const checked = await checkPassword(officer, normalizePassword(input.password), keys, trusted);
      if (checked.throttled) return { ok: false, reason: "throttled", ...checked.throttled };
      if (!checked.matches) {
        recordAttempt.immediate(() => checked.attempt.failed(), "authn_reauth_fail", "wrong-password", officer.login, officer, context.clientAddress, viaDevice);
        return { ok: false, reason: "wrong-password" };
      }
      recordAttempt.immediate(() => { checked.attempt.succeeded(); return []; }, "authn_reauth_success", "password", officer.login, officer, context.clientAddress, viaDevice);
      return { ok: true, method: "password" };
    },

    /**
     * An officer's own password change. The current password is checked like a login (same
     * counters: a stolen session cannot be used to guess it), then the policy; on success every
     * other session of the officer ends, the current one stays.
     */
    async changePassword(
      officer: Officer,
      input: { currentPassword: string; newPassword: string; confirmPassword: string },
      context: { sessionId: string; clientAddress: string; device?: Device },
    ): Promise<PasswordChange> {
      // A logged-in officer: their device's counter, else the login id's; the address limit is for
      // anonymous logins. So a stranger who locked the login id cannot stop the forced change either.
      const keys: ThrottleKey[] = [{ scope: "login", key: officer.login, policy: limits.login }];
      const trusted = reserveTrusted(officer.login, context.device);
      const checked = await checkPassword(officer, normalizePassword(input.currentPassword), keys, trusted);
      if (checked.throttled) return { ok: false, reason: "throttled", ...checked.throttled };
      if (!checked.matches) {
        recordAttempt.immediate(() => checked.attempt.failed(), "officer_password_change_fail", "wrong-password", officer.login, officer, context.clientAddress, trusted !== undefined);
        return { ok: false, reason: "wrong-password" };
      }
      checked.attempt.succeeded();
      if (input.newPassword !== input.confirmPassword) return { ok: false, reason: "mismatch" };
      if (normalizePassword(input.newPassword) === normalizePassword(input.currentPassword)) return { ok: false, reason: "unchanged" };
      const changed = await officers.changeOwnPassword(officer, input.newPassword);
      if (!changed.ok) return { ok: false, reason: "policy", message: changed.problems[0]!.message };
      const sessionsEnded = sessions.destroyByOfficerExcept(officer.id, context.sessionId);
      return { ok: true, officer: changed.value, sessionsEnded };
    },
  };
}

export type LoginService = ReturnType<typeof createLoginService>;
