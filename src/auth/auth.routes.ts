import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { Clock } from "../clock.js";
import { formatEraDateTime } from "../format/era-date.js";
import { clientAddress } from "../http/client-address.js";
import { readForm } from "../http/forms.js";
import type { Logger } from "../logger.js";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "../officers/password-policy.js";
import type { SessionService } from "../sessions/session.service.js";
import type { DeviceCookies } from "./device-cookie.js";
import type { LoginResult, LoginService, Throttled } from "./login.service.js";
import type { createPassport } from "./passport.js";
import type { SignIn } from "./sign-in.js";

const LOGIN_FAILED = "ログインIDまたはパスワードが正しくありません。";
const LOGIN_FIELDS = { username: 64, password: PASSWORD_MAX_LENGTH * 4 };
const PASSWORD_FIELDS = { currentPassword: PASSWORD_MAX_LENGTH * 4, newPassword: PASSWORD_MAX_LENGTH * 4, confirmPassword: PASSWORD_MAX_LENGTH * 4 };

type Deps = {
  passport: ReturnType<typeof createPassport>; clock: Clock; login: LoginService; sessions: SessionService;
  deviceCookies: DeviceCookies; sessionCookie: { name: string; secure: boolean }; logger: Logger; signIn: SignIn;
};

/** The Japanese message for a throttled login: when to retry, or whom to ask when locked. */
export function loginThrottledMessage(throttled: Throttled, now: Date): string {
  if (throttled.locked) {
    return "ログインの失敗が続いたため、このログインIDでのログインを停止しています。発行会社の担当窓口に解除をご依頼ください。";
  }
  const retryAt = new Date(now.getTime() + throttled.retryAfterSeconds * 1000);
  return `ログインの失敗が続いたため、このログインIDでのログインを一時的に停止しています。${formatEraDateTime(retryAt)}以降にもう一度お試しください。`;
}

/** The handlers of login, logout and the password change; createApp mounts them with their guards. */
export function createAuthHandlers({ passport, clock, login, sessions, deviceCookies, sessionCookie, logger, signIn }: Deps) {
  /** GET /login: the login form (or on to /verify when already logged in). */
  const loginForm: RequestHandler = (req, res) => {
    if (req.user) return res.redirect(303, "/verify");
    res.render("auth/login", {
      title: "ログイン",
      expired: req.query.expired === "1" ? "一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。" : undefined,
      loggedOut: req.query.bye === "1",
      again: req.query.again === "1" ? "確認コードの入力期限（5分）が過ぎました。もう一度ログインしてください。" : undefined,
    });
  };

  /**
   * POST /login: 303 to /login/mfa when the officer has a second factor, else to /password or
   * /verify with a new session (see createSignIn); otherwise the form again with
   * the one message and 401 for every failure (unknown, wrong, disabled), or 429 with
   * Retry-After while the submitted username or the client address is throttled.
   */
  const logIn = (req: Request, res: Response, next: NextFunction) => {
    const form = readForm(req, LOGIN_FIELDS);
    const answer = (result: LoginResult) => {
      if (!result.ok && result.reason === "throttled") {
        logger.warn({ evt: "authn_login_throttled", requestId: res.locals.requestId, locked: result.locked }, "login throttled");
        res.set("Retry-After", String(result.retryAfterSeconds));
        return res.status(429).render("auth/login", { title: "ログイン", error: loginThrottledMessage(result, clock.now()), username: form.username });
      }
      if (!result.ok) return res.status(401).render("auth/login", { title: "ログイン", error: LOGIN_FAILED, username: form.username });
      signIn.continueAfterFirstFactor(req, res, next, result.officer, { secondFactorByIdentityProvider: false });
    };
    // passport-local answers an empty field before its verify function runs (and would then read
    // the query string). An empty field goes straight to the login service instead, so that it
    // costs the same argon2 verification and gets the same answer as any other failure.
    if (form.username === "" || form.password === "") {
      login.authenticate({ username: form.username, password: form.password, clientAddress: clientAddress(req), device: deviceCookies.fromRequest(req) }).then(answer, next);
      return;
    }
    passport.authenticate("local", { session: false }, (error: unknown, _officer: unknown, result: LoginResult) => {
      if (error) return next(error);
      answer(result);
    })(req, res, next);
  };

  /**
   * POST /logout: ends the session on the server (audited), then tells the browser to forget the
   * session cookie and the site's cache and storage. The session ends as a marker *before*
   * passport's logOut saves it without the officer: a request still in flight cannot write it back.
   * Not Clear-Site-Data "cookies": the device cookie stays, so that the officer's next login from
   * this browser is not the stranger's to block.
   */
  const logOut: RequestHandler = (req, res, next) => {
    readForm(req, {});
    if (req.user) sessions.logOut(req.sessionID, req.user, clientAddress(req));
    req.logOut((error) => {
      if (error) return next(error);
      req.session.destroy((destroyError) => {
        if (destroyError) return next(destroyError);
        res.clearCookie(sessionCookie.name, { path: "/", httpOnly: true, sameSite: "strict", secure: sessionCookie.secure });
        res.set("Clear-Site-Data", '"cache", "storage"');
        res.redirect(303, "/login?bye=1");
      });
    });
  };

  const passwordPage = (res: Response, status: number, error?: string) =>
    res.status(status).render("auth/password", {
      title: "パスワードの変更",
      forced: res.req.user?.mustChangePassword ?? false,
      minLength: PASSWORD_MIN_LENGTH,
      error,
    });

  /** GET /password: change one's password (forced after a CLI-generated one-time password). */
  const passwordForm: RequestHandler = (_req, res) => passwordPage(res, 200);

  /** POST /password: the current password (one throttled argon2 verification), the policy, then a
   * new hash; the officer's other sessions end. 303 to /verify, or the form again with the reason. */
  const changePassword: RequestHandler = async (req, res) => {
    const form = readForm(req, PASSWORD_FIELDS);
    const changed = await login.changePassword(req.user!, form, { sessionId: req.sessionID, clientAddress: clientAddress(req), device: deviceCookies.fromRequest(req) });
    if (!changed.ok) {
      switch (changed.reason) {
        case "throttled":
          res.set("Retry-After", String(changed.retryAfterSeconds));
          return passwordPage(res, 429, loginThrottledMessage(changed, clock.now()));
        case "wrong-password":
          return passwordPage(res, 400, "現在のパスワードが正しくありません。");
        case "mismatch":
          return passwordPage(res, 400, "新しいパスワードと確認用のパスワードが一致しません。");
        case "unchanged":
          return passwordPage(res, 400, "現在と異なるパスワードを指定してください。");
        case "policy":
          return passwordPage(res, 400, changed.message);
      }
    }
    // The current password was just given: it counts as a recent proof for the step-up.
    req.session.authenticatedAt = clock.now().getTime();
    req.session.flash = "パスワードを変更しました。";
    res.redirect(303, "/verify");
  };

  return { loginForm, logIn, logOut, passwordForm, changePassword };
}
