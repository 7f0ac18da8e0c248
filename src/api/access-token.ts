import { generateKeyPairSync, randomUUID, type KeyObject } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import type { Clock } from "../clock.js";
import type { ApiClient } from "../api-clients/api-client.repository.js";

export const TOKEN_AUDIENCE = "kakunin-api";
export const TOKEN_ISSUER = "urn:kakunin";
export const TOKEN_LIFETIME_SECONDS = 600;
/** The private claim naming the client's orderer (its 全国地方公共団体コード). */
const ORDERER_CLAIM = "orderer";

/** issuedAt: seconds since the epoch (the token's iat). */
export type TokenClaims = { clientId: string; ordererCode: string; issuedAt: number };

/**
 * Access tokens: JWTs signed with Ed25519 (EdDSA), 10 minutes. The key pair is made when the
 * process starts and never leaves its memory: there is no private key on disk to protect, back up
 * or rotate, and a restart simply ends every token (clients ask for a new one, as they do every
 * ten minutes anyway). One process serves the one SQLite file, so no second process needs the key.
 */
export type TokenKeys = { privateKey: KeyObject; publicKey: KeyObject };

export function createAccessTokens(clock: Clock, keys: TokenKeys = generateKeyPairSync("ed25519")) {
  const { privateKey, publicKey } = keys;
  return {
    async issue(client: ApiClient): Promise<string> {
      const now = Math.floor(clock.now().getTime() / 1000);
      return new SignJWT({ [ORDERER_CLAIM]: client.ordererCode })
        .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt" })
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setSubject(client.clientId)
        .setJti(randomUUID())
        .setIssuedAt(now)
        .setExpirationTime(now + TOKEN_LIFETIME_SECONDS)
        .sign(privateKey);
    },
    /** The token's client and orderer if its signature, algorithm, issuer, audience and times hold; undefined otherwise. */
    async verify(token: string): Promise<TokenClaims | undefined> {
      try {
        const { payload } = await jwtVerify(token, publicKey, {
          algorithms: ["EdDSA"], issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, currentDate: clock.now(),
          requiredClaims: ["sub", "exp", "iat", "jti", ORDERER_CLAIM], typ: "at+jwt",
        });
        const ordererCode = payload[ORDERER_CLAIM];
        return typeof payload.sub === "string" && typeof ordererCode === "string" && typeof payload.iat === "number"
          ? { clientId: payload.sub, ordererCode, issuedAt: payload.iat }
          : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

export type AccessTokens = ReturnType<typeof createAccessTokens>;
