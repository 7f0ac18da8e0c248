import express, { type ErrorRequestHandler, type Express, type RequestHandler } from "express";
import session from "express-session";
import { csrfSync } from "csrf-sync";
import helmet from "helmet";
import { createAuthRoutes } from "./auth/auth.routes.js";
import { noStore, requireLogin, requirePasswordChanged } from "./auth/guards.js";
import { createLoginService } from "./auth/login.service.js";
import { createPassport } from "./auth/passport.js";
import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import type { Db } from "./db/database.js";
import { createGuaranteeRoutes } from "./guarantees/guarantees.routes.js";
import { acceptFormBodies } from "./http/form-body.js";
import { BadFormError } from "./http/forms.js";
import { createRequestLog } from "./http/request-log.js";
import { createViewEngine } from "./http/views.js";
import { requireSameOrigin } from "./http/same-origin.js";
import type { Logger } from "./logger.js";
import { createOrdererRoutes } from "./orderers/orderers.routes.js";
import { publicDir, viewsDir } from "./paths.js";
import { limitArgon2 } from "./security/argon2-limiter.js";
import type { Hasher } from "./security/hasher.js";
import type { Services } from "./services.js";
import { limitNewSessions } from "./sessions/new-session-limit.js";
import { SqliteSessionStore } from "./sessions/session-store.js";
import { createSessionRepository } from "./sessions/session.repository.js";
import { createSqliteThrottle } from "./verification/sqlite-throttle.js";
import { createVerificationRoutes } from "./verification/verification.routes.js";
import { createVerificationService } from "./verification/verification.service.js";

export type AppDeps = {
  config: Config;
  db: Db;
  services: Services;
  hasher: Hasher;
  clock: Clock;
  logger: Logger;
};

export type KakuninApp = Express & { close(): void };

const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    objectSrc: ["'none'"],
  },
};

/**
 * Builds the web app from explicit dependencies; it reads the templates, opens nothing else and
 * does not listen. Every limit comes from config.limits (tests and the scan raise them through
 * loadConfig's overrides).
 *
 * Order for a POST, cheapest refusal first: helmet headers -> body size, type, charset, bytes and
 * fields (413/415/400) -> session -> Origin/Sec-Fetch-Site and CSRF token (403) -> the form's
 * fields (400) -> login (303) -> throttle (429) -> argon2, capped (503) -> audit.
 */
