import type { Request } from "express";
import { hasForbiddenCharacters } from "../format/normalize.js";
import { HttpError } from "./http-error.js";

/** A form field that no form of ours would send: 400, naming the field in the log. */
export function badFormField(field: string): HttpError {
  return new HttpError(400, "bad-form-field", { detail: `bad form field ${field}` });
}

/** Fields every form may carry besides its own: the CSRF token, already checked by then. */
const ALWAYS_ALLOWED = new Set(["_csrf"]);

/**
 * The named fields of a urlencoded form as plain strings (a missing field reads as ""). A field
 * the form does not have, a repeated or bracketed one (which the parser would turn into an array
 * or an odd name), an over-long value and control, bidi or zero-width characters are refused
 * with 400 before any lookup or argon2 work.
 */
export function readForm<K extends string>(req: Request, limits: Record<K, number>): Record<K, string> {
  const body = (req.body ?? {}) as Record<string, unknown>;
  for (const field of Object.keys(body)) {
    if (!Object.hasOwn(limits, field) && !ALWAYS_ALLOWED.has(field)) throw badFormField(field);
  }
  const form = {} as Record<K, string>;
  for (const [field, max] of Object.entries(limits) as [K, number][]) {
    const value = Object.hasOwn(body, field) ? body[field] : "";
    if (typeof value !== "string" || value.length > max || hasForbiddenCharacters(value)) throw badFormField(field);
    form[field] = value;
  }
  return form;
}
