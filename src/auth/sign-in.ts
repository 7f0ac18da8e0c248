import type { NextFunction, Request, Response } from "express";
import type { Clock } from "../clock.js";
import type { Officer } from "../officers/officer.repository.js";
import type { DeviceCookies } from "./device-cookie.js";
import { secondStepOwed } from "./login.service.js";

declare module "express-session" {
  interface SessionData {
    /** An anonymous session's visitor gave this officer's password (or signed in at the identity
     * provider) at `at` and owes a code: the login's second step. Ids and times only, no secret. */
    pendingLogin?: { officerId: number; at: number };
  }
}

/** Sends the browser on to a path of this site once the sign-in has done its part. */
export type GoOn = (res: Response, path: string) => void;

/** How long the login's second step waits for the code after the password. */
export const SECOND_STEP_MS = 5 * 60_000;

/**
 * The end of every sign-in, whatever the first factor was (password, or the orderer's identity
 * provider): one place decides whether a code is still owed, and one place logs in.
 */
export function createSignIn(deps: { clock: Clock; deviceCookies: DeviceCookies }) {
  const { clock, deviceCookies } = deps;
  const redirect: GoOn = (res, path) => res.redirect(303, path);

  /** Logs the officer in (passport regenerates the session: the anonymous one and its token are
   * dropped), starts the step-up clock, and goes on to /password or /verify. */
  function logIn(req: Request, res: Response, next: NextFunction, officer: Officer, secondFactorByIdentityProvider: boolean, goOn: GoOn): void {
    // A device cookie only for a full login: a password alone must not earn the device's own counter for guessing codes.
    deviceCookies.issue(res, officer.login);
    req.logIn(officer, (loginError) => {
      if (loginError) return next(loginError);
      const now = clock.now().getTime();
      req.session.loginAt = now;
      req.session.lastSeenAt = now;
      req.session.authenticatedAt = now;
      if (secondFactorByIdentityProvider) req.session.secondFactorByIdentityProvider = true;
      goOn(res, officer.mustChangePassword ? "/password" : "/verify");
    });
  }

  return {
    /**
     * After a first factor succeeded for `officer`: an officer with a confirmed second factor is
     * not logged in yet unless the identity provider already satisfied a second factor; the
     * anonymous session remembers who and when, and the browser goes to /login/mfa (303).
     * Everyone else is logged in at once. `goOn` sends the browser on (a 303 unless told otherwise:
     * the identity provider's callback continues by a page, see src/sso/sso.routes.ts).
     */
    continueAfterFirstFactor(req: Request, res: Response, next: NextFunction, officer: Officer, options: { secondFactorByIdentityProvider: boolean; goOn?: GoOn }): void {
      const goOn = options.goOn ?? redirect;
      if (secondStepOwed(officer, options.secondFactorByIdentityProvider)) {
        req.session.pendingLogin = { officerId: officer.id, at: clock.now().getTime() };
        goOn(res, "/login/mfa");
        return;
      }
      logIn(req, res, next, officer, options.secondFactorByIdentityProvider, goOn);
    },

    /** The officer id of the session's second step while it is still open (five minutes). */
    pendingOfficerId(req: Request): number | undefined {
      const pending = req.session.pendingLogin;
      return pending && clock.now().getTime() - pending.at <= SECOND_STEP_MS ? pending.officerId : undefined;
    },

    /** The code was accepted: the login completes. */
    completeSecondStep(req: Request, res: Response, next: NextFunction, officer: Officer): void {
      logIn(req, res, next, officer, false, redirect);
    },
  };
}

export type SignIn = ReturnType<typeof createSignIn>;
