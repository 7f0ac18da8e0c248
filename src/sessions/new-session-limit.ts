import type { RequestHandler } from "express";
import type { Clock } from "../clock.js";
import type { Limits } from "../config.js";
import type { SessionRepository } from "./session.repository.js";

declare module "express-session" {
  interface SessionData {
    /** Where an anonymous session was started; the store keeps it in a column (DOS-04). */
    clientAddress?: string;
  }
}

/** Too many anonymous sessions from one address: 429, and no session is started. */
export class TooManyNewSessionsError extends Error {
  readonly status = 429;
  readonly code = "sessions.per_address";
  constructor(readonly retryAfterSeconds: number) {
    super("too many new sessions from this address");
  }
}

/**
 * DOS-04: a login form's CSRF token needs a server-side session, so every cookie-less GET /login
 * would write a row. An address may hold at most `perAddress` anonymous sessions started within
 * `windowMs`; beyond that the form answers 429 and writes nothing. A session the browser already
 * has is never refused, and one that logs in stops counting (it becomes the officer's), so an
 * office behind one address is refused only if it opens that many forms without logging in.
 */
export function limitNewSessions(sessions: SessionRepository, clock: Clock, limit: Limits["newSessions"]): RequestHandler {
  return (req, _res, next) => {
    // A session that holds a token was started earlier; csrf-sync puts one in every new session.
    if (req.session.csrfToken !== undefined) return next();
    const address = req.ip ?? "unknown";
    const now = clock.now().getTime();
    if (sessions.countRecentAnonymous(address, now - limit.windowMs, now) >= limit.perAddress) {
      return next(new TooManyNewSessionsError(Math.ceil(limit.windowMs / 1000)));
    }
    req.session.clientAddress = address;
    next();
  };
}
