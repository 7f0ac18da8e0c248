import { Passport } from "passport";
import { Strategy as LocalStrategy } from "passport-local";
import type { AuditService } from "../audit/audit.service.js";
import type { Officer } from "../officers/officer.repository.js";
import type { OfficerService } from "../officers/officer.service.js";
import { normalizeLogin } from "../officers/officer.service.js";
import { normalizePassword } from "../officers/password-policy.js";
import type { Hasher } from "../security/hasher.js";

export type LoginFailure = "unknown-user" | "wrong-password" | "disabled";

/**
 * Passport configured for officers, built per app (never the global passport instance).
 * One message for every failure, and exactly one argon2 verification whatever the failure:
 * an unknown or disabled login is checked against the dummy hash so its timing matches.
 */
export function createPassport(deps: { officers: OfficerService; hasher: Hasher; audit: AuditService }) {
  const passport = new Passport();

  async function verifyOfficer(rawLogin: string, rawPassword: string): Promise<{ officer?: Officer; failure?: LoginFailure; login: string }> {
    const login = normalizeLogin(rawLogin);
    const password = normalizePassword(rawPassword);
    const officer = deps.officers.findByLogin(login);
    if (!officer) {
      await deps.hasher.verifyDummy(password);
      return { failure: "unknown-user", login };
    }
    const matches = await deps.hasher.verify(officer.passwordHash, password);
    if (!matches) return { failure: "wrong-password", login, officer };
    if (!officer.active) return { failure: "disabled", login, officer };
    await deps.officers.rehashIfNeeded(officer, password);
    return { officer, login };
  }

  passport.use(
    new LocalStrategy({ usernameField: "username", passwordField: "password", passReqToCallback: true }, (req, username, password, done) => {
      verifyOfficer(username, password).then(({ officer, failure, login }) => {
        deps.audit.record({
          event: failure ? "authn_login_fail" : "authn_login_success",
          outcome: failure ?? "ok",
          actorKind: officer ? "officer" : "anonymous",
          actor: login.slice(0, 64),
          officerId: officer?.id ?? null,
          ordererCode: officer?.ordererCode ?? null,
          clientAddress: req.ip ?? null,
        });
        done(null, failure ? false : officer);
      }, done);
    }),
  );

  // Only the id goes into the session; the officer is re-read on every request so that disabling
  // an account or resetting its password takes effect at once.
  passport.serializeUser((user, done) => done(null, { id: user.id }));
  passport.deserializeUser((stored: { id?: number }, done) => {
    const officer = typeof stored?.id === "number" ? deps.officers.findById(stored.id) : undefined;
    done(null, officer && officer.active ? officer : false);
  });

  return passport;
}
