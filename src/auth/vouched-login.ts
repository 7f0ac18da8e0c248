import type { Request } from "express";
import type { Clock } from "../clock.js";
import type { Officer } from "../officers/officer.repository.js";

declare module "express-session" {
  interface SessionData {
    /** The officer's identity provider reported a second factor (amr/acr) and the orderer lets that count. */
    providerMfa?: boolean;
  }
}

/**
 * An identity provider vouched for `officer`: log them in with the session fields POST /login
 * sets (passport regenerates the session, dropping the pre-login id and CSRF token), plus whether
 * the provider's second factor counts as Kakunin's. The one place such a login is made.
 */
export function logInVouched(req: Request, clock: Clock, officer: Officer, vouch: { providerMfa: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    req.logIn(officer, (error) => {
      if (error) return reject(error);
      const now = clock.now().getTime();
      req.session.loginAt = now;
      req.session.lastSeenAt = now;
      req.session.providerMfa = vouch.providerMfa;
      resolve();
    });
  });
}
