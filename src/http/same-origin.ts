import { HttpError } from "./http-error.js";
import type { NextFunction, Request, Response } from "express";

/** A state-changing request from another site: 403, like a bad CSRF token. */
function crossSite(reason: string): HttpError {
  return new HttpError(403, "cross-site", { detail: `cross-site request refused: ${reason}` });
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Defence in depth behind the CSRF token (CSRF-03): a POST is refused when the browser says it
 * comes from another site (`Sec-Fetch-Site: cross-site` or `same-site`), or when its `Origin`
 * (or, without one, its `Referer`) is not this service's own origin as the request names it
 * (scheme from `req.protocol`, which honours `trust proxy`, and the Host header). Requests with
 * none of these headers (curl, old browsers) still need the synchronizer token.
 *
 * Our own forms arrive with `Origin: null`: helmet's `Referrer-Policy: no-referrer` makes the
 * browser serialise the origin of a POST as "null" (Fetch, "append a request Origin header").
 * "null" is therefore accepted only when `Sec-Fetch-Site: same-origin` vouches for the request.
 */
export function requireSameOrigin(req: Request, _res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method)) return next();
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") return next(crossSite(`sec-fetch-site ${site}`));
  const expected = `${req.protocol}://${req.get("host") ?? ""}`.toLowerCase();
  const origin = req.headers.origin;
  if (origin !== undefined) {
    if (origin === "null") return site === "same-origin" ? next() : next(crossSite("origin null"));
    if (origin.toLowerCase() !== expected) return next(crossSite("origin"));
    return next();
  }
  const referer = req.headers.referer;
  if (referer !== undefined && originOf(referer) !== expected) return next(crossSite("referer"));
  next();
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin.toLowerCase();
  } catch {
    return undefined;
  }
}
