import type { Request, RequestHandler, Response } from "express";
import type { Clock } from "../clock.js";
import { clientAddress } from "../http/client-address.js";
import { readForm } from "../http/forms.js";
import { localPath } from "../http/local-path.js";
import type { Logger } from "../logger.js";
import type { OfficerService } from "../officers/officer.service.js";
import { PASSWORD_MAX_LENGTH } from "../officers/password-policy.js";
import { loginThrottledMessage } from "./auth.routes.js";
import type { DeviceCookies } from "./device-cookie.js";
import type { LoginService, Throttled } from "./login.service.js";
import type { SignIn } from "./sign-in.js";

const CODE_FIELDS = { code: 64 };
const CONFIRM_FIELDS = { password: PASSWORD_MAX_LENGTH * 4, code: 64, next: 2000 };
const WRONG_CODE = "確認コードが正しくありません。認証アプリに表示されている最新の6桁の数字、または未使用のリカバリーコードを入力してください。";
const NO_CODE = "確認コードを入力してください。";

type Deps = { clock: Clock; login: LoginService; officers: OfficerService; deviceCookies: DeviceCookies; signIn: SignIn; logger: Logger };

/** The login's second step (/login/mfa) and the step-up's confirmation (/account/confirm). */
export function createSecondStepHandlers({ clock, login, officers, deviceCookies, signIn, logger }: Deps) {
  const codePage = (res: Response, status: number, error?: string) =>
    res.status(status).render("auth/login-mfa", { title: "確認コードの入力", error });

  const throttled = (res: Response, result: Throttled) => {
    logger.warn({ evt: "authn_mfa_throttled", requestId: res.locals.requestId, locked: result.locked }, "second factor throttled");
    res.set("Retry-After", String(result.retryAfterSeconds));
    return loginThrottledMessage(result, clock.now());
  };

  /** The officer owing a code in this session, while the five minutes last and the account can still log in. */
  const pendingOfficer = (req: Request) => {
    const id = signIn.pendingOfficerId(req);
    const officer = id === undefined ? undefined : officers.findById(id);
    return officer && officer.active && officer.secondFactorEnrolled ? officer : undefined;
  };

  /** Back to the login form: the step's time ran out, or nobody gave a password in this session. */
  const startAgain = (req: Request, res: Response) => {
    const expired = req.session.pendingLogin !== undefined;
    delete req.session.pendingLogin;
    res.redirect(303, expired ? "/login?again=1" : "/login");
  };

  /** GET /login/mfa: the code form after the password (or 303 to /login when no password was given). */
  const codeForm: RequestHandler = (req, res) => {
    if (req.user) return res.redirect(303, "/verify");
    if (!pendingOfficer(req)) return startAgain(req, res);
    codePage(res, 200);
  };

  /**
   * POST /login/mfa: a TOTP code or a recovery code. Accepted: logged in, 303 on. Wrong or
   * replayed: the form again, 401; throttled (with the password's counters): 429 with Retry-After.
   */
  const checkCode: RequestHandler = (req, res, next) => {
    const form = readForm(req, CODE_FIELDS);
    const officer = pendingOfficer(req);
    if (!officer) return startAgain(req, res);
    if (form.code.trim() === "") return codePage(res, 400, NO_CODE);
    const result = login.verifySecondFactor(officer, form.code, { clientAddress: clientAddress(req), device: deviceCookies.fromRequest(req) });
    if (!result.ok && result.reason === "throttled") return codePage(res, 429, throttled(res, result));
    if (!result.ok) return codePage(res, 401, WRONG_CODE);
    delete req.session.pendingLogin;
    signIn.completeSecondStep(req, res, next, officers.findById(officer.id)!);
  };

  const confirmPage = (req: Request, res: Response, status: number, next: string, error?: string) =>
    res.status(status).render("auth/confirm", { title: "本人確認", next, hasSecondFactor: req.user!.secondFactorEnrolled, error });

  /** GET /account/confirm?next=/path: the step-up's form (password, or a code), then back to `next`. */
  const confirmForm: RequestHandler = (req, res) => confirmPage(req, res, 200, localPath(req.query.next) ?? "/verify");

  /** POST /account/confirm: the password or a code again (throttled like the login); 303 to `next`, or the form again (401, 429). */
  const confirm: RequestHandler = async (req, res) => {
    const form = readForm(req, CONFIRM_FIELDS);
    const back = localPath(form.next) ?? "/verify";
    if (form.password === "" && form.code.trim() === "") return confirmPage(req, res, 400, back, "パスワードまたは確認コードを入力してください。");
    const result = await login.reauthenticate(req.user!, { password: form.password, code: form.code.trim() }, { clientAddress: clientAddress(req), device: deviceCookies.fromRequest(req) });
    if (!result.ok && result.reason === "throttled") return confirmPage(req, res, 429, back, throttled(res, result));
    if (!result.ok) return confirmPage(req, res, 401, back, result.reason === "wrong-password" ? "パスワードが正しくありません。" : WRONG_CODE);
    req.session.authenticatedAt = clock.now().getTime();
    res.redirect(303, back);
  };

  return { codeForm, checkCode, confirmForm, confirm };
}
