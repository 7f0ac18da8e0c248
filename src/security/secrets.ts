import { randomInt } from "node:crypto";
import { AUTH_KEY_ALPHABET } from "../format/normalize.js";

/** `count` symbols of Crockford's base32 (digits and capitals without I, L, O, U), 5 bits each. */
function randomSymbols(count: number): string {
  let symbols = "";
  for (let i = 0; i < count; i++) symbols += AUTH_KEY_ALPHABET[randomInt(AUTH_KEY_ALPHABET.length)];
  return symbols;
}

/** An auth key: 12 symbols, 60 bits. */
export function generateAuthKey(): string {
  return randomSymbols(12);
}

/** A one-time initial password for an officer: 20 symbols (100 bits), grouped for reading aloud
 * over the phone. It must be changed at first login. */
export function generateInitialPassword(): string {
  return Array.from({ length: 4 }, () => randomSymbols(5)).join("-");
}

/** A second factor's recovery code: 16 symbols (80 bits) in groups of four, used once. */
export function generateRecoveryCode(): string {
  return Array.from({ length: 4 }, () => randomSymbols(4)).join("-");
}
