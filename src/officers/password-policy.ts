import { createRequire } from "node:module";
import { hasForbiddenCharacters } from "../format/normalize.js";

/** NIST SP 800-63B-4 for password-only login: at least 15 characters, at most 256 (well above 64),
 * no composition rules, a blocklist of common passwords and of words from the context. */
export const PASSWORD_MIN_LENGTH = 15;
export const PASSWORD_MAX_LENGTH = 256;

const require = createRequire(import.meta.url);
let commonPasswords: ReadonlySet<string> | undefined;

/** The blocklist is loaded at the first password set, not at start-up: a server answering
 * verifications would otherwise carry its heap for nothing. */
function isCommonPassword(lower: string): boolean {
  commonPasswords ??= new Set(
    (require("@zxcvbn-ts/language-common") as typeof import("@zxcvbn-ts/language-common")).dictionary["passwords-common"].map((p: string) => p.toLowerCase()),
  );
  return commonPasswords.has(lower);
}

const SERVICE_WORDS = ["kakunin", "確認", "password", "passwort", "パスワード", "dsure", "d-sure", "denshihosho", "電子保証"];

/** NIST asks for NFKC so the same password typed on another keyboard or IME still matches. */
export function normalizePassword(raw: string): string {
  return raw.normalize("NFKC");
}

export type PasswordContext = { login: string; displayName: string; ordererName?: string };

/** undefined when acceptable, else the reason in Japanese for the officer. */
export function checkNewPassword(raw: string, context: PasswordContext): string | undefined {
  const password = normalizePassword(raw);
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `パスワードは${PASSWORD_MIN_LENGTH}文字以上にしてください。`;
  if (length > PASSWORD_MAX_LENGTH) return `パスワードは${PASSWORD_MAX_LENGTH}文字以内にしてください。`;
  // The login form refuses these characters (control, bidi, zero-width), so a password holding
  // one could never be typed in: refuse it here rather than lock its owner out.
  if (hasForbiddenCharacters(password)) return "制御文字・書式制御文字（ゼロ幅文字など）は使用できません。";
  const lower = password.toLowerCase();
  if (isCommonPassword(lower)) return "よく使われるパスワードのため使用できません。";
  if (new Set(lower).size <= 2) return "同じ文字の繰り返しは使用できません。";
  const contextWords = [
    context.login,
    ...context.displayName.split(/\s+/),
    ...(context.ordererName ? [context.ordererName] : []),
    ...SERVICE_WORDS,
  ].map((w) => w.normalize("NFKC").toLowerCase()).filter((w) => [...w].length >= 3);
  // What is left once every context word is taken out, repeats included ("kakunin2026kakunin"
  // leaves "2026"): fewer than 8 characters of its own and the password is refused.
  const compact = lower.replace(/[\s\-_.]/g, "");
  const own = contextWords.reduce((rest, w) => rest.split(w.replace(/[\s\-_.]/g, "")).join(""), compact);
  if (own !== compact && [...own].length < 8) {
    return "ログインID・氏名・組織名・サービス名を主にしたパスワードは使用できません。";
  }
  return undefined;
}
