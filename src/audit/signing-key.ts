import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from "node:fs";
import path from "node:path";

/** The service's checkpoint key: signs with the private half; the public half is for anyone. */
export type CheckpointSigner = { sign(payload: Buffer): string; publicKey: KeyObject };

export type KeyLoad = { ok: true; signer: CheckpointSigner; created: boolean } | { ok: false; problem: string; unreadable?: boolean };

/** The public key file written beside the private one (readable by admins and auditors). */
export const publicKeyFileOf = (keyFile: string) => `${keyFile}.pub`;

function signerOf(privateKey: KeyObject): CheckpointSigner {
  return { sign: (payload) => sign(null, payload, privateKey).toString("base64"), publicKey: createPublicKey(privateKey) };
}

export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: "spki", format: "pem" }).toString();
}

/** Loads the PKCS#8 PEM key; refuses a file that group or others may read or write, since then
 * an admin could sign forged checkpoints. */
function readKey(keyFile: string): KeyLoad {
  const mode = statSync(keyFile).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    return { ok: false, problem: `the audit signing key ${keyFile} has mode ${mode.toString(8).padStart(4, "0")}: it must be readable by the service's user only (chmod 600)` };
  }
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
 * The service's start: loads the key, or creates it (mode 0600, whatever the umask: the file is
 * created with that mode and the umask can only narrow it) with its public half beside it. A
 * public key file that does not match the private key is refused: someone replaced it.
 */
export function loadOrCreateSigningKey(keyFile: string): KeyLoad {
  let created = false;
  if (!existsSync(keyFile)) {
    // A folder of its own (docs/operations.md) is created for the service's user alone.
    mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync("ed25519");
    const fd = openSync(keyFile, "wx", 0o600);
    try {
      writeSync(fd, privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    } finally {
      closeSync(fd);
    }
    created = true;
  }
  const loaded = readKey(keyFile);
  if (!loaded.ok) return loaded;
  const pem = publicKeyPem(loaded.signer.publicKey);
  const pubFile = publicKeyFileOf(keyFile);
  if (!existsSync(pubFile)) writeFileSync(pubFile, pem, { mode: 0o644 });
  else if (readFileSync(pubFile, "utf8").trim() !== pem.trim()) {
    return { ok: false, problem: `the public key ${pubFile} does not belong to the audit signing key ${keyFile}: remove it and start again (it is rewritten), and find out who replaced it` };
  }
  return { ...loaded, created };
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
