import { formatEraDateTime } from "../format/era-date.js";
import type { Problem } from "../result.js";
import type { OfficerListing } from "./officer-administration.service.js";
import type { Officer, OfficerRole } from "./officer.repository.js";

const ROLE_LABELS: Record<OfficerRole, string> = { officer: "職員", admin: "所属管理者" };

export type OfficerRowView = {
  login: string; displayName: string; role: string; state: string; lastLogin: string;
  /** 登録済み / 未登録 (and 要登録 where it is required of them). */
  secondFactor: string;
  self: boolean; active: boolean; invited: boolean; administrator: boolean; secondFactorEnrolled: boolean;
  /** Tied to an account at the orderer's identity provider (SSO). */
  providerLinked: boolean;
  /** The action paths, the login encoded once for the URL. */
  actionBase: string;
};

export type OfficersView = {
  title: string; ordererName: string; rows: OfficerRowView[]; flash?: string; errors?: Problem[];
  values: { login: string; displayName: string; email: string };
  /** Where an invitation may be sent ("city.mutsu.lg.jp"); empty: one-time passwords only. */
  inviteDomains: string;
  canInvite: boolean;
};

/** 有効 / 停止 / 初回パスワード未変更 / 招待中 (期限切れ), as the list shows them. */
function stateOf(officer: Officer, invitationExpiresAt: string | undefined, now: Date): string {
  if (invitationExpiresAt !== undefined) return invitationExpiresAt <= now.toISOString() ? "招待中（期限切れ）" : "招待中";
  if (!officer.active) return "停止";
  return officer.mustChangePassword ? "初回パスワード未変更" : "有効";
}

export function toOfficersView(administrator: Officer, listing: OfficerListing, now: Date, extra: { flash?: string; errors?: Problem[]; values?: OfficersView["values"] } = {}): OfficersView {
  return {
    title: "職員の管理",
    ordererName: administrator.ordererName,
    rows: listing.officers.map((o) => {
      const invitation = listing.invitations.get(o.id);
      return {
        login: o.login, displayName: o.displayName, role: ROLE_LABELS[o.role], state: stateOf(o, invitation?.expiresAt, now),
        lastLogin: o.lastLoginAt ? formatEraDateTime(o.lastLoginAt) : "なし",
        secondFactor: o.secondFactorEnrolled ? "登録済み" : o.role === "admin" || o.ordererRequiresSecondFactor ? "未登録（必須）" : "未登録",
        self: o.id === administrator.id, active: o.active, invited: invitation !== undefined, administrator: o.role === "admin", secondFactorEnrolled: o.secondFactorEnrolled,
        providerLinked: listing.providerLinked.has(o.id),
        actionBase: `/admin/officers/${encodeURIComponent(o.login)}`,
      };
    }),
    ...(extra.flash ? { flash: extra.flash } : {}),
    ...(extra.errors ? { errors: extra.errors } : {}),
    values: extra.values ?? { login: "", displayName: "", email: "" },
    inviteDomains: listing.inviteDomains.join("、"),
    canInvite: listing.inviteDomains.length > 0,
  };
}

/** "佐藤 花子（mutsu-sato）": an officer as the flash messages name them. */
export const officerName = (o: Officer) => `${o.displayName}（${o.login}）`;

/** The role as the list shows it. */
export const roleLabel = (role: OfficerRole) => ROLE_LABELS[role];

/** The page that shows a one-time password, once. */
export function toOneTimePasswordView(officer: Officer, password: string, reason: "added" | "reset") {
  return {
    title: reason === "added" ? "職員を追加しました" : "パスワードを再発行しました",
    heading: reason === "added" ? "職員を追加しました" : "パスワードを再発行しました",
    login: officer.login,
    displayName: officer.displayName,
    password,
    sessionsEnded: reason === "reset",
  };
}
