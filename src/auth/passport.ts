import { Passport } from "passport";
import type { OfficerService } from "../officers/officer.service.js";

/**
 * Passport for officer sessions, built per app (never the global passport instance). It keeps
 * the session side: req.logIn (which regenerates the session, so the pre-login id and CSRF
 * token are dropped), req.logOut, and re-reading the officer on every request.
 *
 * The password check itself is createLoginService().authenticate, called by POST /login, and
 * not a passport-local strategy: passport-local falls back to the query string when a body field
 * is empty (credentials in URLs and logs) and answers an empty field before the verify function
 * runs (no argon2 work, so a faster, different failure). The login service has neither flaw and
 * reserves the throttle before its one argon2 verification.
 */
export function createPassport(deps: { officers: OfficerService }) {
  const passport = new Passport();

  // Only the id goes into the session; the officer is re-read on every request so that disabling
  // an account or resetting its password takes effect at once.
  passport.serializeUser((user, done) => done(null, { id: user.id }));
  passport.deserializeUser((stored: { id?: number }, done) => {
    const officer = typeof stored?.id === "number" ? deps.officers.findById(stored.id) : undefined;
    done(null, officer && officer.active ? officer : false);
  });

  return passport;
}
