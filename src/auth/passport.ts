import { Passport } from "passport";
import { Strategy as LocalStrategy } from "passport-local";
import { clientAddress } from "../http/client-address.js";
import type { OfficerService } from "../officers/officer.service.js";
import type { DeviceCookies } from "./device-cookie.js";
import type { LoginResult, LoginService } from "./login.service.js";

/**
 * Passport for officer sessions, built per app (never the global passport instance): the
 * passport-local strategy, req.logIn (which regenerates the session, so the pre-login id and
 * CSRF token are dropped), req.logOut, and re-reading the officer on every request.
 *
 * The strategy's verify function is the login service, which reserves the throttle before its one
 * argon2 verification; its whole result travels as passport's `info` so the route can tell a
 * throttled attempt (429) from a failure (401).
 */
export function createPassport(deps: { officers: OfficerService; login: LoginService; deviceCookies: DeviceCookies }) {
  const passport = new Passport();

  passport.use(
    new LocalStrategy({ usernameField: "username", passwordField: "password", passReqToCallback: true }, (req, username, password, done) => {
      deps.login.authenticate({ username, password, clientAddress: clientAddress(req), device: deps.deviceCookies.fromRequest(req) }).then(
        (result: LoginResult) => done(null, result.ok ? result.officer : false, result as unknown as { message: string }),
        done,
      );
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
