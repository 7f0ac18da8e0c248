import type { CookieOptions, Request, RequestHandler, Response } from "express";
import { cookieValue } from "../auth/device-cookie.js";
import type { SignIn } from "../auth/sign-in.js";
import type { Clock } from "../clock.js";
import { formatEraDateTime } from "../format/era-date.js";
import { clientAddress } from "../http/client-address.js";
import { readForm } from "../http/forms.js";
import type { Logger } from "../logger.js";
import { PENDING_LIFETIME_MS, type SsoService } from "./sso.service.js";

const SSO_FIELDS = { login: 254, orderer: 6 };
const NOT_OFFERED = "このログインIDの所属では、所属の認証基盤でのログインを利用できません。ログインIDとパスワードでログインしてください。";
const UNREACHABLE = "所属の認証基盤に接続できませんでした。しばらくしてからもう一度お試しください。";
const REFUSED = "所属の認証基盤でのログインを受け付けられませんでした。このサービスの利用者として登録されていないか、利用が停止されています。所属管理者にお問い合わせください。";
const TOO_MANY = (retryAt: Date) =>
  `この接続元から所属の認証基盤でのログインが短時間に多数始められたため、一時的に受け付けていません。${formatEraDateTime(retryAt)}以降にもう一度お試しください。`;
const NOT_FINISHED = "所属の認証基盤でのログインを完了できませんでした。最初からもう一度お試しください。";

/** POST /login/sso and its callback; createApp mounts them. `secure`: the cookie's Secure flag and __Host- name. */
export function createSsoHandlers({ sso, signIn, clock, logger, secure }: { sso: SsoService; signIn: SignIn; clock: Clock; logger: Logger; secure: boolean }) {
  // The pending sign-in's handle. SameSite=Lax, unlike the session cookie: the provider's redirect
  // back is a cross-site navigation, on which a Strict cookie is not sent.
  const pendingCookie = secure ? "__Host-kakunin-sso" : "kakunin-sso";
  const cookieOptions: CookieOptions = { httpOnly: true, secure, sameSite: "lax", path: "/" };

  const loginPage = (res: Response, status: number, error: string, fields: { login?: string } = {}) =>
    res.status(status).render("auth/login", { title: "ログイン", error, ssoLogin: fields.login, ssoOrderers: sso.choices() });

  /** GET|POST /login (before the auth handlers): the orderers offering sign-in through their provider. */
  const offerChoices: RequestHandler = (_req, res, next) => {
    res.locals.ssoOrderers = sso.choices();
    next();
  };

  /**
   * POST /login/sso: by orderer (`orderer`) or by the domain of the login id typed (`login`),
   * never by looking the account up; a small page continuing to the provider, with the pending
   * sign-in's cookie, or the login form again with why not.
   */
  const begin: RequestHandler = async (req, res) => {
    const form = readForm(req, SSO_FIELDS);
    if (form.orderer === "" && form.login.trim() === "") {
      return loginPage(res, 400, "ログインID(メールアドレス)を入力するか、所属を選んでください。");
    }
    const code = form.orderer !== "" ? form.orderer : sso.ordererCodeForLogin(form.login);
    const started = code === undefined ? undefined : await sso.begin(code, clientAddress(req));
    if (!started || (!started.ok && started.reason === "no-provider")) return loginPage(res, 400, NOT_OFFERED, form);
    if (!started.ok && started.reason === "throttled") {
      logger.warn({ evt: "sso_start_throttled", orderer: code, requestId: res.locals.requestId }, "sso sign-in start throttled");
      res.set("Retry-After", String(started.retryAfterSeconds));
      return loginPage(res, 429, TOO_MANY(new Date(clock.now().getTime() + started.retryAfterSeconds * 1000)), form);
    }
    if (!started.ok) {
      logger.warn({ evt: "sso_start_failed", reason: started.reason, orderer: code, requestId: res.locals.requestId }, "sso sign-in not started");
      return loginPage(res, 503, UNREACHABLE, form);
    }
    res.cookie(pendingCookie, started.handle, { ...cookieOptions, maxAge: PENDING_LIFETIME_MS });
    // Not a 303: the CSP's form-action 'self' also governs where a form's answer redirects.
    res.render("auth/sso-continue", { title: "所属の認証基盤へ移動します", message: "所属の認証基盤のログイン画面へ移動します。", continueTo: started.url.href });
  };

  /**
   * GET /login/sso/callback: the provider's answer. Vouched for: the one sign-in decision (the
   * second step at /login/mfa, unless the provider's second factor counts; else logged in), reached
   * by a small page that continues by a same-site navigation (the session cookie, SameSite=Strict,
   * set on this response to a cross-site navigation, is sent from then on). Otherwise the login
   * form with one message.
   */
  const callback: RequestHandler = async (req, res, next) => {
    const handle = cookieValue(req.headers.cookie, pendingCookie);
    res.clearCookie(pendingCookie, cookieOptions);
    const result = await sso.complete(handle !== undefined && handle.length <= 64 ? handle : undefined, queryOf(req), clientAddress(req));
    if (!result.ok) {
      logger.warn({ evt: "authn_sso_fail", reason: result.reason, requestId: res.locals.requestId }, "sso sign-in refused");
      return loginPage(res, result.reason === "no-pending" ? 400 : 401, result.reason === "no-pending" ? NOT_FINISHED : REFUSED);
    }
    signIn.continueAfterFirstFactor(req, res, next, result.officer, {
      secondFactorByIdentityProvider: result.providerMfa,
      goOn: (answer, path) => answer.render("auth/sso-continue", { title: "ログインしました", message: "所属の認証基盤で本人確認ができました。", continueTo: path }),
    });
  };

  return { offerChoices, begin, callback };
}

/** The callback's query string as sent (openid-client reads code, state, iss and error from it). */
function queryOf(req: Request): string {
  const at = req.originalUrl.indexOf("?");
  return at < 0 ? "" : req.originalUrl.slice(at);
}
