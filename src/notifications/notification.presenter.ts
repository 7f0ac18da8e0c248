import { formatEraDateTime } from "../format/era-date.js";
import type { Notice } from "./event.repository.js";
import { noticeHeadline } from "./notice-text.js";

/** The kinds of notice as the list labels them. */
const CATEGORY: Record<Notice["kind"], string> = {
  version_amended: "変更", version_corrected: "訂正", version_withdrawn: "変更取消", guarantee_cancelled: "取消",
  expiry_within_30: "保証期限", expiry_within_7: "保証期限", expiry_passed: "期限切れ", guarantee_missing: "未提出",
};

export type NoticeRow = {
  href: string; headline: string; category: string; occurredAt: string; projectName: string;
  unread: boolean; changes: { label: string; before: string; after: string }[];
};

export type NotificationsView = {
  title: string;
  rows: NoticeRow[];
  /** The next (older) page, when there is one. */
  nextHref: string | null;
  emptyText: string;
};

export function toNotificationsView(notices: Notice[], next: number | null): NotificationsView {
  return {
    title: "お知らせ",
    rows: notices.map((n) => ({
      href: `/notifications/${n.id}`,
      headline: noticeHeadline(n.kind, n.payload),
      category: CATEGORY[n.kind],
      occurredAt: formatEraDateTime(n.occurredAt),
      projectName: n.payload.projectName,
      unread: !n.read,
      changes: n.payload.changes ?? [],
    })),
    nextHref: next === null ? null : `/notifications?before=${next}`,
    emptyText: "お知らせはありません。",
  };
}

/** The header's badge: the count, capped for display. */
export const unreadBadge = (count: number): string | null => (count === 0 ? null : count > 99 ? "99+" : String(count));
