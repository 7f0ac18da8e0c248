import { dictionary } from "@zxcvbn-ts/language-common";

/** NIST SP 800-63B-4 for password-only login: at least 15 characters, at most 256 (well above 64),
 * no composition rules, a blocklist of common passwords and of words from the context. */
export const PASSWORD_MIN_LENGTH = 15;
export const PASSWORD_MAX_LENGTH = 256;

const commonPasswords: ReadonlySet<string> = new Set(dictionary["passwords-common"].map((p: string) => p.toLowerCase()));

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
  const lower = password.toLowerCase();
  if (commonPasswords.has(lower)) return "よく使われるパスワードのため使用できません。";
  if (new Set(lower).size <= 2) return "同じ文字の繰り返しは使用できません。";
  const contextWords = [
    context.login,
    ...context.displayName.split(/\s+/),
    ...(context.ordererName ? [context.ordererName] : []),
    ...SERVICE_WORDS,
  ].map((w) => w.normalize("NFKC").toLowerCase()).filter((w) => [...w].length >= 3);
  const compact = lower.replace(/[\s\-_.]/g, "");
  if (contextWords.some((w) => compact.includes(w.replace(/[\s\-_.]/g, "")) && [...compact].length - [...w].length < 8)) {
    return "ログインID・氏名・組織名・サービス名を主にしたパスワードは使用できません。";
  }
  return undefined;
}
