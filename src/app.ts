import express, { type ErrorRequestHandler, type Express, type RequestHandler } from "express";
import session from "express-session";
import { csrfSync } from "csrf-sync";
import helmet from "helmet";
import { createApiHandlers } from "./api/api.routes.js";
import { requireBearer } from "./api/bearer.js";
import { readApiDocument, translateValidationErrors, validateAgainst } from "./api/openapi.js";
import { createAuthHandlers } from "./auth/auth.routes.js";
import { createDeviceCookies } from "./auth/device-cookie.js";
import { createAuditHandlers } from "./audit/audit.routes.js";
import { noStore, requireAdministrator, requireLogin, requirePasswordChanged, requireRecentAuthentication, requireRecentAuthenticationWhenEnrolled, requireSecondFactor } from "./auth/guards.js";
import { createPassport } from "./auth/passport.js";
import { createSecondStepHandlers } from "./auth/second-step.routes.js";
import { createSignIn } from "./auth/sign-in.js";
import type { Clock } from "./clock.js";
import { SSO_CALLBACK_PATH, type Services } from "./composition.js";
import type { Config } from "./config.js";
import { createContractHandlers, LEDGER_FIELD, LEDGER_IMPORT_PATH } from "./contracts/contracts.routes.js";
import { toRelyingContractViews } from "./contracts/contract.presenter.js";
import { createHoldingHandlers } from "./holdings/holdings.routes.js";
import { clientAddress } from "./http/client-address.js";
import { acceptFormBodies } from "./http/form-body.js";
import { readUpload } from "./http/multipart-body.js";
import { HttpError, toHttpError } from "./http/http-error.js";
import { createRequestLog, loggablePath } from "./http/request-log.js";
import { sendProblem } from "./http/problem.js";
import { requireSameOrigin } from "./http/same-origin.js";
import { createViewEngine } from "./http/views.js";
import type { Logger } from "./logger.js";
import { unreadBadge } from "./notifications/notification.presenter.js";
import type { UnreadCount } from "./notifications/notification.service.js";
import { createMfaHandlers } from "./mfa/mfa.routes.js";
import { createNotificationHandlers } from "./notifications/notifications.routes.js";
import { createInvitationHandlers } from "./officers/invitations.routes.js";
import { createOfficerAdministrationHandlers } from "./officers/officers.routes.js";
import { createOrdererHandlers } from "./orderers/orderers.routes.js";
import { publicDir, viewsDir } from "./paths.js";
import { Argon2BusyError } from "./security/argon2-limiter.js";
import { createSsoHandlers } from "./sso/sso.routes.js";
import { createVerificationHandlers } from "./verification/verification.routes.js";

export type AppDeps = {
  config: Config;
  services: Services;
  clock: Clock;
  logger: Logger;
};

/** The app, and what the server tells it: shutdown has begun (so /healthz answers 503), and close. */
export type KakuninApp = Express & { beginShutdown(): void; close(): void };

declare module "express-session" {
  interface SessionData {
    /** The header's unread count and the read state it was counted at (headerUnreadCount). */
    unread?: UnreadCount;
  }
}

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
 * does not listen. This function is the route table: the middleware every request passes, then
 * each path with its guards and its handler.
 *
 * Order for a POST, cheapest refusal first: helmet headers -> body size, type, charset, bytes and
 * fields (413/415/400) -> session -> Origin/Sec-Fetch-Site and CSRF token (403) -> the form's
 * fields (400) -> login (303) -> throttle (429) -> argon2, capped (503) -> audit.
 */
