/**
 * The one normaliser for what officers and admins type: contract numbers, auth keys, names.
 *
 * Every check runs on the raw length first so a hostile megabyte costs nothing, and every
 * pattern is anchored with no nested quantifiers, so matching stays linear.
 */

export type NormalizeResult = { ok: true; value: string } | { ok: false };

/** Crockford's base32: no I, L or O (read as 1, 1 and 0) and no U. */
export const AUTH_KEY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Longer than any honest input with spaces and dashes, short enough that NFKC on it is cheap.
const MAX_RAW_LENGTH = 64;

// The dashes NFKC leaves as they are (Node 20: U+2010-U+2015, U+2212, U+30FC). The full-width
// and small hyphen-minus (U+FF0D, U+FE63) already become "-" under NFKC, U+FE58 becomes U+2014
// and the half-width prolonged sound mark U+FF70 becomes U+30FC, so they arrive here covered.
const DASHES = /[\u2010-\u2015\u2212\u30FC]/gu;
const DASHES_AND_HYPHEN = /[-\u2010-\u2015\u2212\u30FC]/gu;
const WHITESPACE = /\s/gu;

const CONTRACT_NUMBER = /^[0-9]{5}-[0-9]{6}$/;
const BARE_CONTRACT_NUMBER = /^[0-9]{11}$/;
const AUTH_KEY = /^[0-9A-HJKMNP-TV-Z]{12}$/;

const CROCKFORD_LOOK_ALIKES: Readonly<Record<string, string>> = { I: "1", L: "1", O: "0" };

// NUL and the other C0 controls (tab and newline included: these are single-line fields), DEL
// and C1, the bidi marks, embeddings and isolates that can reorder what an officer reads, the
// zero-width characters that make two names look equal, U+FFFD left by a broken decode, and
// lone surrogates (with the u flag a surrogate range only matches unpaired halves).
const FORBIDDEN =
  /[\u0000-\u001F\u007F-\u009F\u061C\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF\uFFFD\uD800-\uDFFF]/u;

/**
 * A 保証契約番号 as typed -> "NNNNN-NNNNNN". Full-width digits, any dash and surrounding spaces
 * are accepted, as are 11 bare digits; spaces inside the number are not, since "00001 000002"
 * may be two numbers run together rather than one.
 */
export function normalizeContractNumber(raw: string): NormalizeResult {
  if (raw.length > MAX_RAW_LENGTH) return { ok: false };
  const text = raw.normalize("NFKC").replace(DASHES, "-").trim();
  if (CONTRACT_NUMBER.test(text)) return { ok: true, value: text };
  if (BARE_CONTRACT_NUMBER.test(text)) {
    return { ok: true, value: `${text.slice(0, 5)}-${text.slice(5)}` };
  }
  return { ok: false };
}

/**
 * An 認証キー as typed -> 12 upper-case Crockford characters. Case, full width, spaces and
 * dashes anywhere do not matter, and I, L and O are read as the digits they look like.
 */
export function normalizeAuthKey(raw: string): NormalizeResult {
  if (raw.length > MAX_RAW_LENGTH) return { ok: false };
  const text = raw
    .normalize("NFKC")
    .replace(WHITESPACE, "")
    .replace(DASHES_AND_HYPHEN, "")
    .toUpperCase()
    .replace(/[ILO]/gu, (letter) => CROCKFORD_LOOK_ALIKES[letter] ?? letter);
  return AUTH_KEY.test(text) ? { ok: true, value: text } : { ok: false };
}

/** "ABCDEFGHJKMN" -> "ABCD-EFGH-JKMN", the grouping the notice prints for reading aloud. */
export function formatAuthKeyForPrint(key: string): string {
  if (!AUTH_KEY.test(key)) {
    throw new RangeError("not a normalised auth key");
  }
  return `${key.slice(0, 4)}-${key.slice(4, 8)}-${key.slice(8)}`;
}

/** A code or name typed in the CLI: NFKC so full-width and half-width forms are stored alike, trimmed. */
export function normalizeText(raw: string): string {
  return raw.normalize("NFKC").trim();
}

/** Text of an issued document (names, addresses, 工事名): kept as the issuer wrote it, so only the
 * canonical form (NFC) and trimming; compatibility forms such as （その2） or ㈱ stay as typed. */
export function normalizeDocumentText(raw: string): string {
  return raw.normalize("NFC").trim();
}

/** True when a single-line field holds a character that can hide, reorder or corrupt text. */
export function hasForbiddenCharacters(s: string): boolean {
  return FORBIDDEN.test(s);
}

/** Login ids are compared NFKC-lower-cased, so "Mutsu-Tanaka" and "ｍｕｔｓｕ-tanaka" are one account. */
export function normalizeLogin(raw: string): string {
  return raw.normalize("NFKC").trim().toLowerCase();
}
