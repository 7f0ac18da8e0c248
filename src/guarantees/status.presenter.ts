import { formatEraDate, formatEraDateTime } from "../format/era-date.js";
import type { CertificateContent } from "./certificate.schema.js";
import type { Guarantee } from "./guarantee.repository.js";
import { guaranteeState, type GuaranteeState } from "./guarantee-state.js";

export type StatusView = {
  state: GuaranteeState;
  /** 有効 / 取消 / 期限切れ: always said in words, the colour only repeats it. */
  label: string;
  detail: string;
  /** 取消 and 期限切れ interrupt (role="alert"); 有効 does not. */
  role: "alert" | "status";
  /** The word stamped across a certificate that must not be relied on; absent when valid. */
  stamp?: string;
};

export function toStatusView(
  guarantee: Pick<Guarantee, "status" | "cancelledAt" | "cancelReason">,
  current: Pick<CertificateContent, "guaranteeExpiry">,
  today: string,
): StatusView {
  const state = guaranteeState(guarantee, current, today);
  const expiry = formatEraDate(current.guaranteeExpiry);
  switch (state) {
    case "cancelled":
      return {
        state, label: "取消", role: "alert", stamp: "取消",
        detail: `この保証は${formatEraDateTime(guarantee.cancelledAt!)}に取り消されました。理由: ${guarantee.cancelReason ?? ""}`,
      };
    case "expired":
      return { state, label: "期限切れ", role: "alert", stamp: "期限切れ", detail: `保証期限（${expiry}）を過ぎています。` };
    default:
      return { state, label: "有効", role: "status", detail: `保証期限 ${expiry} まで有効です。` };
  }
}
