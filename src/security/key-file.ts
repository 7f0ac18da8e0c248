import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from "node:fs";
import path from "node:path";

/** The public key file written beside the private one (readable by admins and auditors). */
export const publicKeyFileOf = (keyFile: string) => `${keyFile}.pub`;

export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: "spki", format: "pem" }).toString();
}

/**
 * Creates a private key file (PKCS#8 PEM) if there is none: mode 0600 whatever the umask (the file
 * is created with that mode and the umask can only narrow it), in a folder created for the
 * service's user alone. True if it was created now.
 */
export function createKeyFileIfMissing(keyFile: string, type: "ed25519" | "x25519"): boolean {
  if (existsSync(keyFile)) return false;
  mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  const { privateKey } = type === "ed25519" ? generateKeyPairSync("ed25519") : generateKeyPairSync("x25519");
  const fd = openSync(keyFile, "wx", 0o600);
  try {
    writeSync(fd, privateKey.export({ type: "pkcs8", format: "pem" }).toString());
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Why a private key file must not be used: group or others may read or write it. Undefined if it is the owner's alone. */
export function looseModeProblem(keyFile: string, what: string): string | undefined {
  const mode = statSync(keyFile).mode & 0o777;
  return (mode & 0o077) === 0
    ? undefined
    : `${what} ${keyFile} has mode ${mode.toString(8).padStart(4, "0")}: it must be readable by the service's user only (chmod 600)`;
}

/**
 * Writes the public half beside the private key (0644) if it is not there; refuses one that does
 * not match (someone replaced it). Undefined when all is well, else the problem.
 */
export function ensurePublicKeyFile(keyFile: string, publicKey: KeyObject, what: string): string | undefined {
  const pem = publicKeyPem(publicKey);
  const pubFile = publicKeyFileOf(keyFile);
  if (!existsSync(pubFile)) {
    writeFileSync(pubFile, pem, { mode: 0o644 });
    return undefined;
  }
  return readFileSync(pubFile, "utf8").trim() === pem.trim()
    ? undefined
    : `the public key ${pubFile} does not belong to ${what} ${keyFile}: remove it and start again (it is rewritten), and find out who replaced it`;
}
