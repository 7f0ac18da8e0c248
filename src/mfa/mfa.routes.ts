import type { Request, RequestHandler, Response } from "express";
import { readForm } from "../http/forms.js";
import { toEnrolmentView } from "./enrolment.presenter.js";
import { secondFactorRequired, type SecondFactorService } from "./second-factor.service.js";

const CODE_FIELDS = { code: 64 };
const WRONG_CODE = "確認コードが正しくありません。認証アプリに表示されている最新の6桁の数字を入力してください。";
const NO_CODE = "確認コード（6桁の数字）を入力してください。";

/** The officer's own second factor: enrolment, re-enrolment, recovery codes and removal (/account/mfa). */
export function createMfaHandlers({ secondFactors }: { secondFactors: SecondFactorService }) {
  /** The enrolment page (QR code, secret, code field) while a secret waits for its code, else the factor's state. */
  const accountPage = (req: Request, res: Response, status: number, error?: string) => {
    const officer = req.user!;
    const flash = req.session.flash;
    if (flash) delete req.session.flash;
    const required = secondFactorRequired(officer);
    const base = { title: "2段階認証", required, enrolled: officer.secondFactorEnrolled, flash, error };
    if (!officer.secondFactorEnrolled || secondFactors.isEnrolling(officer)) {
      return res.status(status).render("account/mfa", { ...base, enrolment: toEnrolmentView(secondFactors.enrolment(officer)) });
    }
    res.status(status).render("account/mfa", { ...base, recoveryCodesLeft: secondFactors.unusedRecoveryCodes(officer), removable: !required });
  };

  const recoveryCodesPage = (res: Response, codes: string[], replaced: boolean) =>
    res.render("account/recovery-codes", { title: "リカバリーコード", codes, replaced });

  /** GET /account/mfa: enrol (a QR code and the secret in data-totp-secret), or the enrolled factor's state and actions. */
  const show: RequestHandler = (req, res) => accountPage(req, res, 200);

  /** POST /account/mfa: one code confirms the new secret; then the ten recovery codes, shown this once. Wrong: 400 and the page again. */
  const confirm: RequestHandler = (req, res) => {
    const form = readForm(req, CODE_FIELDS);
    if (form.code.trim() === "") return accountPage(req, res, 400, NO_CODE);
    const confirmed = secondFactors.confirmEnrolment(req.user!, form.code);
    if (!confirmed.ok) return confirmed.reason === "not-enrolling" ? res.redirect(303, "/account/mfa") : accountPage(req, res, 400, WRONG_CODE);
    recoveryCodesPage(res, confirmed.recoveryCodes, false);
  };

  /** POST /account/mfa/renew (step-up): a new secret to enrol on a new phone; the old one works until it is confirmed. 303 to /account/mfa. */
  const renew: RequestHandler = (req, res) => {
    readForm(req, {});
    secondFactors.startReEnrolment(req.user!);
    res.redirect(303, "/account/mfa");
  };

  /** POST /account/mfa/recovery-codes (step-up): ten new recovery codes, the old ones void; shown this once. */
  const regenerate: RequestHandler = (req, res) => {
    readForm(req, {});
    const codes = secondFactors.regenerateRecoveryCodes(req.user!);
    if (!codes) return res.redirect(303, "/account/mfa");
    recoveryCodesPage(res, codes, true);
  };

  /** POST /account/mfa/remove (step-up): the factor and its recovery codes go, unless a factor is required (400). */
  const remove: RequestHandler = (req, res) => {
    readForm(req, {});
    const removed = secondFactors.removeOwn(req.user!);
    if (!removed.ok && removed.reason === "required") {
      return accountPage(req, res, 400, "所属の設定または管理者の役割により2段階認証は必須のため、解除できません。機種変更の場合は「再登録」をご利用ください。");
    }
    if (removed.ok) req.session.flash = "2段階認証を解除しました。";
    res.redirect(303, "/account/mfa");
  };

  return { show, confirm, renew, regenerate, remove };
}
