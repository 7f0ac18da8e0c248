import { formatEraDate, formatEraDateTime, formatSlashDateTime, tokyoDate } from "../format/era-date.js";
import { formatYen } from "../format/yen.js";
import { PRODUCT_NAMES, productHasDepositBank, type CertificateContent, type Product } from "./certificate.schema.js";
import type { Guarantee, GuaranteeVersion } from "./guarantee.repository.js";
import { versionLabel } from "./version-label.js";
import { toStatusView, type StatusView } from "./status.presenter.js";


const CLAUSES: Record<Product, string> = { advance: "前払金保証約款", interim: "中間前払金保証約款", contract: "契約保証約款" };

/** Who is looking, as the printed 確認者 line names them. */
export type Viewer = { ordererName: string; displayName: string };

export type VersionRef = {
  sequence: number;
  /** 新規 / 変更-N, with （訂正） for a correction. */
  label: string;
  reachedAt: string;
  href: string;
  retraction?: { label: string; at: string };
};

export type CertificateRow = { label: string; lines: string[] };

export type CertificateView = {
  title: string;
  heading: string;
  issuedOn: string;
  /** 変更-N under the title; absent for the original (新規) certificate. */
  amendmentLabel?: string;
  rows: CertificateRow[];
  clause: string;
  issuer: { address: string; name: string; representativeTitle: string; representativeName: string };
  branch: { name: string; tel: string; fax?: string };
  notes: string[];
  status: StatusView;
  version: VersionRef;
  /** Set when this is not the version in force: where the current one is. */
  notLatest?: { href: string; label: string };
  verifiedBy: string;
  verifiedAt: string;
  summaryHref: string;
};

export const guaranteeHref = (contractNumber: string) => `/guarantees/${contractNumber}`;
export const versionHref = (contractNumber: string, sequence: number) => `/guarantees/${contractNumber}/versions/${sequence}`;

/** The label of a version in the history: 新規, 変更-2, 変更-1（訂正）. */
export function historyLabel(version: Pick<GuaranteeVersion, "amendmentNumber" | "kind">): string {
  return `${versionLabel(version)}${version.kind === "correction" ? "（訂正）" : ""}`;
}

export function toVersionRef(contractNumber: string, version: GuaranteeVersion): VersionRef {
  return {
    sequence: version.sequence,
    label: historyLabel(version),
    reachedAt: formatSlashDateTime(version.reachedPlatformAt),
    href: versionHref(contractNumber, version.sequence),
    ...(version.retraction ? {
      retraction: { label: version.retraction.cause === "corrected" ? "訂正済み" : "変更取消", at: formatSlashDateTime(version.retraction.at) },
    } : {}),
  };
}

/** 発注契約日 on the advance products' certificate (as in the source document), 請負契約日 on 契約保証. */
const contractDateLabel = (product: Product) => (product === "contract" ? "請負契約日" : "発注契約日");

/** The table of the certificate, in the source document's order, formatted as printed. */
function certificateRows(product: Product, contractNumber: string, c: CertificateContent): CertificateRow[] {
  const rows: CertificateRow[] = [
    { label: "保証契約番号", lines: [contractNumber] },
    { label: "保証契約者", lines: [c.contractor.address, c.contractor.name, ...(c.contractor.jvName ? [`（${c.contractor.jvName}）`] : [])] },
    { label: "工事名", lines: [c.projectName] },
  ];
  if (c.projectLocation) rows.push({ label: "工事場所", lines: [c.projectLocation] });
  rows.push(
    { label: "工期", lines: [`${formatEraDate(c.periodFrom)} ～ ${formatEraDate(c.periodTo)}`] },
    { label: contractDateLabel(product), lines: [formatEraDate(c.contractDate)] },
    { label: "請負金額", lines: [formatYen(c.contractAmount)] },
    { label: "保証金額", lines: [formatYen(c.guaranteeAmount)] },
    { label: "保証期限", lines: [formatEraDate(c.guaranteeExpiry)] },
  );
  if (productHasDepositBank(product)) rows.push({ label: "預託金融機関", lines: [c.depositBank ?? ""] });
  rows.push({ label: "発注者", lines: [c.orderer.title] });
  return rows;
}

/** The source document's (注). The second concerns the advance products only, whose guarantee
 * amount is not tied to the contract amount; a 契約保証 amount is. */
function certificateNotes(product: Product): string[] {
  const notes = ["保証契約を変更する場合は、表題の下に変更－の表示と変更の発生番号を付記し、変更後の契約内容を表示します。"];
  if (productHasDepositBank(product)) notes.push("請負金額の変更の場合は、この保証契約の効力に影響を及ぼさないので、保証契約変更の手続きをとる必要はありません。");
  return notes;
}

