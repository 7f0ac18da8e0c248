import { tokyoDate } from "../format/era-date.js";
import { formatYen } from "../format/yen.js";
import {
  certificateFields, guaranteeHref, toVersionRef, type VersionRef,
} from "./certificate.presenter.js";
import { PRODUCT_NAMES, productHasDepositBank } from "./certificate.schema.js";
import type { Guarantee, GuaranteeVersion } from "./guarantee.repository.js";
import { toStatusView, type StatusView } from "./status.presenter.js";

export type SummaryView = {
  title: string;
  heading: string;
  contractNumber: string;
  rows: { label: string; value: string }[];
  status: StatusView;
  certificateHref: string;
};

/** 電子保証概要: what the source document's summary shows, of the version in force. */
export function toSummaryView(guarantee: Guarantee, current: GuaranteeVersion, options: { now: Date }): SummaryView {
  const c = current.content;
  const product = PRODUCT_NAMES[guarantee.product];
  const status = toStatusView(guarantee, c, tokyoDate(options.now));
  const rows = [
    { label: "保証契約番号", value: guarantee.contractNumber },
    { label: "状態", value: status.label },
    { label: "請負契約者", value: c.contractor.name },
    { label: "JV名", value: c.contractor.jvName ?? "なし" },
    { label: "工事名", value: c.projectName },
    { label: "発注者名", value: c.orderer.title },
    { label: "請負金額", value: formatYen(c.contractAmount) },
    { label: "保証金額", value: formatYen(c.guaranteeAmount) },
    { label: "商品名", value: product },
  ];
  if (productHasDepositBank(guarantee.product)) rows.push({ label: "預託金融機関", value: c.depositBank ?? "" });
  return {
    title: `電子保証概要 ${guarantee.contractNumber}`,
    heading: `電子保証概要（${product}）`,
    contractNumber: guarantee.contractNumber,
    rows,
    status,
    certificateHref: `${guaranteeHref(guarantee.contractNumber)}/certificate`,
  };
}

export type HistoryRow = VersionRef & {
  no: number;
  className: string;
  current: boolean;
  /** Every version after the first compares with the one before it. */
  diffHref?: string;
};

export type HistoryView = {
  showAll: boolean;
  note: string;
  toggleHref: string;
  toggleLabel: string;
  rows: HistoryRow[];
};

/**
 * 電子保証履歴, oldest first. By default, as on the surety companies' platform, versions that were
 * corrected (訂正) or withdrawn (変更取消) are left out; with `showAll` they are listed and marked.
 */
export function toHistoryView(guarantee: Guarantee, versions: GuaranteeVersion[], options: { showAll: boolean; current: GuaranteeVersion }): HistoryView {
  const base = guaranteeHref(guarantee.contractNumber);
  const listed = options.showAll ? versions : versions.filter((v) => !v.retraction);
  return {
    showAll: options.showAll,
    note: options.showAll
      ? "訂正、変更取消された履歴も表示しています。電子保証発行日時とは、保証証書がこのサービスに到着した日時です。"
      : "※訂正、変更取消された履歴は表示されません。電子保証発行日時とは、保証証書がこのサービスに到着した日時です。",
    toggleHref: options.showAll ? base : `${base}?all=1`,
    toggleLabel: options.showAll ? "訂正・変更取消された履歴を隠す" : "訂正・変更取消された履歴も表示",
    rows: listed.map((v, index) => {
      const ref = toVersionRef(guarantee.contractNumber, v);
      return {
        ...ref,
        no: index + 1,
        className: ref.retraction ? "history-row history-row--retracted" : "history-row",
        current: v.id === options.current.id,
        ...(v.sequence > 1 ? { diffHref: `${ref.href}/diff` } : {}),
      };
    }),
  };
}

export type DiffRow = { label: string; before: string; after: string; changed: boolean; className: string };

export type DiffView = {
  title: string;
  contractNumber: string;
  older: VersionRef;
  newer: VersionRef;
  rows: DiffRow[];
  changedCount: number;
  status: StatusView;
  summaryHref: string;
};

/** `newer` against the version before it, over every field the certificate prints. */
export function toDiffView(guarantee: Guarantee, older: GuaranteeVersion, newer: GuaranteeVersion, options: { now: Date; current: GuaranteeVersion }): DiffView {
  const before = certificateFields(guarantee.product, guarantee.contractNumber, older.content);
  const after = new Map(certificateFields(guarantee.product, guarantee.contractNumber, newer.content).map((f) => [f.key, f]));
  const rows = before.map((field) => {
    const value = after.get(field.key)?.value ?? "";
    const changed = value !== field.value;
    return { label: field.label, before: field.value, after: value, changed, className: changed ? "diff-row diff-row--changed" : "diff-row" };
  });
  return {
    title: `前の版との比較 ${guarantee.contractNumber}`,
    contractNumber: guarantee.contractNumber,
    older: toVersionRef(guarantee.contractNumber, older),
    newer: toVersionRef(guarantee.contractNumber, newer),
    rows,
    changedCount: rows.filter((r) => r.changed).length,
    status: toStatusView(guarantee, options.current.content, tokyoDate(options.now)),
    summaryHref: guaranteeHref(guarantee.contractNumber),
  };
}
