import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createKeyFileIfMissing, ensurePublicKeyFile, looseModeProblem, publicKeyFileOf, publicKeyPem } from "../security/key-file.js";

export { publicKeyFileOf, publicKeyPem };

/** The service's checkpoint key: signs with the private half; the public half is for anyone. */
export type CheckpointSigner = { sign(payload: Buffer): string; publicKey: KeyObject };

export type KeyLoad = { ok: true; signer: CheckpointSigner; created: boolean } | { ok: false; problem: string; unreadable?: boolean };

function signerOf(privateKey: KeyObject): CheckpointSigner {
  return { sign: (payload) => sign(null, payload, privateKey).toString("base64"), publicKey: createPublicKey(privateKey) };
}

/** Loads the PKCS#8 PEM key; refuses a file that group or others may read or write, since then
 * an admin could sign forged checkpoints. */
function readKey(keyFile: string): KeyLoad {
  const loose = looseModeProblem(keyFile, "the audit signing key");
  if (loose) return { ok: false, problem: loose };
  let pem: string;
  try {
    pem = readFileSync(keyFile, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, unreadable: code === "EACCES" || code === "EPERM", problem: `cannot read the audit signing key ${keyFile} (${code === "EACCES" || code === "EPERM" ? "permission denied" : (error as Error).message})` };
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    return { ok: false, problem: `the audit signing key ${keyFile} is not a PKCS#8 PEM private key` };
  }
  if (key.asymmetricKeyType !== "ed25519") return { ok: false, problem: `the audit signing key ${keyFile} is not an Ed25519 key` };
  return { ok: true, signer: signerOf(key), created: false };
}

/** The key for signing in this process (`audit checkpoint`): never created here. */
export function loadSigningKey(keyFile: string): KeyLoad {
  if (!existsSync(keyFile)) return { ok: false, problem: `there is no audit signing key at ${keyFile}: the service creates it at its first start` };
  try {
    return readKey(keyFile);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, unreadable: code === "EACCES", problem: `cannot read the audit signing key ${keyFile} (${(error as Error).message})` };
  }
}

/**
 * The service's start: loads the key, or creates it (createKeyFileIfMissing: 0600 in a folder of
 * its own) with its public half beside it. A public key file that does not match the private key
 * is refused: someone replaced it.
 */
export function loadOrCreateSigningKey(keyFile: string): KeyLoad {
  const created = createKeyFileIfMissing(keyFile, "ed25519");
  const loaded = readKey(keyFile);
  if (!loaded.ok) return loaded;
  const mismatch = ensurePublicKeyFile(keyFile, loaded.signer.publicKey, "the audit signing key");
  return mismatch ? { ok: false, problem: mismatch } : { ok: true, signer: loaded.signer, created };
}

/** A public key given as a PEM file's text or as base64 SPKI (DER). */
export function parsePublicKey(text: string): { ok: true; key: KeyObject } | { ok: false; problem: string } {
  const trimmed = text.trim();
  try {
    const key = trimmed.startsWith("-----BEGIN")
      ? createPublicKey(trimmed)
      : createPublicKey({ key: Buffer.from(trimmed, "base64"), format: "der", type: "spki" });
    if (key.asymmetricKeyType !== "ed25519") return { ok: false, problem: "the public key is not an Ed25519 key" };
    return { ok: true, key };
  } catch {
    return { ok: false, problem: "the public key is neither a PEM public key nor base64 SPKI" };
  }
}

export function verifySignature(publicKey: KeyObject, payload: Buffer, signature: string): boolean {
  try {
    return verify(null, payload, publicKey, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}
