import { givenOfficer } from "./given.js";
import { enrol, submitCode, submitPassword, totpCode } from "./mfa.js";
import request from "supertest";
import { loginAs, type WebWorld } from "./web.js";

/**
 * An administrator (所属管理者) of an orderer (むつ市 unless told), logged in with a second factor
 * enrolled (administrators must have one before any /admin page): the one place tests become an
 * administrator.
 */
export async function loginAsAdministrator(world: WebWorld, options: { login?: string; orderer?: string } = {}) {
  const login = options.login ?? "mutsu-kanri";
  const given = await givenOfficer(world, { login, ...(options.orderer ? { orderer: options.orderer } : {}), password: "administrator passphrase for mutsu" });
  const made = world.services.officers.setRole(login, "admin", "test");
  if (!made.ok) throw new Error(`cannot make ${login} an administrator`);
  const agent = await loginAs(world.app, login, given.password);
  const { secret } = await enrol(agent, world.clock);
  return { agent, officer: world.services.officers.findByLogin(login)!, login, password: given.password, totpSecret: secret };
}

/** The administrator logs in again (a new agent): the password, then a code of the next time step. */
export async function logInAgainAsAdministrator(world: WebWorld, administrator: { login: string; password: string; totpSecret: string }) {
  const agent = request.agent(world.app);
  const first = await submitPassword(agent, administrator.login, administrator.password);
  if (first.headers.location !== "/login/mfa") throw new Error(`the password led to ${first.headers.location}`);
  world.clock.advance(30_000);
  const second = await submitCode(agent, totpCode(administrator.totpSecret, world.clock));
  if (second.status !== 303) throw new Error(`the code was refused: ${second.status}`);
  return agent;
}