/**
 * 保証証書 of one version as the source document lays it out, with the guarantee's status as of
 * `now` (Tokyo) and the 確認者 / 確認日時 line that goes onto the paper.
 */
export function toCertificateView(
  guarantee: Guarantee,
  version: GuaranteeVersion,
  options: { now: Date; viewer: Viewer; current: GuaranteeVersion },
): CertificateView {
  const c = version.content;
  const heading = `保証証書（${PRODUCT_NAMES[guarantee.product]}）`;
  const isCurrent = options.current.id === version.id;
  return {
    title: `${heading} ${guarantee.contractNumber}`,
    heading,
    issuedOn: formatEraDate(c.issuedOn),
    ...(version.amendmentNumber > 0 ? { amendmentLabel: versionLabel(version) } : {}),
    rows: certificateRows(guarantee.product, guarantee.contractNumber, c),
    clause: `当社は、${CLAUSES[guarantee.product]}に基づき上記のとおり保証契約を締結し、その責に任じます。`,
    issuer: {
      address: c.issuer.address, name: c.issuer.name,
      representativeTitle: c.issuer.representativeTitle, representativeName: c.issuer.representativeName,
    },
    branch: { name: c.branch.name, tel: c.branch.tel, ...(c.branch.fax ? { fax: c.branch.fax } : {}) },
    notes: certificateNotes(guarantee.product),
    // Status is the guarantee's, judged on the version in force, whichever version is on screen.
    status: toStatusView(guarantee, options.current.content, tokyoDate(options.now)),
    version: toVersionRef(guarantee.contractNumber, version),
    ...(isCurrent ? {} : { notLatest: { href: versionHref(guarantee.contractNumber, options.current.sequence), label: historyLabel(options.current) } }),
    verifiedBy: `${options.viewer.ordererName} ${options.viewer.displayName}`,
    verifiedAt: formatEraDateTime(options.now),
    summaryHref: guaranteeHref(guarantee.contractNumber),
  };
}

/** One labelled, formatted value of a certificate, for the field-by-field comparison. */
export type CertificateField = { key: string; label: string; value: string };

const NONE = "（記載なし）";

/** Every field a certificate prints, one value each, so that two versions compare row by row. */
export function certificateFields(product: Product, contractNumber: string, c: CertificateContent): CertificateField[] {
  const fields: CertificateField[] = [
    { key: "issuedOn", label: "発行日", value: formatEraDate(c.issuedOn) },
    { key: "contractNumber", label: "保証契約番号", value: contractNumber },
    { key: "contractor.address", label: "保証契約者（住所）", value: c.contractor.address },
    { key: "contractor.name", label: "保証契約者（名称）", value: c.contractor.name },
    { key: "contractor.jvName", label: "JV名", value: c.contractor.jvName ?? NONE },
    { key: "projectName", label: "工事名", value: c.projectName },
    { key: "projectLocation", label: "工事場所", value: c.projectLocation ?? NONE },
    { key: "periodFrom", label: "工期（自）", value: formatEraDate(c.periodFrom) },
    { key: "periodTo", label: "工期（至）", value: formatEraDate(c.periodTo) },
    { key: "contractDate", label: contractDateLabel(product), value: formatEraDate(c.contractDate) },
    { key: "contractAmount", label: "請負金額", value: formatYen(c.contractAmount) },
    { key: "guaranteeAmount", label: "保証金額", value: formatYen(c.guaranteeAmount) },
    { key: "guaranteeExpiry", label: "保証期限", value: formatEraDate(c.guaranteeExpiry) },
  ];
  if (productHasDepositBank(product)) fields.push({ key: "depositBank", label: "預託金融機関", value: c.depositBank ?? NONE });
  fields.push(
    { key: "orderer.title", label: "発注者", value: c.orderer.title },
    { key: "issuer.address", label: "保証事業会社（所在地）", value: c.issuer.address },
    { key: "issuer.name", label: "保証事業会社（名称）", value: c.issuer.name },
    { key: "issuer.representative", label: "代表者", value: `${c.issuer.representativeTitle} ${c.issuer.representativeName}` },
    { key: "branch.name", label: "取扱箇所", value: c.branch.name },
    { key: "branch.tel", label: "取扱箇所 TEL", value: c.branch.tel },
    { key: "branch.fax", label: "取扱箇所 FAX", value: c.branch.fax ?? NONE },
  );
  return fields;
}
