import type { RequestHandler } from "express";
import { createHash, randomUUID } from "node:crypto";
import type { Logger } from "../logger.js";

/** An X-Request-Id we accept from a proxy or client: letters, digits and . _ : - only, 8 to 64 of
 * them (a UUID, nginx's $request_id), so that it can neither forge log fields nor split lines. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{7,63}$/;

/** Paths are logged up to this length (never the query string, which may carry anything). */
const MAX_LOGGED_PATH = 256;

/** Paths that carry a credential: an invitation's single-use token is logged as "…". */
const SECRET_IN_PATH = /^(\/invitations\/)[^/]+/;

/** A path as logs and audit rows may hold it: no query string, no credential, bounded. Every log
 * line naming a path goes through this (the request line and the error handler's). */
export function loggablePath(path: string): string {
  return (path.split("?")[0] ?? "").replace(SECRET_IN_PATH, "$1…").slice(0, MAX_LOGGED_PATH);
}

/** What the logs may say about a session: enough to follow one through the log, useless to hijack it
 * (OWASP Logging: "hash session ids"). */
export function sessionTag(sessionId: string): string {
  return createHash("sha256").update(sessionId).digest("hex").slice(0, 16);
}

/**
 * One JSON log line per request once the response is sent (or the client gave up): request id,
 * method, path without the query, status, duration, client address, the officer if logged in and
 * a hash of the session id. Nothing from the body, the cookies or other headers is logged.
 *
 * The request id is the incoming X-Request-Id when it is safe (so a proxy's id follows the request),
 * else a new UUID; it is echoed in the response header and kept in res.locals.requestId, which the
 * error page shows and every other log line of the request carries.
 */
export function createRequestLog(logger: Logger): RequestHandler {
  // The request line is an allow-list: the fields below and nothing else, none of them a secret.
  // So it skips the logger's deny-list redaction, which walks its ~35 paths for every line (most of
  // a line's cost: docs/BENCHMARKS.md).
  const lines = logger.child({}, { redact: { paths: [] } });
  return (req, res, next) => {
    const incoming = req.get("x-request-id");
    const requestId = incoming !== undefined && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader("X-Request-Id", requestId);
    const started = process.hrtime.bigint();

    let logged = false;
    const log = (aborted: boolean) => {
      if (logged) return;
      logged = true;
      const status = res.statusCode;
      const hadSession = req.sessionID !== undefined && (req.headers.cookie !== undefined || res.getHeader("set-cookie") !== undefined);
      const line = {
        evt: "http_request",
        requestId,
        method: req.method,
        path: loggablePath(req.originalUrl),
        status,
        durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
        ip: req.ip,
        ...(req.user ? { officerId: req.user.id } : {}),
        ...(hadSession ? { session: sessionTag(req.sessionID) } : {}),
        ...(aborted ? { aborted: true } : {}),
      };
      if (status >= 500) lines.error(line, "request");
      else lines.info(line, "request");
    };
    res.on("finish", () => log(false));
    res.on("close", () => log(!res.writableFinished));
    next();
  };
}
