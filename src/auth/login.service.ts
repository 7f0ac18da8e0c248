import type { AuditService } from "../audit/audit.service.js";
import type { Limits } from "../config.js";
import type { Transactions } from "../db/transactions.js";
import { normalizeLogin } from "../format/normalize.js";
import type { Officer } from "../officers/officer.repository.js";
import type { OfficerService } from "../officers/officer.service.js";
import { normalizePassword } from "../officers/password-policy.js";
import { Argon2BusyError } from "../security/argon2-limiter.js";
import type { Hasher } from "../security/hasher.js";
import type { SessionRepository } from "../sessions/session.repository.js";
import type { AttemptThrottle, Escalation, ThrottleKey } from "../throttling/attempt-throttle.js";
import { auditEscalations } from "../throttling/lockout.service.js";

export type LoginFailure = "unknown-user" | "wrong-password" | "disabled";

export type Throttled = { ok: false; reason: "throttled"; retryAfterSeconds: number; locked: boolean };

export type LoginResult = { ok: true; officer: Officer } | { ok: false; reason: LoginFailure } | Throttled;

export type PasswordChange =
  | { ok: true; officer: Officer; sessionsEnded: number }
  | { ok: false; reason: "wrong-password" | "mismatch" | "unchanged" | "policy"; message?: string }
  | Throttled;

/**
 * Officer login, the rules only (no req/res). The order is fixed: throttle (per submitted
 * username, real or not, and per client address) -> look-up -> exactly one argon2 verification,
 * against the start-up dummy hash when the login is unknown, so that unknown, wrong and disabled
 * cost the same -> audit and count the attempt in one transaction. A throttled attempt costs no
 * argon2 work at all.
 */
export function createLoginService(deps: {
  officers: OfficerService; sessions: SessionRepository; attempts: AttemptThrottle; tx: Transactions; hasher: Hasher; audit: AuditService; limits: Pick<Limits, "login" | "address">;
}) {
  const { officers, sessions, attempts: throttle, tx: db, hasher, audit, limits } = deps;
  const keysOf = (login: string, clientAddress: string): ThrottleKey[] => [
    { scope: "login", key: login, policy: limits.login },
    { scope: "address", key: clientAddress, policy: limits.address },
  ];

  const recordAttempt = db.transaction((countAttempt: () => Escalation[], event: string, outcome: string, login: string, officer: Officer | undefined, clientAddress: string) => {
    audit.appendInTransaction({
      event, outcome, actorKind: officer ? "officer" : "anonymous", actor: login,
      officerId: officer?.id ?? null, ordererCode: officer?.ordererCode ?? null, clientAddress,
    });
    auditEscalations(audit, countAttempt(), { actor: login, officerId: officer?.id, ordererCode: officer?.ordererCode, clientAddress });
  });

  /** Reserve, look up, then one argon2 verification of `password` (against the dummy hash when unknown). */
  async function checkPassword(login: string, password: string, clientAddress: string, lookUp: () => Officer | undefined) {
    const attempt = throttle.reserve(keysOf(login, clientAddress));
    if (!attempt.allowed) return { throttled: { retryAfterSeconds: attempt.retryAfterSeconds, locked: attempt.locked } } as const;
    const officer = lookUp();
    let matches: boolean;
    try {
      matches = officer ? await hasher.verify(officer.passwordHash, password) : await hasher.verifyDummy(password);
    } catch (error) {
      // Too busy to verify: the attempt was never made, so it must not count against anyone.
      if (error instanceof Argon2BusyError) attempt.release();
      throw error;
    }
    return { throttled: undefined, attempt, matches, officer } as const;
  }

  return {
    async authenticate(input: { username: string; password: string; clientAddress: string }): Promise<LoginResult> {
      // Audit rows are bounded too: a username is at most 64 characters by then (readForm).
      const login = normalizeLogin(input.username).slice(0, 64);
      const password = normalizePassword(input.password);
      const checked = await checkPassword(login, password, input.clientAddress, () => officers.findByLogin(login));
      if (checked.throttled) return { ok: false, reason: "throttled", ...checked.throttled };
      const { attempt, matches, officer } = checked;
      const failure: LoginFailure | undefined = !officer ? "unknown-user" : !matches ? "wrong-password" : !officer.active ? "disabled" : undefined;
      if (failure) {
        recordAttempt.immediate(() => attempt.failed(), "authn_login_fail", failure, login, officer, input.clientAddress);
        return { ok: false, reason: failure };
      }
      recordAttempt.immediate(() => { attempt.succeeded(); return []; }, "authn_login_success", "ok", login, officer, input.clientAddress);
      await officers.rehashIfNeeded(officer!, password);
      return { ok: true, officer: officers.findById(officer!.id)! };
    },

    /**
     * An officer's own password change. The current password is checked like a login (same
     * counters: a stolen session cannot be used to guess it), then the policy; on success every
     * other session of the officer ends, the current one stays.
     */
    async changePassword(
      officer: Officer,
      input: { currentPassword: string; newPassword: string; confirmPassword: string },
      context: { sessionId: string; clientAddress: string },
    ): Promise<PasswordChange> {
      const checked = await checkPassword(officer.login, normalizePassword(input.currentPassword), context.clientAddress, () => officer);
      if (checked.throttled) return { ok: false, reason: "throttled", ...checked.throttled };
      if (!checked.matches) {
        recordAttempt.immediate(() => checked.attempt.failed(), "officer_password_change_fail", "wrong-password", officer.login, officer, context.clientAddress);
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
