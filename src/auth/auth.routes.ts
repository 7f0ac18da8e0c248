import { Router, type NextFunction, type Request, type Response } from "express";
import type { createPassport } from "./passport.js";
import type { Clock } from "../clock.js";
import { readForm } from "../http/forms.js";
import type { OfficerService } from "../officers/officer.service.js";
import { normalizePassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "../officers/password-policy.js";
import type { Hasher } from "../security/hasher.js";
import { noStore, requireLogin } from "./guards.js";

const LOGIN_FAILED = "ログインIDまたはパスワードが正しくありません。";

type Deps = { passport: ReturnType<typeof createPassport>; clock: Clock; officers: OfficerService; hasher: Hasher };

export function createAuthRoutes({ passport, clock, officers, hasher }: Deps): Router {
  const router = Router();

  /** GET /login: the login form (or on to /verify when already logged in). */
  router.get("/login", noStore, (req, res) => {
    if (req.user) return res.redirect(303, "/verify");
    res.render("auth/login", {
      title: "ログイン",
      expired: req.query.expired === "1" ? "一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。" : undefined,
      loggedOut: req.query.bye === "1",
    });
  });

  /** POST /login: one message for every failure; on success a new session, then /password or /verify. */
  router.post("/login", noStore, (req: Request, res: Response, next: NextFunction) => {
    const form = readForm(req, { username: 64, password: PASSWORD_MAX_LENGTH * 4 });
    req.body = form;
    passport.authenticate("local", (error: unknown, officer: Express.User | false) => {
      if (error) return next(error);
      if (!officer) {
        return res.status(401).render("auth/login", { title: "ログイン", error: LOGIN_FAILED, username: form.username });
      }
      // passport regenerates the session here, so the pre-login id and CSRF token are dropped.
      req.logIn(officer, (loginError) => {
        if (loginError) return next(loginError);
        const now = clock.now().getTime();
        req.session.loginAt = now;
        req.session.lastSeenAt = now;
        res.redirect(303, officer.mustChangePassword ? "/password" : "/verify");
      });
    })(req, res, next);
  });

  /** POST /logout: ends the session on the server and tells the browser to forget the site's data. */
  router.post("/logout", noStore, (req, res, next) => {
    req.logOut((error) => {
      if (error) return next(error);
      req.session.destroy((destroyError) => {
        if (destroyError) return next(destroyError);
        res.set("Clear-Site-Data", '"cache", "cookies", "storage"');
        res.redirect(303, "/login?bye=1");
      });
    });
  });

  const passwordPage = (res: Response, status: number, error?: string) =>
    res.status(status).render("auth/password", {
      title: "パスワードの変更",
      forced: res.req.user?.mustChangePassword ?? false,
      minLength: PASSWORD_MIN_LENGTH,
      error,
    });

  /** GET /password: change one's password (forced after a CLI-generated one-time password). */
  router.get("/password", noStore, requireLogin(clock), (_req, res) => passwordPage(res, 200));

  /** POST /password: checks the current password (one argon2 verify), the policy, then re-hashes. */
  router.post("/password", noStore, requireLogin(clock), async (req, res) => {
    const form = readForm(req, { currentPassword: PASSWORD_MAX_LENGTH * 4, newPassword: PASSWORD_MAX_LENGTH * 4, confirmPassword: PASSWORD_MAX_LENGTH * 4 });
    const officer = req.user!;
    if (!(await hasher.verify(officer.passwordHash, normalizePassword(form.currentPassword)))) {
      return passwordPage(res, 400, "現在のパスワードが正しくありません。");
    }
    if (form.newPassword !== form.confirmPassword) return passwordPage(res, 400, "新しいパスワードと確認用のパスワードが一致しません。");
    if (normalizePassword(form.newPassword) === normalizePassword(form.currentPassword)) {
      return passwordPage(res, 400, "現在と異なるパスワードを指定してください。");
    }
    const changed = await officers.changeOwnPassword(officer, form.newPassword);
    if (!changed.ok) return passwordPage(res, 400, changed.problems[0]!.message);
    req.session.flash = "パスワードを変更しました。";
    res.redirect(303, "/verify");
  });

  return router;
}
