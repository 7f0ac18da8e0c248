import {
  createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject,
} from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createKeyFileIfMissing, ensurePublicKeyFile, looseModeProblem, publicKeyFileOf } from "./key-file.js";

/**
 * Secrets the service must read back in clear (webhook signing secrets), sealed to the service's
 * X25519 key: an ephemeral key agreement, HKDF-SHA256, AES-256-GCM, with a context (the row the
 * secret belongs to) as additional data, so a sealed value copied to another row does not open.
 * Anyone with the public key can seal (the admin CLI); only the private key opens (the service).
 * A copy of the database, a backup or a replica holds nothing usable without the key file.
 */
export type Sealer = { seal(plaintext: string, context: string): string };
export type Opener = { open(sealed: string, context: string): string };

const VERSION = "v1";
const INFO = Buffer.from("kakunin sealed box v1");

function derive(shared: Buffer, ephemeralPublic: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", shared, ephemeralPublic, INFO, 32));
}

const rawPublic = (key: KeyObject) => Buffer.from(key.export({ format: "jwk" }).x!, "base64url");

export function createSealer(publicKey: KeyObject): Sealer {
  return {
    seal(plaintext, context) {
      const ephemeral = generateKeyPairSync("x25519");
      const ephemeralPublic = rawPublic(ephemeral.publicKey);
      const key = derive(diffieHellman({ privateKey: ephemeral.privateKey, publicKey }), ephemeralPublic);
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(Buffer.from(context, "utf8"));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return [VERSION, ephemeralPublic, iv, cipher.getAuthTag(), body].map((p) => (typeof p === "string" ? p : p.toString("base64url"))).join(".");
    },
  };
}

/** Throws when the value was not sealed to this key, for this context, or was altered. */
export function createOpener(privateKey: KeyObject): Opener {
  return {
    open(sealed, context) {
      const [version, eph, iv, tag, body] = sealed.split(".");
      if (version !== VERSION || !eph || !iv || !tag || body === undefined) throw new Error("not a sealed value");
      const ephemeralPublic = Buffer.from(eph, "base64url");
      const publicKey = createPublicKey({ key: { kty: "OKP", crv: "X25519", x: eph }, format: "jwk" });
      const key = derive(diffieHellman({ privateKey, publicKey }), ephemeralPublic);
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url")).setAAD(Buffer.from(context, "utf8"));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
    },
  };
}

/** A key pair in memory: tests, and tools that never hand a sealed value to another process. */
export function generateSealingKeys(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync("x25519");
}

export type SealingKeyLoad = { ok: true; privateKey: KeyObject; publicKey: KeyObject; created: boolean } | { ok: false; problem: string };

/**
 * The service's start: loads the X25519 key (PKCS#8 PEM, mode 0600, refused if group or others
 * may read it), or creates it with its public half beside it (`.pub`, 0644), which the admin CLI
 * reads to seal.
 */
export function loadOrCreateSealingKey(keyFile: string): SealingKeyLoad {
  try {
    const created = createKeyFileIfMissing(keyFile, "x25519");
    const loose = looseModeProblem(keyFile, "the webhook key");
    if (loose) return { ok: false, problem: loose };
    const privateKey = createPrivateKey(readFileSync(keyFile, "utf8"));
    if (privateKey.asymmetricKeyType !== "x25519") return { ok: false, problem: `the webhook key ${keyFile} is not an X25519 key` };
    const publicKey = createPublicKey(privateKey);
    const mismatch = ensurePublicKeyFile(keyFile, publicKey, "the webhook key");
    return mismatch ? { ok: false, problem: mismatch } : { ok: true, privateKey, publicKey, created };
  } catch (error) {
    return { ok: false, problem: `cannot use the webhook key ${keyFile}: ${(error as Error).message}` };
  }
}

/** The admin CLI: the public half only (the private key is the service's alone). */
export function loadSealingPublicKey(keyFile: string): { ok: true; publicKey: KeyObject } | { ok: false; problem: string } {
  const pubFile = publicKeyFileOf(keyFile);
  if (!existsSync(pubFile)) return { ok: false, problem: `there is no webhook public key at ${pubFile}: the service creates it at its first start (WEBHOOK_KEY_FILE)` };
  try {
    const publicKey = createPublicKey(readFileSync(pubFile, "utf8"));
    if (publicKey.asymmetricKeyType !== "x25519") return { ok: false, problem: `${pubFile} is not an X25519 public key` };
    return { ok: true, publicKey };
  } catch (error) {
    return { ok: false, problem: `cannot read the webhook public key ${pubFile}: ${(error as Error).message}` };
  }
}
