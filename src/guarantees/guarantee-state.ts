import type { CertificateContent } from "./certificate.schema.js";

/** What the issuer has said of a guarantee: valid until cancelled (取消). */
export type GuaranteeStatus = "valid" | "cancelled";

/** What an officer must know before relying on a guarantee. 取消 wins over 期限切れ. */
export type GuaranteeState = "valid" | "cancelled" | "expired";

export const GUARANTEE_STATES: readonly GuaranteeState[] = ["valid", "cancelled", "expired"];

/**
 * The state of a guarantee on the Tokyo calendar day `today` ("YYYY-MM-DD", see tokyoDate): a
 * 保証期限 of D still holds all of D and has passed from D+1. SQL filters call this same function
 * (registered as guarantee_state by registerGuaranteeFunctions), so the rule is written once.
 */
export function guaranteeState(guarantee: { status: GuaranteeStatus }, current: Pick<CertificateContent, "guaranteeExpiry">, today: string): GuaranteeState {
  if (guarantee.status === "cancelled") return "cancelled";
  return current.guaranteeExpiry < today ? "expired" : "valid";
}

/** The stored status every guarantee in `state` has: 取消 is stored as such, 有効 and 期限切れ are
 * both 'valid' (the day tells them apart). Lets an index on the status narrow a filter by state. */
export function storedStatusOf(state: GuaranteeState): GuaranteeStatus {
  return state === "cancelled" ? "cancelled" : "valid";
}
