import type { Server } from "node:http";
import request from "supertest";
import type { KakuninApp } from "../../src/app.js";
import { csrfTokenOf } from "../support/web.js";

export type Agent = ReturnType<typeof request.agent>;

/** An anonymous agent holding a login page's session and its CSRF token. */
export async function loginForm(target: KakuninApp | Server): Promise<{ agent: Agent; token: string }> {
  const agent = request.agent(target);
  const page = await agent.get("/login");
  return { agent, token: csrfTokenOf(page.text) };
}

export function postLogin(agent: Agent, token: string, username: string, password: string) {
  return agent.post("/login").type("form").send({ _csrf: token, username, password });
}

/** A logged-in officer's agent and the CSRF token of its pages. */
export async function officerSession(target: KakuninApp | Server, login: string, password: string): Promise<{ agent: Agent; token: string }> {
  const { agent, token: loginToken } = await loginForm(target);
  const res = await postLogin(agent, loginToken, login, password);
  if (res.status !== 303) throw new Error(`login failed: ${res.status}`);
  const page = await agent.get("/verify");
  return { agent, token: csrfTokenOf(page.text) };
}

export function postVerify(agent: Agent, token: string, contractNumber: string, authKey: string) {
  return agent.post("/verify").type("form").send({ _csrf: token, contractNumber, authKey });
}

/** One app served on a loopback port for the whole test: no listen per request. */
export async function serve(app: KakuninApp): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A page minus what may legitimately differ between failure classes: the CSRF token and the echoed input. */
export function comparable(html: string): string {
  return html
    .replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf" value=""')
    .replace(/(id="(?:username|contractNumber)"[^>]*?)value="[^"]*"/g, '$1value=""');
}

/** The header names a response carries, sorted (values such as Date and Content-Length vary). */
export function headerNames(res: { headers: Record<string, unknown> }): string[] {
  return Object.keys(res.headers).filter((name) => name !== "date").sort();
}

export function count(world: { db: { prepare(sql: string): { get(...a: unknown[]): unknown } } }, sql: string, ...params: unknown[]): number {
  return (world.db.prepare(sql).get(...params) as { n: number }).n;
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
