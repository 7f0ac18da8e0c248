import { generateSync } from "otplib";
import type request from "supertest";
import type { Clock } from "../../src/clock.js";
import { csrfTokenOf } from "./web.js";

type Agent = ReturnType<typeof request.agent>;

/** The authenticator app's code at the clock's time, `steps` 30-second steps later (or earlier). */
export function totpCode(secret: string, clock: Clock, steps = 0): string {
  return generateSync({ secret, epoch: Math.floor(clock.now().getTime() / 1000) + steps * 30 });
}

/** The secret as the enrolment page shows it, in data-totp-secret. */
export function totpSecretOf(html: string): string {
  const match = /data-totp-secret="([A-Z2-7]+)"/.exec(html);
  if (!match) throw new Error("no data-totp-secret on the page");
  return match[1]!;
}

/** The recovery codes page's codes. */
export function recoveryCodesOf(html: string): string[] {
  return [...html.matchAll(/<li><code>([0-9A-Z-]+)<\/code><\/li>/g)].map((m) => m[1]!);
}

/** Enrols a logged-in agent's officer as the browser would: read the secret, send one code. */
export async function enrol(agent: Agent, clock: Clock): Promise<{ secret: string; recoveryCodes: string[] }> {
  const page = await agent.get("/account/mfa");
  const secret = totpSecretOf(page.text);
  const res = await agent.post("/account/mfa").type("form").send({ _csrf: csrfTokenOf(page.text), code: totpCode(secret, clock) });
  if (res.status !== 200) throw new Error(`enrolment refused: ${res.status}`);
  return { secret, recoveryCodes: recoveryCodesOf(res.text) };
}

/** POST /login with the password: the agent then owes a code (303 to /login/mfa) or is logged in. */
export async function submitPassword(agent: Agent, username: string, password: string) {
  const form = await agent.get("/login");
  return agent.post("/login").type("form").send({ _csrf: csrfTokenOf(form.text), username, password });
}

/** POST /login/mfa with a code, the token read from the code form. */
export async function submitCode(agent: Agent, code: string) {
  const form = await agent.get("/login/mfa");
  return agent.post("/login/mfa").type("form").send({ _csrf: csrfTokenOf(form.text), code });
}
