import { readFileSync } from "node:fs";
import * as OpenApiValidator from "express-openapi-validator";
import type { ErrorRequestHandler, RequestHandler } from "express";
import { HttpError, type FieldError } from "../http/http-error.js";
import { apiDocumentPath } from "../paths.js";

/**
 * docs/openapi.yaml, read once at start. It is written in the JSON subset of YAML (no YAML parser
 * is a dependency of ours), so JSON.parse reads it and @redocly/cli lints it as YAML.
 */
export function readApiDocument(file: string = apiDocumentPath): Record<string, unknown> {
  return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
}

/**
 * Requests checked against the document (400/415 with each bad field in errors[]); responses too
 * when `validateResponses` (the tests), so that the document and the code cannot drift apart.
 * Security is checked by requireBearer, which answers with WWW-Authenticate.
 */
export function validateAgainst(document: Record<string, unknown>, options: { validateResponses: boolean }): RequestHandler[] {
  return OpenApiValidator.middleware({
    apiSpec: structuredClone(document) as never,
    validateRequests: { allowUnknownQueryParameters: false },
    validateResponses: options.validateResponses,
    validateSecurity: false,
    validateApiSpec: true,
    fileUploader: false,
    ignoreUndocumented: false,
    validateFormats: true,
  }) as unknown as RequestHandler[];
}

type ValidatorError = { status?: number; errors?: { path?: string; message?: string }[]; message?: string };

/** The validator's errors as ours: "/body/x" -> pointer "/x"; "/query/x" or "/path/x" -> parameter "x". */
export const translateValidationErrors: ErrorRequestHandler = (error: unknown, _req, _res, next) => {
  const e = error as ValidatorError;
  if (!(typeof e?.status === "number" && Array.isArray(e.errors)) || error instanceof HttpError) return next(error);
  if (e.status === 500) return next(new Error(`response does not match docs/openapi.yaml: ${e.message ?? ""} ${JSON.stringify(e.errors)}`));
  const errors: FieldError[] = e.errors.map((item) => {
    const path = item.path ?? "";
    const detail = item.message ?? "is invalid";
    const body = /^[./]body(.*)$/.exec(path);
    if (body) return { pointer: body[1]!.replace(/\./g, "/"), detail };
    const parameter = /^[./](?:query|path|params|headers)[./](.+)$/.exec(path);
    return parameter ? { parameter: parameter[1]!, detail } : { pointer: "", detail };
  });
  const code = e.status === 415 ? "unsupported-media-type" : e.status === 404 ? "not-found" : e.status === 405 ? "method-not-allowed" : "invalid-request";
  next(new HttpError(e.status, code, { detail: e.message ?? "The request does not match the API's description.", errors }));
};
