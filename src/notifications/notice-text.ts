import { formatEraDate, formatEraDateTime } from "../format/era-date.js";
import type { EventKind, EventPayload, OrdererEvent } from "./event.repository.js";

/**
 * The words of a notice, shared by the notices page and the mails: plain functions of an event's
 * payload (fixed when it was recorded), so the page and the mail never disagree.
 */

/** The path a notice leads to: the guarantee's summary, or the contract in the register. */
export function noticePath(event: Pick<OrdererEvent, "payload" | "contractId">): string {
  return event.contractId !== null
    ? `/contracts/${encodeURIComponent(event.payload.reference ?? "")}`
    : `/guarantees/${event.payload.contractNumber ?? ""}`;
}

/** One line: 「31415-926535 変更-1 が登録されました」. */
export function noticeHeadline(kind: EventKind, p: EventPayload): string {
  switch (kind) {
    case "version_amended": return `${p.contractNumber} ${p.label} が登録されました`;
    case "version_corrected": return `${p.contractNumber} ${p.label} の訂正が登録されました`;
    case "version_withdrawn": return `${p.contractNumber} ${p.label} が取り消されました（変更取消）`;
    case "guarantee_cancelled": return `${p.contractNumber} の保証が取消されました`;
    case "expiry_within_30": return `${p.contractNumber} の保証期限（${formatEraDate(p.guaranteeExpiry!)}）まで30日以内です`;
    case "expiry_within_7": return `${p.contractNumber} の保証期限（${formatEraDate(p.guaranteeExpiry!)}）まで7日以内です`;
    case "expiry_passed": return `${p.contractNumber} の保証期限（${formatEraDate(p.guaranteeExpiry!)}）が過ぎました`;
    case "guarantee_missing": return `契約 ${p.reference} の${p.missingProducts!.join("・")}が未提出です`;
  }
}

/** The body lines of one event: what it is about, and what changed. */
function detailLines(event: OrdererEvent): string[] {
  const p = event.payload;
  const lines = event.contractId !== null
    ? [`契約番号: ${p.reference}`, `工事名: ${p.projectName}`, `契約日: ${formatEraDate(p.contractDate!)}`, `未提出: ${p.missingProducts!.join("、")}`]
    : [`保証契約番号: ${p.contractNumber}`, `工事名: ${p.projectName}`];
  if (p.guaranteeExpiry && event.contractId === null) lines.push(`保証期限: ${formatEraDate(p.guaranteeExpiry)}`);
  if (p.reason) lines.push(`取消理由: ${p.reason}`);
  if (p.changes && p.changes.length > 0) {
    lines.push("", "変更された項目（変更前 → 変更後）:");
    for (const c of p.changes) lines.push(`・${c.label}: ${c.before} → ${c.after}`);
  }
  return lines;
}

const FOOTER = [
  "",
  "このメールは電子保証確認サービス Kakunin から自動で送信しています。",
  "電子保証の内容は、必ずリンク先の画面（ログインが必要です）でご確認ください。",
];

/** The mail of one event, to one of the orderer's mailboxes. */
export function eventMail(event: OrdererEvent, ordererName: string, publicBaseUrl: string): { subject: string; text: string } {
  return {
    subject: `【電子保証】${noticeHeadline(event.kind, event.payload)}`,
    text: [
      `${ordererName} ご担当者様`,
      "",
      `${noticeHeadline(event.kind, event.payload)}。`,
      `登録日時: ${formatEraDateTime(event.occurredAt)}`,
      "",
      ...detailLines(event),
      "",
      `詳細: ${publicBaseUrl}${noticePath(event)}`,
      ...FOOTER,
    ].join("\n"),
  };
}

/** Entries a digest lists in full; the rest are counted and left to the notices page. */
export const DIGEST_MAX_ENTRIES = 50;

/** The scan's one mail per orderer: every expiry warning and 未提出 reminder it found (the first 50 in full). */
export function digestMail(events: OrdererEvent[], ordererName: string, publicBaseUrl: string, today: string): { subject: string; text: string } {
  const sections = events.slice(0, DIGEST_MAX_ENTRIES).flatMap((event, i) => [
    `${i + 1}. ${noticeHeadline(event.kind, event.payload)}`,
    ...detailLines(event).map((line) => (line === "" ? "" : `   ${line}`)),
    `   詳細: ${publicBaseUrl}${noticePath(event)}`,
    "",
  ]);
  const rest = events.length - DIGEST_MAX_ENTRIES;
  if (rest > 0) sections.push(`ほか${rest}件は、Kakunin の「お知らせ」でご確認ください: ${publicBaseUrl}/notifications`, "");
  return {
    subject: `【電子保証】保証期限・未提出のお知らせ（${formatEraDate(today)}、${events.length}件）`,
    text: [`${ordererName} ご担当者様`, "", `${formatEraDate(today)} の確認で、次の${events.length}件が見つかりました。`, "", ...sections, ...FOOTER].join("\n"),
  };
}