export function createApp(deps: AppDeps): KakuninApp {
  const { config, services, clock, logger } = deps;
  const { limits } = config;
  const app = express() as unknown as KakuninApp;
  const production = config.nodeEnv === "production";
  let shuttingDown = false;

  app.disable("x-powered-by");
  // Every page is no-store and carries per-request content (確認日時, the CSRF token), so an ETag
  // could never match. Static files keep theirs.
  app.set("etag", false);
  app.set("trust proxy", config.trustProxy);
  app.engine("hbs", createViewEngine(viewsDir));
  app.set("view engine", "hbs");
  app.set("views", viewsDir);
  // Express keeps each view's resolved file, whatever NODE_ENV says; the engine compiled the
  // templates at start-up.
  app.enable("view cache");

  app.use(helmet({ contentSecurityPolicy: CONTENT_SECURITY_POLICY, xFrameOptions: { action: "deny" } }));
  // One log line per request, and the request id (res.locals.requestId) the error page shows.
  app.use(createRequestLog(logger));
  app.use("/static", express.static(publicDir, { index: false, fallthrough: false, maxAge: production ? "1h" : 0 }));

  // Browsers ask for /favicon.ico on their own (for a PDF, say): answered here, before any session,
  // so that it can neither start one nor re-send a session cookie the page has just replaced.
  app.get("/favicon.ico", (_req, res) => res.redirect(301, "/static/favicon.svg"));

  /** GET /healthz: "ok" while the database answers; 503 once shutdown has begun, so a balancer stops sending. */
  app.get("/healthz", noStore, (_req, res) => {
    if (shuttingDown) throw new HttpError(503, "shutting-down", { retryAfterSeconds: 5 });
    services.health.ping();
    res.type("text/plain").send("ok");
  });

  // The API (docs/openapi.yaml): bearer tokens, JSON bodies, problem documents. Mounted before the
  // form bodies, the session and CSRF, so it starts no session, sets no cookie and needs no CSRF
  // token; it sends no CORS headers (the orderer's systems call it server to server). Order for a
  // call: bearer (401) -> JSON body (400/413/415) -> the document's checks (400) -> the handler.
  const apiDocument = readApiDocument();
  const validated = validateAgainst(apiDocument, { validateResponses: config.nodeEnv === "test" });
  const bearer = [noStore, requireBearer(services.api)];
  const json = express.json({ limit: API_BODY_LIMIT, type: "application/json", strict: true });
  const api = createApiHandlers({ api: services.api, contracts: services.contracts, clock, logger, document: apiDocument });
  app.post("/api/v1/token", noStore, acceptFormBodies(limits.form), api.token, api.tokenBodyRefused);
  app.get("/api/v1/openapi.json", api.openapi);
  app.post("/api/v1/verifications", bearer, json, validated, api.verify);
  app.get("/api/v1/guarantees", bearer, validated, api.guarantees);
  app.get("/api/v1/guarantees/:contractNumber", bearer, validated, api.guarantee);
  app.get("/api/v1/guarantees/:contractNumber/versions/:sequence", bearer, validated, api.version);
  app.get("/api/v1/events", bearer, validated, api.eventList);
  app.get("/api/v1/contracts", bearer, validated, api.contractList);
  app.get("/api/v1/contracts/:reference", bearer, validated, api.contract);
  app.put("/api/v1/contracts/:reference", bearer, json, validated, api.putContract);
  app.get("/api/v1/contracts/:reference/checks", bearer, validated, api.contractChecks);
  app.use("/api", (_req, _res, next) => next(new HttpError(404, "not-found", { detail: "No such API resource." })));
  app.use("/api", translateValidationErrors, createErrorHandler({ logger, showStack: false, problems: true }));

  // The ledger import carries a file: its multipart body is read on its route, below. The contract
  // form (POST /contracts, POST /contracts/:reference) is longer than the others.
  app.use(acceptFormBodies(limits.form, { uploadPaths: [LEDGER_IMPORT_PATH], larger: { paths: CONTRACT_FORM_PATHS, limits: limits.contractForm } }));

  const store = services.createSessionStore();
  const sessionCookie = { name: config.cookieSecure ? "__Host-kakunin" : "kakunin", secure: config.cookieSecure };
  app.use(session({
    name: sessionCookie.name,
    // The first signs, every one verifies: SESSION_SECRET="new,old" rotates without logging anyone out.
    secret: [...config.sessionSecrets],
    store,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    cookie: { httpOnly: true, sameSite: "strict", secure: config.cookieSecure, path: "/", maxAge: limits.session.idleMs },
  }));

  const deviceCookies = createDeviceCookies({ secrets: config.sessionSecrets, secure: config.cookieSecure });
  const passport = createPassport({ officers: services.officers, login: services.login, deviceCookies });
  app.use(passport.initialize());
  app.use(passport.session());

  // The guards, built once: a logged-in officer; one who has also replaced a one-time password (and
  // may enrol a second factor); one who also has the second factor their orderer or role requires;
  // and the step-up, for actions that need a password or code given in the last five minutes.
  const loggedIn = [noStore, requireLogin(clock, limits.session, (req, reason) => services.sessions.expire(req.sessionID, req.user!, reason, clientAddress(req)))];
  const passwordChanged = [...loggedIn, requirePasswordChanged];
  const officerOnly = [...passwordChanged, requireSecondFactor];
  const recentlyAuthenticated = requireRecentAuthentication(clock);
  const recentlyAuthenticatedWhenEnrolled = requireRecentAuthenticationWhenEnrolled(clock);
  // Every /admin route goes through this one list: an orderer's administrators only (anyone else:
  // the 404), with a second factor enrolled (requireSecondFactor sends them to /account/mfa first).
  const administratorOnly = [...officerOnly, requireAdministrator];
  const administratorStepUp = requireRecentAuthentication(clock, () => "/admin/officers");

  // A file upload is read only for an officer and from this site (so a stranger cannot make the
  // service read megabytes), and before the CSRF check, which finds its token among the fields.
  app.post(LEDGER_IMPORT_PATH, officerOnly, requireSameOrigin, readUpload({ fileField: LEDGER_FIELD, fields: ["_csrf"], limits: limits.upload }));

  const csrf = csrfSync({ getTokenFromRequest: (req) => (typeof req.body?._csrf === "string" ? req.body._csrf : undefined), size: 32 });
  app.use(requireSameOrigin, csrf.csrfSynchronisedProtection);
  // A refused cross-site POST or CSRF token is audited when a logged-in officer's session sent it
  // (grouped: a burst costs one disk sync); an anonymous one is only logged by the error handler,
  // so that nobody can turn a flood of forged requests into a flood of audit rows and syncs.
  app.use(async (error: unknown, req: express.Request, _res: express.Response, next: express.NextFunction) => {
    const refused = toHttpError(error);
    if (req.user && refused.status === 403 && (refused.code === "ebadcsrftoken" || refused.code === "cross-site")) {
      await services.sessions.recordCsrfRefusal(req.user, refused.code === "cross-site" ? "cross-site" : "bad-token", clientAddress(req), loggablePath(req.path));
    }
    next(error);
  });
  const exposeCsrfToken: RequestHandler = (req, res, next) => {
    res.locals.csrfToken = csrf.generateToken(req);
    if (req.user) {
      // The header's unread count, kept in the session and recounted only when it can have changed.
      const unread = services.notifications.headerUnreadCount(req.user, req.session.unread);
      if (unread !== req.session.unread) req.session.unread = unread;
      res.locals.officer = {
        displayName: req.user.displayName, ordererName: req.user.ordererName, unreadNotices: unreadBadge(unread.count), administrator: req.user.role === "admin",
      };
    }
    next();
  };
  // An officer's pages, error pages included, show who is logged in and a logout form. Of the
  // anonymous requests only the forms get a token: anything else (a browser's /favicon.ico, say)
  // must not start a session, or its Set-Cookie could replace the one a login form's token is in.
  // A form's new session counts against its address (DOS-04).
  const newSessionLimit = services.createNewSessionLimit();
  app.use((req, res, next) => {
    if (req.user) return exposeCsrfToken(req, res, next);
    if (!FORM_PATHS.has(req.path) && !INVITATION_PATH.test(req.path)) return next();
    newSessionLimit(req, res, (error?: unknown) => (error ? next(error) : exposeCsrfToken(req, res, next)));
  });

  const orderers = createOrdererHandlers({ orderers: services.orderers });
  const signIn = createSignIn({ clock, deviceCookies });
  const auth = createAuthHandlers({ passport, clock, login: services.login, sessions: services.sessions, deviceCookies, sessionCookie, logger, signIn });
  const secondStep = createSecondStepHandlers({ clock, login: services.login, officers: services.officers, deviceCookies, signIn, logger });
  const mfa = createMfaHandlers({ secondFactors: services.secondFactors });
  const verification = createVerificationHandlers({ verification: services.verification, clock, logger });
  const holdings = createHoldingHandlers({
    holdings: services.holdings,
    clock,
    relyingContracts: (ordererId, contractNumber) => toRelyingContractViews(services.contracts.listRelyingOn(ordererId, contractNumber), contractNumber),
  });
  const contracts = createContractHandlers({ contracts: services.contracts, clock });
  const notifications = createNotificationHandlers({ notifications: services.notifications });
  const sso = createSsoHandlers({ sso: services.sso, signIn, clock, logger, secure: config.cookieSecure });
  const officerAdministration = createOfficerAdministrationHandlers({ administration: services.officerAdministration, clock });
  const invitations = createInvitationHandlers({ invitations: services.invitations });
  const auditTrail = createAuditHandlers({ audit: services.audit, findOfficer: services.officers.findByLogin, clock });

  app.get("/", (req, res) => res.redirect(303, req.user ? "/verify" : "/login"));
  app.get("/orderers", orderers.acceptingList);
  app.get("/login", noStore, sso.offerChoices, auth.loginForm);
  app.post("/login", noStore, sso.offerChoices, auth.logIn);
  app.get("/login/mfa", noStore, secondStep.codeForm);
  app.post("/login/mfa", noStore, secondStep.checkCode);
  app.post("/login/sso", noStore, sso.begin);
  app.get(SSO_CALLBACK_PATH, noStore, sso.callback);
  app.post("/logout", noStore, auth.logOut);
  app.get("/password", loggedIn, auth.passwordForm);
  app.post("/password", loggedIn, auth.changePassword);
  app.get("/account/confirm", loggedIn, secondStep.confirmForm);
  app.post("/account/confirm", loggedIn, secondStep.confirm);
  app.get("/account/mfa", passwordChanged, recentlyAuthenticatedWhenEnrolled, mfa.show);
  app.post("/account/mfa", passwordChanged, recentlyAuthenticatedWhenEnrolled, mfa.confirm);
  app.post("/account/mfa/renew", passwordChanged, recentlyAuthenticated, mfa.renew);
  app.post("/account/mfa/recovery-codes", passwordChanged, recentlyAuthenticated, mfa.regenerate);
  app.post("/account/mfa/remove", passwordChanged, recentlyAuthenticated, mfa.remove);
  app.get("/verify", officerOnly, verification.verifyForm);
  // The form is read before the guards: body -> CSRF -> form -> session -> throttle -> argon2.
  app.post("/verify", noStore, verification.readVerifyForm, officerOnly, verification.verify);
  app.get("/verified", officerOnly, holdings.heldList);
  app.get("/guarantees/:contractNumber", officerOnly, holdings.summary);
  app.get("/guarantees/:contractNumber/certificate", officerOnly, holdings.certificate);
  app.get("/guarantees/:contractNumber/versions/:sequence", officerOnly, holdings.versionCertificate);
  app.post("/guarantees/:contractNumber/versions/:sequence/print", officerOnly, holdings.recordPrint);
  app.get("/guarantees/:contractNumber/versions/:sequence/diff", officerOnly, holdings.diff);
  app.get("/contracts", officerOnly, contracts.register);
  app.get("/contracts.csv", officerOnly, contracts.exportLedger);
  app.get("/contracts/new", officerOnly, contracts.newForm);
  app.post("/contracts", officerOnly, contracts.create);
  app.post(LEDGER_IMPORT_PATH, officerOnly, contracts.importLedger);
  app.get("/contracts/:reference", officerOnly, contracts.show);
  app.get("/contracts/:reference/edit", officerOnly, contracts.editForm);
  app.post("/contracts/:reference", officerOnly, contracts.update);
  app.get("/notifications", officerOnly, notifications.list);
  app.post("/notifications/read", officerOnly, notifications.markAllRead);
  app.get("/notifications/:id", officerOnly, notifications.open);
  app.get("/invitations/:token", noStore, invitations.show);
  app.post("/invitations/:token", noStore, invitations.accept);
  app.get("/admin/officers", administratorOnly, officerAdministration.list);
  // Every administrator action asks for the password or a code again after 5 minutes (step-up),
  // and comes back to the list (the action's own form is not replayed).
  app.post("/admin/officers", administratorOnly, administratorStepUp, officerAdministration.add);
  app.post("/admin/officers/:login/disable", administratorOnly, administratorStepUp, officerAdministration.disable);
  app.post("/admin/officers/:login/enable", administratorOnly, administratorStepUp, officerAdministration.enable);
  app.post("/admin/officers/:login/reset-password", administratorOnly, administratorStepUp, officerAdministration.resetPassword);
  app.post("/admin/officers/:login/reset-second-factor", administratorOnly, administratorStepUp, officerAdministration.resetSecondFactor);
  app.post("/admin/officers/:login/sso-unlink", administratorOnly, administratorStepUp, officerAdministration.unlinkProvider);
  app.post("/admin/officers/:login/revoke-sessions", administratorOnly, administratorStepUp, officerAdministration.revokeSessions);
  app.post("/admin/officers/:login/role", administratorOnly, administratorStepUp, officerAdministration.setRole);
  app.post("/admin/officers/:login/invitation", administratorOnly, administratorStepUp, officerAdministration.resendInvitation);
  app.post("/admin/officers/:login/invitation/withdraw", administratorOnly, administratorStepUp, officerAdministration.withdrawInvitation);
  app.get("/admin/audit", administratorOnly, auditTrail.page);

  app.use((_req, res) => {
    res.status(404).render("errors/error", { title: "ページが見つかりません", heading: "ページが見つかりません", status: 404 });
  });
  app.use(createErrorHandler({ logger, showStack: config.nodeEnv === "development" }));

  app.beginShutdown = () => { shuttingDown = true; };
  app.close = () => store.close();
  return app;
}

