import { addDays, formatEraDateTime, tokyoDate } from "../format/era-date.js";
import { formatYen } from "../format/yen.js";
import { guaranteeHref } from "../guarantees/certificate.presenter.js";
import { PRODUCT_NAMES } from "../guarantees/certificate.schema.js";
import { toStatusView, type StatusView } from "../guarantees/status.presenter.js";
import { changedSinceOpened, type HeldGuarantee, type HoldingFilter } from "./holding.repository.js";
import type { HoldingPage } from "./holding.service.js";

/** 期限間近: the 保証期限 is today or within this many days from today (Tokyo). */
export const EXPIRY_SOON_DAYS = 30;

export type StatusFilter = HoldingFilter["status"];
export const STATUS_FILTERS: readonly StatusFilter[] = ["all", "valid", "cancelled", "expired"];
const FILTER_LABELS: Record<StatusFilter, string> = { all: "すべて", valid: "有効", cancelled: "取消", expired: "期限切れ" };

export type Mark = { kind: "updated" | "expiring"; label: string };

export type VerifiedRow = {
  contractNumber: string;
  href: string;
  projectName: string;
  productName: string;
  guaranteeAmount: string;
  status: StatusView;
  /** The cancellation date and reason, or the passed 保証期限; absent while valid. */
  statusNote?: string;
  lastVerifiedAt: string;
  marks: Mark[];
};

export type VerifiedListView = {
  title: string;
  ordererName: string;
  q: string;
  statusOptions: { value: StatusFilter; label: string; selected: boolean }[];
  rows: VerifiedRow[];
  resultText: string;
  emptyText: string;
  /** 次の100件: the same filters, after this page's last row; absent on the last page. */
  nextHref?: string;
  nextText?: string;
  /** 最初のページへ, on every page but the first. */
  firstHref?: string;
  /** Either link is there: the pager is shown. */
  paged: boolean;
  cursorNotice?: string;
};

/** A contract of the orderer that relies on a guarantee, with that guarantee's 照合 (built by the
 * contract register, which depends on holdings, and handed to the summary page). */
export type RelyingContractView = {
  reference: string;
  href: string;
  projectName: string;
  /** data-state: ok, attention, missing, cancelled, expired or changed. */
  state: string;
  stateLabel: string;
  /** The rules this guarantee fails or warns about, or one line saying all pass. */
  findings: string[];
};

/** 更新あり: changedSinceOpened. 期限間近: still valid and the 保証期限 is at most 30 days away. */
export function marksOf(held: HeldGuarantee, status: StatusView, today: string): Mark[] {
  const marks: Mark[] = [];
  if (changedSinceOpened(held)) marks.push({ kind: "updated", label: "更新あり" });
  if (status.state === "valid" && held.content.guaranteeExpiry <= addDays(today, EXPIRY_SOON_DAYS)) marks.push({ kind: "expiring", label: "期限間近" });
  return marks;
}

/** /verified with these filters, from the page after `after` (the first page without it). */
function listHref(status: StatusFilter, q: string, after?: string): string {
  const params = new URLSearchParams();
  if (status !== "all") params.set("status", status);
  if (q !== "") params.set("q", q);
  if (after !== undefined) params.set("after", after);
  const query = params.toString();
  return query === "" ? "/verified" : `/verified?${query}`;
}

export function toVerifiedListView(
  list: HoldingPage & { pageSize: number },
  options: { now: Date; ordererName: string; status: StatusFilter; q: string; after: string },
): VerifiedListView {
  const today = tokyoDate(options.now);
  const filtered = options.status !== "all" || options.q.trim() !== "";
  const continued = options.after !== "" && !list.cursorRefused;
  return {
    title: "確認済みの保証",
    ordererName: options.ordererName,
    q: options.q,
    statusOptions: STATUS_FILTERS.map((value) => ({ value, label: FILTER_LABELS[value], selected: value === options.status })),
    rows: list.rows.map((held) => {
      const status = toStatusView(held, held.content, today);
      return {
        contractNumber: held.contractNumber,
        href: guaranteeHref(held.contractNumber),
        projectName: held.content.projectName,
        productName: PRODUCT_NAMES[held.product],
        guaranteeAmount: formatYen(held.content.guaranteeAmount),
        status,
        ...(status.state === "valid" ? {} : { statusNote: status.detail }),
        lastVerifiedAt: formatEraDateTime(held.lastVerifiedAt),
        marks: marksOf(held, status, today),
      };
    }),
    resultText: `${continued ? "続き: " : ""}${list.rows.length}件${list.next ? "（さらに続きがあります）" : ""}${filtered ? "（絞り込み中）" : ""}`,
    emptyText: filtered
      ? "条件に一致する保証はありません。状態を「すべて」にするか、検索する語句を変えてお試しください。"
      : "まだ確認した保証はありません。「電子保証の確認」から保証契約番号と認証キーを入力すると、ここに表示されます。",
    paged: list.next !== null || continued,
    ...(list.next ? { nextHref: listHref(options.status, options.q, list.next), nextText: `次の${list.pageSize}件` } : {}),
    ...(continued ? { firstHref: listHref(options.status, options.q) } : {}),
    ...(list.cursorRefused ? { cursorNotice: "ページの続きの位置（after）を読み取れなかったため、最初のページを表示しています。" } : {}),
  };
}
