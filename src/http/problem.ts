import type { Response } from "express";
import { toHttpError, type FieldError } from "./http-error.js";

/** RFC 9457 problem details, as the API answers every refusal. */
export type ProblemDocument = { type: string; title: string; status: number; detail: string; errors?: FieldError[] };

export const PROBLEM_TYPE_BASE = "urn:kakunin:problem:";

const TITLES: Record<number, string> = {
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
  409: "Conflict", 413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content", 429: "Too Many Requests",
  500: "Internal Server Error", 503: "Service Unavailable",
};

/**
 * The problem document for an error: its code names the type (a stable URN per kind of refusal,
 * e.g. urn:kakunin:problem:verification-failed; a URN because no page of ours explains it), its message is the detail, its field errors are errors[].
 * A 500 says nothing of what went wrong.
 */
export function toProblem(error: unknown): { problem: ProblemDocument; retryAfterSeconds?: number; challenge?: string } {
  const refused = toHttpError(error);
  const status = refused.status;
  const internal = status >= 500 && refused.code === "internal-error";
  const problem: ProblemDocument = {
    type: `${PROBLEM_TYPE_BASE}${refused.code}`,
    title: TITLES[status] ?? (status >= 500 ? TITLES[500]! : TITLES[400]!),
    status,
    detail: internal ? "The request could not be completed." : refused.message,
    ...(refused.errors.length > 0 ? { errors: [...refused.errors] } : {}),
  };
  return {
    problem,
    ...(refused.retryAfterSeconds !== undefined ? { retryAfterSeconds: refused.retryAfterSeconds } : {}),
    ...(refused.challenge !== undefined ? { challenge: refused.challenge } : {}),
  };
}

/** Sends an error as application/problem+json, with Retry-After and WWW-Authenticate where it has them. */
export function sendProblem(res: Response, error: unknown): void {
  const { problem, retryAfterSeconds, challenge } = toProblem(error);
  res.set("Cache-Control", "no-store");
  if (retryAfterSeconds !== undefined) res.set("Retry-After", String(retryAfterSeconds));
  if (challenge !== undefined) res.set("WWW-Authenticate", challenge);
  // res.json keeps the type set here; the tests' response validation sees problem documents too.
  res.status(problem.status).type("application/problem+json").json(problem);
}
