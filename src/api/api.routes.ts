import type { ErrorRequestHandler, RequestHandler, Response } from "express";
import type { Clock } from "../clock.js";
import type { ContractService } from "../contracts/contract.service.js";
import { isRealIsoDate, tokyoDate } from "../format/era-date.js";
import { normalizeText } from "../format/normalize.js";
import { clientAddress } from "../http/client-address.js";
import { HttpError, toHttpError, type FieldError } from "../http/http-error.js";
import type { Logger } from "../logger.js";
import type { Problem } from "../result.js";
import { toEventJson } from "../notifications/event-json.js";
import { toChecksJson, toContractJson, toGuaranteeJson, toHeldItemJson, toVersionJson } from "./api.presenter.js";
import { contractActorOf, type ApiService } from "./api.service.js";
import { callerOf } from "./bearer.js";
import { decodeCursor, encodeCursor } from "./cursor.js";

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

/** Problems of the services (keyed by field) as the API's errors[]: by JSON pointer into the body,
 * or by name for the 契約番号, which the path carries. */
const toFieldErrors = (problems: readonly Problem[]): FieldError[] =>
  problems.map((p) => (p.field === "reference" ? { parameter: "reference", detail: p.message } : { pointer: `/${p.field}`, detail: p.message }));

const notFound = (what: string) => new HttpError(404, "not-found", { detail: `${what} is not among those this orderer holds.` });
const badParameter = (parameter: string, detail: string) => new HttpError(400, "invalid-parameter", { detail: `The ${parameter} parameter is invalid.`, errors: [{ parameter, detail }] });

/** The same answer for every failed verification, so nobody can probe which numbers exist. */
const VERIFICATION_FAILED = "The contract number or auth key is wrong, or the guarantee is not addressed to this orderer.";

/** An OAuth 2.0 error response (RFC 6749 §5.2): JSON, never cached. */
function oauthError(res: Response, status: number, error: string, description: string) {
  res.set({ "Cache-Control": "no-store", Pragma: "no-cache" });
  if (status === 401) res.set("WWW-Authenticate", 'Basic realm="kakunin-api", charset="UTF-8"');
  res.status(status).json({ error, error_description: description });
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined by ":" and base64-encoded. */
function readBasic(header: string | undefined): { clientId: string; clientSecret: string } | undefined {
  const match = /^Basic +([A-Za-z0-9+/]+=*)$/i.exec((header ?? "").trim());
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 1) return undefined;
  try {
    const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));
    return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/** The API's handlers; createApp mounts each with requireBearer (all but the token and the document). */
