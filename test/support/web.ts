import request from "supertest";
import { createApp, type KakuninApp } from "../../src/app.js";
import { loadConfig, type Config, type LimitOverrides } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { notificationSettings } from "../../src/notifications/mail.service.js";
import { createSmtpTransport } from "../../src/notifications/mailer.js";
import { buildWorld, TEST_SESSION_SECRET, type World } from "./world.js";

export type WebWorld = World & { app: KakuninApp; config: Config; logs: string[] };

/** A fresh database and an app over it, with a captured JSON log. The production limits apply
 * unless `limits` raises (or lowers) some of them. */
export async function buildTestApp(options: { env?: NodeJS.ProcessEnv; limits?: LimitOverrides } = {}): Promise<WebWorld> {
  const config = loadConfig({ NODE_ENV: "test", SESSION_SECRET: TEST_SESSION_SECRET, ...options.env }, { limits: options.limits });
  // PUBLIC_BASE_URL given: the services link (and send identity providers back) there; SMTP_URL
  // given (a test's loopback relay): invitations are mailed to it.
  const transport = config.mail.smtpUrl === null ? undefined : createSmtpTransport(config.mail.smtpUrl);
  const notifications = options.env?.PUBLIC_BASE_URL || transport ? { notifications: notificationSettings(config.mail) } : {};
  const world = await buildWorld({
    limits: config.limits, sessionSecret: config.sessionSecrets[0]!, ...notifications,
    ...(transport ? { smtp: { transport, from: config.mail.from } } : {}),
  });
  const logs: string[] = [];
  const logger = createLogger({ level: "info", destination: { write: (line: string) => void logs.push(line) } });
  const app = createApp({ config, services: world.services, clock: world.clock, logger });
  const close = world.close;
  return { ...world, app, config, logs, close: () => { app.close(); transport?.close(); close(); } };
}

/** The hidden _csrf value of the last form on a page. */
export function csrfTokenOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error("no CSRF token on the page");
  return match[1]!;
}

/** A logged-in agent: GET /login for the token, POST /login, and follow to the landing page. */
export async function loginAs(app: KakuninApp, username: string, password: string) {
  const agent = request.agent(app);
  const form = await agent.get("/login");
  const res = await agent.post("/login").type("form").send({ _csrf: csrfTokenOf(form.text), username, password });
  if (res.status !== 303) throw new Error(`login failed: ${res.status}`);
  return agent;
}

/** POSTs a form with the CSRF token read from `page` first. */
export async function postForm(agent: ReturnType<typeof request.agent>, page: string, action: string, fields: Record<string, string>) {
  const form = await agent.get(page);
  return agent.post(action).type("form").send({ _csrf: csrfTokenOf(form.text), ...fields });
}