export function createApp(deps: AppDeps): KakuninApp {
  const { config, db, services, clock, logger } = deps;
  const { limits } = config;
  // The one hasher of the web app's argon2 work: at most limits.argon2.concurrency at once.
  const hasher = limitArgon2(deps.hasher, limits.argon2);
  const app = express() as unknown as KakuninApp;
  const production = config.nodeEnv === "production";

  app.disable("x-powered-by");
  // Every page is no-store and carries per-request content (確認日時, the CSRF token), so an ETag
  // could never match; computing one would hash every page's HTML. Static files keep theirs.
  app.set("etag", false);
  app.set("trust proxy", config.trustProxy);
  app.engine("hbs", createViewEngine(viewsDir));
  app.set("view engine", "hbs");
  app.set("views", viewsDir);
  // Express keeps each view's resolved file (no lookup per render), whatever NODE_ENV says; the
  // engine compiled the templates at start-up.
  app.enable("view cache");

  app.use(helmet({ contentSecurityPolicy: CONTENT_SECURITY_POLICY, xFrameOptions: { action: "deny" } }));
  // One log line per request, and the request id (res.locals.requestId) the error page shows.
  app.use(createRequestLog(logger));
  app.use("/static", express.static(publicDir, { index: false, fallthrough: false, maxAge: production ? "1h" : 0 }));

  // Browsers ask for /favicon.ico on their own (for a PDF, say): answered here, before any session,
  // so that it can neither start one nor re-send a session cookie the page has just replaced.
  app.get("/favicon.ico", (_req, res) => res.redirect(301, "/static/favicon.svg"));

  app.get("/healthz", noStore, (_req, res) => {
    db.prepare("SELECT 1").get();
    res.type("text/plain").send("ok");
  });

  app.use(acceptFormBodies(limits.form));

  const sessions = createSessionRepository(db);
  const store = new SqliteSessionStore(sessions, clock, limits.session);
  app.use(session({
    name: config.cookieSecure ? "__Host-kakunin" : "kakunin",
    secret: config.sessionSecret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    cookie: { httpOnly: true, sameSite: "strict", secure: config.cookieSecure, path: "/", maxAge: limits.session.idleMs },
  }));

  const login = createLoginService({ db, clock, officers: services.officers, hasher, audit: services.audit, limits });
  const passport = createPassport({ officers: services.officers, login });
  app.use(passport.initialize());
  app.use(passport.session());

  const csrf = csrfSync({ getTokenFromRequest: (req) => (typeof req.body?._csrf === "string" ? req.body._csrf : undefined), size: 32 });
  app.use(requireSameOrigin, csrf.csrfSynchronisedProtection);
  const exposeCsrfToken: RequestHandler = (req, res, next) => {
    res.locals.csrfToken = csrf.generateToken(req);
    res.locals.officer = req.user ? { displayName: req.user.displayName, ordererName: req.user.ordererName } : undefined;
    next();
  };

  app.use(createOrdererRoutes({ orderers: services.orderers }));
  app.get("/", (req, res) => res.redirect(303, req.user ? "/verify" : "/login"));
  // An officer's pages, error pages included, show who is logged in and a logout form. Of the
  // anonymous requests only the forms get a token: anything else (a browser's /favicon.ico, say)
  // must not start a session, or its Set-Cookie could replace the one a login form's token is in.
  // A form's new session counts against its address (DOS-04).
  const newSessionLimit = limitNewSessions(sessions, clock, limits.newSessions);
  app.use((req, res, next) => {
    if (req.user) return exposeCsrfToken(req, res, next);
    if (!FORM_PATHS.has(req.path)) return next();
    newSessionLimit(req, res, (error?: unknown) => (error ? next(error) : exposeCsrfToken(req, res, next)));
  });
  app.use(createAuthRoutes({ passport, clock, login, limits, logger }));

  const verification = createVerificationService({ db, clock, hasher, audit: services.audit, throttle: createSqliteThrottle(db, clock, limits) });
  const officerOnly = [noStore, requireLogin(clock, limits.session), requirePasswordChanged];
  app.use(createVerificationRoutes({ verification, clock, logger, officerOnly }));
  app.use(officerOnly, createGuaranteeRoutes({ db, clock, services }));

  app.use((_req, res) => {
    res.status(404).render("errors/error", { title: "ページが見つかりません", heading: "ページが見つかりません", status: 404 });
  });
  const handleError: ErrorRequestHandler = (error, req, res, _next) => {
    const status = errorStatus(error);
    if (status >= 500) logger.error({ err: error, requestId: res.locals.requestId, path: req.path }, "request failed");
    else logger.warn({ status, code: (error as { code?: string }).code, requestId: res.locals.requestId, path: req.path }, "request refused");
    if (res.headersSent) return;
    res.set("Cache-Control", "no-store");
    const retryAfter = (error as { retryAfterSeconds?: unknown })?.retryAfterSeconds;
    if (typeof retryAfter === "number") res.set("Retry-After", String(retryAfter));
    res.status(status).render("errors/error", {
      title: "エラー",
      status,
      heading: ERROR_HEADINGS[status] ?? (status >= 500 ? ERROR_HEADINGS[500] : ERROR_HEADINGS[400]),
      requestId: status >= 500 ? res.locals.requestId : undefined,
      // The stack only in development: never in production, and never in tests or the scan.
      detail: config.nodeEnv === "development" && status >= 500 ? String((error as Error)?.stack ?? error) : undefined,
    });
  };
  app.use(handleError);

  app.close = () => store.close();
  return app;
}

/** The anonymous pages that hold a form, and so a CSRF token (in a session of their own). */
const FORM_PATHS = new Set(["/login", "/password", "/logout"]);

const ERROR_HEADINGS: Record<number, string> = {
  400: "入力内容を受け付けられませんでした",
  403: "この操作は受け付けられませんでした。画面を再読み込みしてからもう一度お試しください",
  404: "ページが見つかりません",
  413: "送信された内容が大きすぎます",
  415: "この形式の送信は受け付けられません",
  429: "しばらく時間をおいてからもう一度お試しください",
  500: "システムエラーが発生しました",
  503: "ただいま混み合っています。しばらくしてからもう一度お試しください",
};

function errorStatus(error: unknown): number {
  if (error instanceof BadFormError) return 400;
  const status = (error as { status?: unknown; statusCode?: unknown })?.status ?? (error as { statusCode?: unknown })?.statusCode;
  return typeof status === "number" && status >= 400 && status < 600 ? status : 500;
}
