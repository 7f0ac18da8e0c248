import argon2 from "argon2";
import { randomBytes } from "node:crypto";

export type Argon2Params = { memoryCost: number; timeCost: number; parallelism: number };

/** OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane. The floor for
 * every hash the service stores; tests may go lower only through an explicit test config. */
export const OWASP_ARGON2: Argon2Params = Object.freeze({ memoryCost: 19456, timeCost: 2, parallelism: 1 });

export type Hasher = {
  readonly params: Argon2Params;
  hash(secret: string): Promise<string>;
  /** Exactly one argon2 verification; a malformed stored hash counts as a mismatch. */
  verify(storedHash: string, secret: string): Promise<boolean>;
  /** Burns one verification against a hash made at start-up with the live parameters, so that an
   * unknown user or contract number costs the same time as a wrong secret. Always false. */
  verifyDummy(secret: string): Promise<false>;
  needsRehash(storedHash: string): boolean;
};

export async function createHasher(params: Argon2Params): Promise<Hasher> {
  const options = { type: argon2.argon2id as 2, ...params };
  const dummyHash = await argon2.hash(randomBytes(32).toString("hex"), options);
  const verify = async (storedHash: string, secret: string): Promise<boolean> => {
    try {
      return await argon2.verify(storedHash, secret);
    } catch {
      return false;
    }
  };
  return {
    params: Object.freeze({ ...params }),
    hash: (secret) => argon2.hash(secret, options),
    verify,
    async verifyDummy(secret) {
      await verify(dummyHash, secret);
      return false;
    },
    needsRehash: (storedHash) => {
      try {
        return argon2.needsRehash(storedHash, params);
      } catch {
        return true;
      }
    },
  };
}
