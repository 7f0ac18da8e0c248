import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { CookieOptions, Request, Response } from "express";
import { deriveKey } from "../security/keyed-hash.js";

/** A browser in which `login` has logged in: `id` (a hash of the cookie's nonce) keys its counter. */
export type Device = { login: string; id: string };

const LIFETIME_MS = 180 * 24 * 3600 * 1000;

/**
 * Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): after officer X
 * logs in, the browser gets `base64url(X).nonce.mac`, the MAC an HMAC-SHA256 under a key derived
 * from the signing session secret (every listed secret verifies, so a rotation keeps devices).
 * It holds the login id and a random nonce, never the password. X's next attempts from that
 * browser are counted per device and skip the login id's delay and lock and the address limit,
 * so a stranger spraying guesses at X's login id cannot keep X out at their own desk.
 */
export function createDeviceCookies(options: { secrets: readonly string[]; secure: boolean }) {
  const keys = options.secrets.map((secret) => deriveKey(secret, "device-cookie"));
  const name = options.secure ? "__Host-kakunin-device" : "kakunin-device";
  const mac = (key: Buffer, payload: string) => createHmac("sha256", key).update(payload).digest();
  const cookieOptions: CookieOptions = { httpOnly: true, secure: options.secure, sameSite: "strict", path: "/", maxAge: LIFETIME_MS };

  function read(value: string): Device | undefined {
    const parts = value.split(".");
    if (parts.length !== 3) return undefined;
    const [login, nonce, tag] = parts as [string, string, string];
    const given = Buffer.from(tag, "base64url");
    const payload = `${login}.${nonce}`;
    if (!keys.some((key) => { const expected = mac(key, payload); return given.length === expected.length && timingSafeEqual(given, expected); })) return undefined;
    return { login: Buffer.from(login, "base64url").toString("utf8"), id: createHash("sha256").update(nonce).digest("hex").slice(0, 32) };
  }

  return {
    name,
    /** The valid device cookie the request carries, if any (a forged or foreign one is no cookie). */
    fromRequest(req: Request): Device | undefined {
      const value = cookieValue(req.headers.cookie, name);
      return value === undefined || value.length > 512 ? undefined : read(value);
    },
    /** A new device cookie for `login` (a fresh nonce after every successful login, as OWASP says). */
    issue(res: Response, login: string): void {
      const payload = `${Buffer.from(login, "utf8").toString("base64url")}.${randomBytes(16).toString("base64url")}`;
      res.cookie(name, `${payload}.${mac(keys[0]!, payload).toString("base64url")}`, cookieOptions);
    },
  };
}

export type DeviceCookies = ReturnType<typeof createDeviceCookies>;

/** One cookie's value from a Cookie header (ours are base64url and dots: nothing to decode). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(";")) {
    const at = pair.indexOf("=");
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return undefined;
}
