import type { RequestHandler } from "express";
import { clientAddress } from "../http/client-address.js";
import { HttpError } from "../http/http-error.js";
import type { ApiCaller, ApiService } from "./api.service.js";

const REALM = 'Bearer realm="kakunin-api"';

/**
 * The API's guard: `Authorization: Bearer <token>`, the token valid, and its client active now
 * (re-read on every request, so disabling a client stops its tokens at once). Sets
 * res.locals.caller. Refusals are 401 with WWW-Authenticate (RFC 6750 §3).
 */
export function requireBearer(api: Pick<ApiService, "authorize">): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization ?? "";
    const match = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
    if (!match) {
      return next(new HttpError(401, "unauthorized", { detail: "An access token is required: Authorization: Bearer <token> (POST /api/v1/token gives one).", challenge: REALM }));
    }
    const client = await api.authorize(match[1]!);
    if (!client) {
      return next(new HttpError(401, "invalid-token", {
        detail: "The access token is invalid or has expired, or its client is disabled. Ask POST /api/v1/token for a new one.",
        challenge: `${REALM}, error="invalid_token"`,
      }));
    }
    res.locals.caller = { client, clientAddress: clientAddress(req) } satisfies ApiCaller;
    next();
  };
}

/** The caller requireBearer found. */
export const callerOf = (res: { locals: Record<string, unknown> }): ApiCaller => res.locals.caller as ApiCaller;
