import { createHash } from "node:crypto";
import { generateSecret, generateURI, verifySync } from "otplib";
import { AUTH_KEY_ALPHABET } from "../format/normalize.js";

/** RFC 6238 as the authenticator apps implement it: SHA-1, 6 digits, 30-second steps. */
const PERIOD_SECONDS = 30;
const ISSUER = "Kakunin";
/** 160 bits, as RFC 4226 recommends. */
const SECRET_BYTES = 20;

/** A code as typed: six digits (TOTP) or a recovery code (16 symbols of Crockford's base32). */
export type TypedCode = { kind: "totp"; code: string } | { kind: "recovery"; code: string };

const MAX_RAW_LENGTH = 64;
const LOOK_ALIKES: Readonly<Record<string, string>> = { I: "1", L: "1", O: "0" };
const RECOVERY = new RegExp(`^[${AUTH_KEY_ALPHABET}]{16}$`);

/** Full-width digits, spaces and dashes as officers type them; undefined for anything else. */
export function readTypedCode(raw: string): TypedCode | undefined {
  if (raw.length > MAX_RAW_LENGTH) return undefined;
  const text = raw.normalize("NFKC").replace(/[\s\-\u2010-\u2015\u2212\u30FC]/gu, "").toUpperCase();
  if (/^\d{6}$/.test(text)) return { kind: "totp", code: text };
  const recovery = text.replace(/[ILO]/gu, (letter) => LOOK_ALIKES[letter] ?? letter);
  return RECOVERY.test(recovery) ? { kind: "recovery", code: recovery } : undefined;
}

export const generateTotpSecret = (): string => generateSecret({ length: SECRET_BYTES });

/** What the QR code carries: otpauth://totp/Kakunin:{login}?secret=…&issuer=Kakunin. */
export const totpUri = (secret: string, login: string): string => generateURI({ issuer: ISSUER, label: login, secret, period: PERIOD_SECONDS });

/**
 * The time step the code belongs to, when it is the code of `now`'s step or of the one before or
 * after (a phone's clock a little off), and of a step after `afterTimeStep` (replay); else undefined.
 */
export function matchTotp(secret: string, code: string, now: Date, afterTimeStep: number): number | undefined {
  const result = verifySync({
    secret, token: code, epoch: Math.floor(now.getTime() / 1000), period: PERIOD_SECONDS, epochTolerance: PERIOD_SECONDS, afterTimeStep,
  });
  return result.valid && "timeStep" in result ? result.timeStep : undefined;
}

/** A recovery code as stored: bound to its officer, so equal codes of two officers differ. */
export function recoveryCodeHash(officerId: number, code: string): string {
  return createHash("sha256").update(`kakunin recovery code v1:${officerId}:${code}`).digest("hex");
}
