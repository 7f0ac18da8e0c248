/**
 * Whether the provider says it used a second factor, from the ID token's `amr` (RFC 8176) or
 * `acr`. Counted: amr "mfa" (the provider's own word for several factors); or a possession or
 * inherence method (otp, hwk, sc, sms, tel, fpt, face, iris, retina, vbm) beside another method
 * (pwd+otp, pin+hwk, ...); or an acr naming multi-factor (PAPE's, REFEDS MFA). A single "swk",
 * "pwd" or "pin", or an acr we do not know, is one factor.
 */
const POSSESSION_OR_INHERENCE = new Set(["otp", "hwk", "sc", "sms", "tel", "fpt", "face", "iris", "retina", "vbm"]);
const MULTI_FACTOR_ACR = new Set([
  "http://schemas.openid.net/pape/policies/2007/06/multi-factor",
  "http://schemas.openid.net/pape/policies/2007/06/multi-factor-physical",
  "https://refeds.org/profile/mfa",
]);

export function providerUsedSecondFactor(claims: Record<string, unknown>): boolean {
  const amr = Array.isArray(claims.amr) ? new Set(claims.amr.filter((m): m is string => typeof m === "string")) : new Set<string>();
  if (amr.has("mfa")) return true;
  if ([...amr].some((m) => POSSESSION_OR_INHERENCE.has(m)) && amr.size >= 2) return true;
  return typeof claims.acr === "string" && MULTI_FACTOR_ACR.has(claims.acr);
}
