import { randomInt } from "node:crypto";

/** Crockford's base32: digits and capitals without I, L, O, U. 12 symbols give 60 bits. */
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function generateAuthKey(): string {
  let key = "";
  for (let i = 0; i < 12; i++) key += CROCKFORD[randomInt(CROCKFORD.length)];
  return key;
}

/** A one-time initial password for an officer: 20 Crockford symbols (100 bits), grouped for
 * reading aloud over the phone. It must be changed at first login. */
export function generateInitialPassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < 4; g++) {
    let group = "";
    for (let i = 0; i < 5; i++) group += CROCKFORD[randomInt(CROCKFORD.length)];
    groups.push(group);
  }
  return groups.join("-");
}
