import type { RequestHandler, Response } from "express";
import { formatEraDateTime } from "../format/era-date.js";
import { readForm } from "../http/forms.js";
import type { InvitationService } from "./invitation.service.js";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "./password-policy.js";

const FIELDS = { newPassword: PASSWORD_MAX_LENGTH * 4, confirmPassword: PASSWORD_MAX_LENGTH * 4 };

const UNUSABLE = {
  unknown: "このリンクは使えません。既にパスワードを設定済みか、リンクが正しくありません。",
  expired: "このリンクは有効期限（72時間）が切れています。所属の管理者に再度の招待を依頼してください。",
} as const;

/** An invited officer's link (anonymous: the token is the credential). */
export function createInvitationHandlers(deps: { invitations: InvitationService }) {
  const { invitations } = deps;

  const unusable = (res: Response, reason: keyof typeof UNUSABLE) =>
    res.status(404).render("invitations/unusable", { title: "招待リンク", message: UNUSABLE[reason] });

  const form = (res: Response, status: number, view: { login: string; displayName: string; ordererName: string; expiresAt: string }, error?: string) =>
    res.status(status).render("invitations/form", {
      title: "パスワードの設定", ...view, expiresAt: formatEraDateTime(view.expiresAt), minLength: PASSWORD_MIN_LENGTH, ...(error ? { error } : {}),
    });

  /** GET /invitations/:token: the set-password form while the link is unused and unexpired; else 404 with why. */
  const show: RequestHandler = (req, res) => {
    const found = invitations.find(String(req.params.token));
    if (!found.ok) return unusable(res, found.reason);
    form(res, 200, { ...found.officer, expiresAt: found.expiresAt });
  };

  /** POST /invitations/:token: sets the password (the policy's rules), uses the link up, and shows where to log in. */
  const accept: RequestHandler = async (req, res) => {
    const fields = readForm(req, FIELDS);
    const token = String(req.params.token);
    const accepted = await invitations.accept(token, fields);
    if (accepted.ok) return res.render("invitations/accepted", { title: "パスワードを設定しました", login: accepted.officer.login });
    if (!("message" in accepted)) return unusable(res, accepted.reason);
    const found = invitations.find(token);
    if (!found.ok) return unusable(res, found.reason);
    form(res, 400, { ...found.officer, expiresAt: found.expiresAt }, accepted.message);
  };

  return { show, accept };
}
