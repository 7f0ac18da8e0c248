import type { RequestHandler } from "express";
import { addressKey, clientAddress } from "../http/client-address.js";
import { HttpError } from "../http/http-error.js";
import type { Clock } from "../clock.js";
import type { Limits } from "../config.js";
import type { SessionRepository } from "./session.repository.js";

declare module "express-session" {
  interface SessionData {
    /** Where an anonymous session was started; the store keeps it in a column (DOS-04). */
    clientAddress?: string;
  }
}


/**
 * DOS-04: a login form's CSRF token needs a server-side session, so every cookie-less GET /login
 * would write a row. An address may hold at most `perAddress` anonymous sessions started within
 * `windowMs`; beyond that the form answers 429 and writes nothing. Such a session lives a fixed
 * time (limits.session.anonymousLifetimeMs, not pushed by reloads), so an address holds a bounded
 * number of rows. A session the browser already has is never refused, and one that logs in stops
 * counting (passport replaces it with the officer's).
 */
export function limitNewSessions(sessions: SessionRepository, clock: Clock, limit: Limits["newSessions"]): RequestHandler {
  // New sessions allowed but not yet written: the row is written as the response ends, and requests
  // pipelined on one connection are all checked before the first of them ends.
  const pending = new Map<string, number>();
  return (req, res, next) => {
    // A session that holds a token was started earlier; csrf-sync puts one in every new session.
    if (req.session.csrfToken !== undefined) return next();
    const address = addressKey(clientAddress(req)); // an IPv6 client by its /64, as the login throttle counts it
    const now = clock.now().getTime();
    const inFlight = pending.get(address) ?? 0;
    if (sessions.countRecentAnonymous(address, now - limit.windowMs, now) + inFlight >= limit.perAddress) {
      return next(new HttpError(429, "new-sessions-per-address", { retryAfterSeconds: Math.ceil(limit.windowMs / 1000) }));
    }
    pending.set(address, inFlight + 1);
    res.once("close", () => {
      const left = (pending.get(address) ?? 1) - 1;
      if (left > 0) pending.set(address, left);
      else pending.delete(address);
    });
    req.session.clientAddress = address;
    next();
  };
}