/**
 * The one error handler: every refusal and failure as an HttpError (see toHttpError), logged,
 * answered with its status, Retry-After where it has one, and the error page (the API's, a
 * problem document); the stack only in
 * development, never in production, tests or the scan.
 */
function createErrorHandler(options: { logger: Logger; showStack: boolean; problems?: boolean }): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const refused = error instanceof Argon2BusyError
      ? new HttpError(503, "argon2-busy", { retryAfterSeconds: error.retryAfterSeconds })
      : toHttpError(error);
    const status = refused.status;
    if (status >= 500 && refused.code !== "argon2-busy" && refused.code !== "shutting-down") {
      options.logger.error({ err: error, code: refused.code, requestId: res.locals.requestId, path: loggablePath(req.path) }, "request failed");
    } else {
      options.logger.warn({ status, code: refused.code, requestId: res.locals.requestId, path: loggablePath(req.path) }, "request refused");
    }
    if (res.headersSent) return;
    // The API answers with problem documents (RFC 9457), never a page.
    if (options.problems) return sendProblem(res, refused);
    res.set("Cache-Control", "no-store");
    if (refused.retryAfterSeconds !== undefined) res.set("Retry-After", String(refused.retryAfterSeconds));
    res.status(status).render("errors/error", {
      title: "エラー",
      status,
      heading: ERROR_HEADINGS[status] ?? (status >= 500 ? ERROR_HEADINGS[500] : ERROR_HEADINGS[400]),
      requestId: status >= 500 ? res.locals.requestId : undefined,
      detail: options.showStack && refused.status === 500 ? String((error as Error)?.stack ?? error) : undefined,
    });
  };
}

/** The contract form's targets, as req.path has them (a reference's own slash arrives as %2F). */
const CONTRACT_FORM_PATHS = /^\/contracts(?:\/[^/]+)?$/;
/** The API's JSON bodies: a contract with ten guarantee numbers is under 2 KiB. */
const API_BODY_LIMIT = "16kb";

/** The anonymous pages that hold a form, and so a CSRF token (in a session of their own). */
const FORM_PATHS = new Set(["/login", "/login/mfa", "/password", "/logout", "/login/sso", SSO_CALLBACK_PATH]);
/** An invited officer's set-password page (a form, anonymous). */
const INVITATION_PATH = /^\/invitations\/[^/]+$/;

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
