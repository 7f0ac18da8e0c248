import { formatEraDateTime } from "../format/era-date.js";
import type { Problem } from "../result.js";
import { toOrdererRecord } from "./audit-export.js";
import type { AuditRow } from "./audit.repository.js";

/** The filters as typed, to fill the form again and to carry into the next page's and the downloads' links. */
export type AuditFilterValues = { from: string; to: string; officer: string; event: string };

/** What the events mean, in the officers' words; an event not listed shows its name. */
const EVENT_LABELS: Record<string, string> = {
  authn_login_success: "ログイン",
  authn_login_fail: "ログイン失敗",
  authn_logout: "ログアウト",
  key_verify_success: "電子保証の確認",
  key_verify_fail: "電子保証の確認（失敗）",
  officer_add: "職員の追加",
  officer_invite: "職員の招待",
  officer_invitation_accept: "招待の受諾（パスワード設定）",
  officer_disable: "職員の停止",
  officer_enable: "職員の有効化",
  officer_password_reset: "パスワードの再発行",
  officer_password_change: "パスワードの変更",
  officer_sessions_revoke: "セッションの終了",
  officer_role_change: "役割の変更",
  audit_export: "監査ログのダウンロード",
};

export type AuditRowView = { occurredAt: string; event: string; eventLabel: string; outcome: string; actor: string; contractNumber: string; detail: string };

export function toAuditPageView(rows: AuditRow[], values: AuditFilterValues, nextBefore: number | undefined, errors?: Problem[]) {
  const query = (extra: Record<string, string>) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries({ ...values, ...extra })) if (value !== "") params.set(key, value);
    return `/admin/audit?${params.toString()}`;
  };
  return {
    title: "監査ログ",
    values,
    ...(errors ? { errors } : {}),
    rows: rows.map((row): AuditRowView => {
      const record = toOrdererRecord(row);
      const event = String(record.event);
      return {
        occurredAt: formatEraDateTime(row.occurredAt), event, eventLabel: EVENT_LABELS[event] ?? event, outcome: String(record.outcome),
        actor: record.actor === null ? "" : String(record.actor), contractNumber: record.contract_number === null ? "" : String(record.contract_number),
        detail: record.detail === null ? "" : String(record.detail),
      };
    }),
    nextHref: nextBefore === undefined ? null : query({ before: String(nextBefore) }),
    downloads: errors ? [] : [
      { label: "CSV（UTF-8）", href: query({ format: "csv", encoding: "utf-8" }) },
      { label: "CSV（Shift_JIS・Excel用）", href: query({ format: "csv", encoding: "shift_jis" }) },
      { label: "JSON Lines（署名付きチェックポイントを含む）", href: query({ format: "jsonl" }) },
    ],
  };
}
