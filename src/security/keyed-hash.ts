import { createHmac } from "node:crypto";

/** A key of its own for each use of the session secret, so that no two uses share a key. */
export function deriveKey(secret: string, purpose: "login-name" | "device-cookie"): Buffer {
  return createHmac("sha256", secret).update(`kakunin/${purpose}`).digest();
}

/** A typed login id that names no officer, as it may be stored (audit actor, throttle key). */
export type LoginNameHash = (login: string) => string;

/**
 * HMAC-SHA256 under a key derived from the signing session secret: an officer who typed their
 * password into the login id box finds only this in the audit trail and the counters, and
 * without the secret nobody can test guesses against it (a plain SHA-256 of a short string can
 * be reversed by trying candidates). 128 bits of it are kept, marked "h:" so it reads as a hash.
 */
export function createLoginNameHash(secret: string): LoginNameHash {
  const key = deriveKey(secret, "login-name");
  return (login) => `h:${createHmac("sha256", key).update(login).digest("hex").slice(0, 32)}`;
}

/** What a service built without a session secret (the admin CLI run without SESSION_SECRET) has instead. */
export const NO_LOGIN_NAME_HASH: LoginNameHash = () => {
  throw new Error("SESSION_SECRET is not set: a login id that names no officer cannot be looked up (its counter is kept under a keyed hash)");
};
