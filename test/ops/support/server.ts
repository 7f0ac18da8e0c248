import request from "supertest";
import { csrfTokenOf } from "../../support/web.js";
import { spawnTs, type Child } from "./processes.js";

export type ServerChild = Child & { url: string };

/** A session secret for the child servers (≥ 32 bytes, as production requires). */
export const TEST_SESSION_SECRET = "ops-tests-session-secret-0123456789abcdef";

/**
 * The real entry point, `node --import tsx src/start.cts`, on a free port (PORT=0) over `databasePath`
 * in production mode, with a non-Secure cookie because the tests speak plain HTTP (in production the
 * TLS proxy is in front). argon2 stays at the production parameters: the config refuses less.
 */
export async function startServer(databasePath: string, env: NodeJS.ProcessEnv = {}): Promise<ServerChild> {
  const child = spawnTs("src/start.cts", [], {
    NODE_ENV: "production", SESSION_SECRET: TEST_SESSION_SECRET, COOKIE_SECURE: "false",
    PORT: "0", HOST: "127.0.0.1", DATABASE_PATH: databasePath, ...env,
  });
  const match = await child.waitFor(/listening on (http:\/\/\S+)/, { timeoutMs: 20_000 });
  return Object.assign(child, { url: match[1]! });
}

export type Agent = ReturnType<typeof request.agent>;

/** Logs in over HTTP and returns the agent (it keeps the cookie) and its pages' CSRF token. */
export async function loginOver(url: string, login: string, password: string): Promise<{ agent: Agent; token: string }> {
  const agent = request.agent(url);
  const form = await agent.get("/login");
  const res = await agent.post("/login").type("form").send({ _csrf: csrfTokenOf(form.text), username: login, password });
  if (res.status !== 303) throw new Error(`login failed: ${res.status}`);
  const page = await agent.get("/verify");
  return { agent, token: csrfTokenOf(page.text) };
}

/** The server's stdout as parsed JSON log lines (the plain "listening on" line left out). */
export function jsonLines(child: Child): Record<string, unknown>[] {
  return child.stdout().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
}
