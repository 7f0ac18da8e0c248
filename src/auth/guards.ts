import type { NextFunction, Request, Response } from "express";
import type { Clock } from "../clock.js";
import type { Limits } from "../config.js";
import { localPath } from "../http/local-path.js";
import { secondFactorRequired } from "../mfa/second-factor.service.js";
import type { Officer } from "../officers/officer.repository.js";
import { TOUCH_INTERVAL_MS } from "../sessions/session.repository.js";
import type { SessionEnd } from "../sessions/session.service.js";

declare module "express-session" {
  interface SessionData {
    loginAt?: number;
    lastSeenAt?: number;
    flash?: string;
    /** When the officer last proved who they are (password, code, identity provider): the step-up's clock. */
    authenticatedAt?: number;
    /** The identity provider vouched for a second factor at this session's sign-in (OpenID Connect amr/acr). */
    secondFactorByIdentityProvider?: boolean;
  }
}

declare global {
  namespace Express {
    // passport's req.user is the officer re-read from the database on every request.
    interface User extends Officer {}
  }
}

/** Every page but login, static files, /orderers and /healthz goes through this. It also ends
 * sessions idle for 30 minutes or older than 8 hours (express-session has no absolute timeout),
 * telling `onExpired` (which audits it) first. */
export function requireLogin(clock: Clock, timeouts: Limits["session"], onExpired: (req: Request, reason: SessionEnd) => void) {
  return function requireLogin(req: Request, res: Response, next: NextFunction): void {
    const now = clock.now().getTime();
    const session = req.session;
    if (!req.user || !session.loginAt) {
      res.redirect(303, "/login");
      return;
    }
    const expired: SessionEnd | undefined = now - session.loginAt > timeouts.absoluteMs ? "absolute"
      : now - (session.lastSeenAt ?? session.loginAt) > timeouts.idleMs ? "idle" : undefined;
    if (expired) {
      onExpired(req, expired);
      session.destroy(() => res.redirect(303, "/login?expired=1"));
      return;
    }
    // Refreshed as seldom as the row's expiry, so that reading pages does not rewrite the session row each time.
    if (now - (session.lastSeenAt ?? 0) > TOUCH_INTERVAL_MS) session.lastSeenAt = now;
    next();
  };
}

/** An officer holding a CLI-generated one-time password may only set a new one. */
export function requirePasswordChanged(req: Request, res: Response, next: NextFunction): void {
  if (req.user?.mustChangePassword) {
    res.redirect(303, "/password");
    return;
  }
  next();
}

/**
 * An officer who must use a second factor (an administrator, or one whose orderer requires it) and
 * has none enrolled goes to /account/mfa first; a sign-in whose identity provider vouched for a
 * second factor passes. Mounted after requirePasswordChanged on every officer page and on /admin.
 */
export function requireSecondFactor(req: Request, res: Response, next: NextFunction): void {
  const officer = req.user;
  if (officer && secondFactorRequired(officer) && !officer.secondFactorEnrolled && !req.session.secondFactorByIdentityProvider) {
    res.redirect(303, "/account/mfa");
    return;
  }
  next();
}

/** How long a proof of identity lets an officer do what asks for one (step-up). */
export const RECENT_AUTHENTICATION_MS = 5 * 60_000;

/**
 * Actions that must not follow from a stolen or forgotten open session alone (removing a second
 * factor, new recovery codes, the administrators' actions) need a password or code given in the
 * last five minutes; otherwise 303 to /account/confirm, which comes back afterwards: to this page
 * for a GET; for a POST (browsers send no Referer here: Referrer-Policy no-referrer) to the page
 * `returnTo` names, by default the action's parent path (POST /account/mfa/remove -> /account/mfa),
 * where the officer sends the form again, knowingly.
 */
export function requireRecentAuthentication(clock: Clock, returnTo: (req: Request) => string = parentPath) {
  return function requireRecentAuthentication(req: Request, res: Response, next: NextFunction): void {
    if (clock.now().getTime() - (req.session.authenticatedAt ?? 0) <= RECENT_AUTHENTICATION_MS) {
      next();
      return;
    }
    const back = localPath(req.method === "GET" ? req.originalUrl : returnTo(req)) ?? "/verify";
    res.redirect(303, `/account/confirm?next=${encodeURIComponent(back)}`);
  };
}

/**
 * The step-up, only for an officer who already has a second factor: showing or confirming a new
 * secret then replaces it (and its recovery codes), which an open session alone must not do; a
 * first enrolment needs none.
 */
export function requireRecentAuthenticationWhenEnrolled(clock: Clock) {
  const recent = requireRecentAuthentication(clock, () => "/account/mfa");
  return function requireRecentAuthenticationWhenEnrolled(req: Request, res: Response, next: NextFunction): void {
    if (req.user?.secondFactorEnrolled) recent(req, res, next);
    else next();
  };
}

const parentPath = (req: Request) => req.path.replace(/\/[^/]*$/, "") || "/";

/** Authenticated pages must not be kept by the browser or any proxy. */
export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.set("Cache-Control", "no-store");
  next();
}

/** Everything under /admin is for the orderer's administrators. Anyone else gets the same 404 as an
 * unknown page (the route is skipped, so the one 404 handler answers), so that it does not tell
 * officers what is there. */
export function requireAdministrator(req: Request, _res: Response, next: NextFunction): void {
  next(req.user?.role === "admin" ? undefined : "route");
}
