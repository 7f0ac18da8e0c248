import type { Request } from "express";
import { hasForbiddenCharacters } from "../format/normalize.js";

export class BadFormError extends Error {
  readonly status = 400;
  constructor(readonly field: string) {
    super(`bad form field ${field}`);
  }
}

/**
 * The named fields of a urlencoded form as plain strings. Repeated or bracketed fields (which the
 * parser turns into arrays), over-long values and control, bidi or zero-width characters are
 * refused with 400 before any lookup or argon2 work.
 */
export function readForm<K extends string>(req: Request, limits: Record<K, number>): Record<K, string> {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const form = {} as Record<K, string>;
  for (const [field, max] of Object.entries(limits) as [K, number][]) {
    const value = body[field] ?? "";
    if (typeof value !== "string" || value.length > max || hasForbiddenCharacters(value)) throw new BadFormError(field);
    form[field] = value;
  }
  return form;
}