export function createApiHandlers(deps: { api: ApiService; contracts: ContractService; clock: Clock; logger: Logger; document: unknown }) {
  const { api, contracts, clock, logger } = deps;
  const today = () => tokyoDate(clock.now());

  /** POST /api/v1/token: client credentials by HTTP Basic -> a bearer token (RFC 6749 §4.4). */
  const token: RequestHandler = async (req, res) => {
    const body = (req.body ?? {}) as Record<string, string>;
    if (body.grant_type === undefined) return oauthError(res, 400, "invalid_request", "grant_type is required (client_credentials).");
    if (body.grant_type !== "client_credentials") return oauthError(res, 400, "unsupported_grant_type", "Only grant_type=client_credentials is supported.");
    if ("client_secret" in body) return oauthError(res, 400, "invalid_request", "Send the client credentials by HTTP Basic authentication, not in the body.");
    const credentials = readBasic(req.headers.authorization);
    if (!credentials) return oauthError(res, 401, "invalid_client", "Client authentication by HTTP Basic (client_id:client_secret) is required.");
    const issued = await api.issueToken(credentials.clientId, credentials.clientSecret, clientAddress(req));
    if (!issued.ok && issued.reason === "throttled") {
      logger.warn({ evt: "api_token_throttled", requestId: res.locals.requestId }, "token request throttled");
      res.set("Retry-After", String(issued.retryAfterSeconds));
      return oauthError(res, 429, "temporarily_unavailable", "Too many failed attempts; try again after the time in Retry-After.");
    }
    if (!issued.ok) return oauthError(res, 401, "invalid_client", "Client authentication failed.");
    res.set({ "Cache-Control": "no-store", Pragma: "no-cache" });
    res.json({ access_token: issued.accessToken, token_type: "Bearer", expires_in: issued.expiresIn });
  };

  /** GET /api/v1/openapi.json: the API's description, docs/openapi.yaml as read at start. */
  const openapi: RequestHandler = (_req, res) => void res.json(deps.document);

  /** POST /api/v1/verifications: 201 with the guarantee, now held by the orderer; 422 for any failure. */
  const verify: RequestHandler = async (req, res) => {
    const caller = callerOf(res);
    const body = req.body as { contractNumber: string; authKey: string };
    const outcome = await api.verify(caller, { contractNumber: body.contractNumber, authKey: body.authKey });
    if (!outcome.ok) throw new HttpError(422, "invalid-fields", { detail: "Some fields are invalid.", errors: toFieldErrors(outcome.problems) });
    const result = outcome.value;
    if (!result.ok && result.reason === "throttled") {
      logger.warn({ evt: "key_verify_throttled", requestId: res.locals.requestId, clientId: caller.client.clientId, locked: result.locked }, "verification throttled");
      throw new HttpError(429, "throttled", {
        retryAfterSeconds: result.retryAfterSeconds,
        detail: result.locked ? "This contract number is locked after repeated failures; the surety company must unlock it." : "Too many failed verifications; try again after the time in Retry-After.",
      });
    }
    if (!result.ok) throw new HttpError(422, "verification-failed", { detail: VERIFICATION_FAILED });
    const held = api.findHeld(caller, result.guarantee.contractNumber)!;
    res.status(201).location(`/api/v1/guarantees/${held.guarantee.contractNumber}`).json(toGuaranteeJson(held, api.listVersions(held), today()));
  };

  /** GET /api/v1/guarantees/{contractNumber}: status, current version, history; 404 unless held. */
  const guarantee: RequestHandler = async (req, res) => {
    const caller = callerOf(res);
    const held = api.findHeld(caller, String(req.params.contractNumber));
    if (!held) throw notFound("This guarantee");
    await api.recordRead(caller, "api_guarantee_view", { contractNumber: held.guarantee.contractNumber });
    res.json(toGuaranteeJson(held, api.listVersions(held), today()));
  };

  /** GET /api/v1/guarantees/{contractNumber}/versions/{sequence}: one version's certificate. */
  const version: RequestHandler = async (req, res) => {
    const caller = callerOf(res);
    const held = api.findHeld(caller, String(req.params.contractNumber));
    if (!held) throw notFound("This guarantee");
    const sequence = Number(req.params.sequence);
    const found = Number.isSafeInteger(sequence) && sequence >= 1 ? api.findVersion(held, sequence) : undefined;
    if (!found) throw new HttpError(404, "not-found", { detail: `This guarantee has no version ${String(req.params.sequence)}.` });
    await api.recordRead(caller, "api_version_view", { contractNumber: held.guarantee.contractNumber, detail: { sequence } });
    res.json(toVersionJson(found, api.listVersions(held)));
  };

  /** GET /api/v1/guarantees: the orderer's holdings, in first-verification order, a page at a time. */
  const guarantees: RequestHandler = async (req, res) => {
    const caller = callerOf(res);
    const q = req.query as Record<string, string | undefined>;
    const limit = q.limit === undefined ? DEFAULT_LIMIT : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw badParameter("limit", `must be an integer from 1 to ${MAX_LIMIT}`);
    let after = 0;
    if (q.cursor !== undefined) {
      const cursor = decodeCursor(q.cursor);
      if (!cursor || !Number.isSafeInteger(cursor.h) || (cursor.h as number) < 0) throw badParameter("cursor", "must be the next value of a previous page, unchanged");
      after = cursor.h as number;
    }
    const status = q.status === undefined ? null : q.status;
    if (status !== null && status !== "valid" && status !== "cancelled" && status !== "expired") throw badParameter("status", "must be valid, cancelled or expired");
    const changedSince = q.changedSince === undefined ? null : new Date(q.changedSince);
    if (changedSince !== null && Number.isNaN(changedSince.getTime())) throw badParameter("changedSince", "must be a date-time with an offset, e.g. 2026-11-25T09:00:00+09:00");
    const expiresBefore = q.expiresBefore ?? null;
    if (expiresBefore !== null && !isRealIsoDate(expiresBefore)) throw badParameter("expiresBefore", "must be a date, e.g. 2027-03-31");
    const page = api.listHeld(caller, { status, expiresBefore, changedSince: changedSince?.toISOString() ?? null, limit, after });
    await api.recordRead(caller, "api_guarantee_list", { detail: { returned: page.entries.length } });
    const day = today();
    res.json({
      items: page.entries.map((e) => toHeldItemJson(e, day)),
      next: page.more ? encodeCursor({ h: page.entries.at(-1)!.holdingId }) : null,
    });
  };

  /**
   * GET /api/v1/events?after=&limit=: the orderer's events after the id `after` (0 or absent: from
   * the first), oldest first. `next` is the id to pass as `after` next time: the last one returned,
   * or `after` itself when nothing is new, so a client polls with the value it got.
   */
  const eventList: RequestHandler = async (req, res) => {
    const caller = callerOf(res);
    const q = req.query as Record<string, string | undefined>;
    const limit = q.limit === undefined ? DEFAULT_LIMIT : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw badParameter("limit", `must be an integer from 1 to ${MAX_LIMIT}`);
    const after = q.after === undefined ? 0 : Number(q.after);
    if (!/^\d{1,15}$/.test(q.after ?? "0") || !Number.isSafeInteger(after)) throw badParameter("after", "must be the id of an event (an integer, 0 for the first page)");
    const page = api.listEvents(caller, after, limit);
    await api.recordRead(caller, "api_event_list", { detail: { after, returned: page.events.length } });
    res.json({ items: page.events.map(toEventJson), next: page.events.at(-1)?.id ?? after, more: page.more });
  };

  /** GET /api/v1/contracts: the register in 契約番号 order, a page at a time. */
  const contractList: RequestHandler = async (req, res) => {
    const caller = callerOf(res);
    const q = req.query as Record<string, string | undefined>;
    const limit = q.limit === undefined ? DEFAULT_LIMIT : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw badParameter("limit", `must be an integer from 1 to ${MAX_LIMIT}`);
    let after: string | null = null;
    if (q.cursor !== undefined) {
      const cursor = decodeCursor(q.cursor);
      if (!cursor || typeof cursor.r !== "string") throw badParameter("cursor", "must be the next value of a previous page, unchanged");
      after = cursor.r;
    }
    const page = contracts.list(caller.client.ordererId, { after, limit });
    await api.recordRead(caller, "api_contract_list", { detail: { returned: page.entries.length } });
    res.json({ items: page.entries.map(toContractJson), next: page.next === null ? null : encodeCursor({ r: page.next }) });
  };

  const findContract = (res: Response, reference: string) => {
    const entry = contracts.find(callerOf(res).client.ordererId, reference);
    if (!entry) throw new HttpError(404, "not-found", { detail: "This orderer has no contract with this 契約番号." });
    return entry;
  };

  /** GET /api/v1/contracts/{reference}: one contract and its state. */
  const contract: RequestHandler = async (req, res) => {
    const entry = findContract(res, String(req.params.reference));
    await api.recordRead(callerOf(res), "api_contract_view", { detail: { reference: entry.contract.reference } });
    res.json(toContractJson(entry));
  };

  /** GET /api/v1/contracts/{reference}/checks: its 照合, rule by rule. */
  const contractChecks: RequestHandler = async (req, res) => {
    const entry = findContract(res, String(req.params.reference));
    await api.recordRead(callerOf(res), "api_contract_checks_view", { detail: { reference: entry.contract.reference } });
    res.json(toChecksJson(entry));
  };

  /**
   * PUT /api/v1/contracts/{reference}: registers the contract (201) or records a 変更契約 (200). The
   * body's `revision`, when given, must be the one last read (409 otherwise), so that a client never
   * overwrites a change it has not seen.
   */
  const putContract: RequestHandler = async (req, res) => {
    const caller = callerOf(res);
    const reference = normalizeText(String(req.params.reference));
    const body = req.body as Record<string, unknown>;
    const existing = contracts.find(caller.client.ordererId, reference);
    const revision = typeof body.revision === "number" ? body.revision : existing?.contract.revision;
    const fields = toContractFormFields(body, reference);
    const saved = contracts.save(contractActorOf(caller), fields, existing ? { reference: existing.contract.reference, revision: revision! } : null);
    if (!saved.ok) {
      const conflict = saved.problems.find((p) => p.field === "form");
      if (conflict) throw new HttpError(409, "conflict", { detail: conflict.message });
      throw new HttpError(422, "invalid-fields", { detail: "Some fields are invalid.", errors: toFieldErrors(saved.problems) });
    }
    const entry = contracts.find(caller.client.ordererId, saved.value.reference)!;
    // The service audits what it writes; a PUT that changed nothing is audited here, as a read.
    if (existing && entry.contract.revision === existing.contract.revision) {
      await api.recordRead(caller, "api_contract_unchanged", { detail: { reference: entry.contract.reference } });
    }
    res.status(existing ? 200 : 201);
    if (!existing) res.location(`/api/v1/contracts/${encodeURIComponent(saved.value.reference)}`);
    res.json(toContractJson(entry));
  };

  /**
   * The token endpoint's refusals of a body (wrong media type, too large, malformed) answer as
   * OAuth does (RFC 6749 §5.2: invalid_request), not as the rest of the API's problem documents.
   */
  const tokenBodyRefused: ErrorRequestHandler = (error, _req, res, next) => {
    const refused = toHttpError(error);
    if (refused.status >= 500) return next(error);
    oauthError(res, 400, "invalid_request", "The body must be application/x-www-form-urlencoded with grant_type=client_credentials.");
  };

  return { token, tokenBodyRefused, openapi, verify, guarantee, version, guarantees, eventList, contractList, contract, contractChecks, putContract };
}

/** The JSON body as the contract form's text fields: integers of yen as digits, null as empty, numbers joined. */
function toContractFormFields(body: Record<string, unknown>, reference: string): Record<string, string> {
  const text = (v: unknown) => (v === null || v === undefined ? "" : String(v));
  const ratio = body.guaranteeRatio as { numerator: number; denominator: number } | null | undefined;
  return {
    reference,
    projectName: text(body.projectName),
    contractor: text(body.contractor),
    contractAmount: text(body.contractAmount),
    contractDate: text(body.contractDate),
    periodFrom: text(body.periodFrom),
    periodTo: text(body.periodTo),
    advanceAmount: text(body.advanceAmount),
    interimAmount: text(body.interimAmount),
    guaranteeRatio: ratio ? `${ratio.numerator}/${ratio.denominator}` : "",
    guaranteeNumbers: Array.isArray(body.guaranteeNumbers) ? body.guaranteeNumbers.map(String).join(",") : "",
  };
}
