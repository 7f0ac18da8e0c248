import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { Clock } from "../clock.js";
import { readForm } from "../http/forms.js";
import type { Problem } from "../result.js";
import type { AdministrationResult, OfficerAdministration } from "./officer-administration.service.js";
import type { Officer } from "./officer.repository.js";
import { officerName, roleLabel, toOfficersView, toOneTimePasswordView } from "./officer.presenter.js";

const ADD_FIELDS = { login: 64, displayName: 100, email: 254 };
const ROLE_FIELDS = { role: 16 };

/**
 * An orderer administrator's pages over the officers of their own orderer (createApp mounts them
 * behind requireAdministrator). An officer out of reach (unknown, or another orderer's) is the
 * one 404 handler's: the route is skipped, as for a page that does not exist.
 */
export function createOfficerAdministrationHandlers(deps: { administration: OfficerAdministration; clock: Clock }) {
  const { administration, clock } = deps;

  const listPage = (req: Request, res: Response, status: number, extra: Parameters<typeof toOfficersView>[3] = {}) => {
    const flash = req.session.flash;
    if (flash) delete req.session.flash;
    res.status(status).render("admin/officers", toOfficersView(req.user!, administration.list(req.user!), clock.now(), { ...(flash ? { flash } : {}), ...extra }));
  };

  /** An action's answer: 303 back to the list with `done`, the list again with the refusal (400), or the 404. */
  const answer = <T>(req: Request, res: Response, next: NextFunction, result: AdministrationResult<T>, done: (value: T) => string): void => {
    if (!result.ok && result.reason === "not-found") return next("route");
    if (!result.ok) return listPage(req, res, 400, { errors: [{ field: "officers", message: result.message }] });
    req.session.flash = done(result.value);
    res.redirect(303, "/admin/officers");
  };

  /** GET /admin/officers: the orderer's officers (role, state, last login), the actions, and the form to add one. */
  const list: RequestHandler = (req, res) => listPage(req, res, 200);

  /** POST /admin/officers: adds an officer and shows their one-time password once; with an address,
   * mails an invitation instead and goes back to the list (303). Bad fields: the form again (400). */
  const add: RequestHandler = async (req, res) => {
    const form = readForm(req, ADD_FIELDS);
    const refused = (problems: Problem[]) => listPage(req, res, 400, { errors: problems, values: form });
    if (form.email.trim() !== "") {
      const invited = await administration.invite(req.user!, form);
      if (!invited.ok) return refused(invited.problems);
      req.session.flash = `${officerName(invited.value.officer)}さんに招待メールを送りました（${invited.value.address}）。リンクの有効期限は72時間です。`;
      return res.redirect(303, "/admin/officers");
    }
    const added = await administration.add(req.user!, form);
    if (!added.ok) return refused(added.problems);
    res.render("admin/one-time-password", toOneTimePasswordView(added.value.officer, added.value.initialPassword!, "added"));
  };

  const login = (req: Request) => String(req.params.login);

  /** An action without fields of its own on the officer named in the path. */
  const act = <T>(run: (administrator: Officer, login: string) => AdministrationResult<T>, done: (value: T) => string): RequestHandler =>
    (req, res, next) => {
      readForm(req, {});
      answer(req, res, next, run(req.user!, login(req)), done);
    };

  /** POST /admin/officers/:login/disable: the officer can no longer log in; their sessions end. */
  const disable = act(administration.disable, (o) => `${officerName(o)}さんを停止しました。`);

  /** POST /admin/officers/:login/enable: the officer may log in again. */
  const enable = act(administration.enable, (o) => `${officerName(o)}さんを有効にしました。`);

  /** POST /admin/officers/:login/revoke-sessions: every session of the officer ends. */
  const revokeSessions = act(administration.revokeSessions, (r) => `${officerName(r.officer)}さんのログイン中のセッションを${r.ended}件終了しました。`);

  /** POST /admin/officers/:login/reset-second-factor: a lost second factor removed; the officer's sessions end. */
  const resetSecondFactor = act(administration.resetSecondFactor, (r) => `${officerName(r.officer)}さんの2段階認証をリセットしました。次回はパスワードでログインし、2段階認証を登録し直します。`);

  /** POST /admin/officers/:login/role (field role: officer|admin): makes or unmakes an administrator. */
  const setRole: RequestHandler = (req, res, next) => {
    const form = readForm(req, ROLE_FIELDS);
    answer(req, res, next, administration.setRole(req.user!, login(req), form.role), (o) => `${officerName(o)}さんの役割を「${roleLabel(o.role)}」にしました。`);
  };

  /** POST /admin/officers/:login/reset-password: a new one-time password, shown once; the officer's sessions end. */
  const resetPassword: RequestHandler = async (req, res, next) => {
    readForm(req, {});
    const reset = await administration.resetPassword(req.user!, login(req));
    if (!reset.ok) return answer(req, res, next, reset, () => "");
    res.render("admin/one-time-password", toOneTimePasswordView(reset.value.officer, reset.value.initialPassword!, "reset"));
  };

  /** POST /admin/officers/:login/invitation: mails the invited officer a new link (72 hours from now). */
  const resendInvitation: RequestHandler = async (req, res, next) => {
    readForm(req, {});
    answer(req, res, next, await administration.resendInvitation(req.user!, login(req)), (r) => `${officerName(r.officer)}さんに招待メールを再送しました（${r.address}）。`);
  };

  /** POST /admin/officers/:login/invitation/withdraw: the link stops working; the account stays disabled. */
  const withdrawInvitation = act(administration.withdrawInvitation, (o) => `${officerName(o)}さんへの招待を取り消しました。リンクは使えなくなりました（アカウントは停止のままです）。`);

  /** POST /admin/officers/:login/sso-unlink: the officer is untied from their identity provider's account. */
  const unlinkProvider = act(administration.unlinkProvider, (o) => `${officerName(o)}さんと所属の認証基盤のアカウントとの連携を解除しました。次回の認証基盤でのログインで連携し直します。`);

  return { list, add, disable, enable, revokeSessions, setRole, resetPassword, resetSecondFactor, resendInvitation, withdrawInvitation, unlinkProvider };
}
