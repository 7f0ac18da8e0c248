import { givenOfficer } from "./given.js";
import { loginAs, type WebWorld } from "./web.js";

/**
 * An administrator (所属管理者) of an orderer (むつ市 unless told), logged in: the one place tests
 * become an administrator, so that what an administrator must also do to reach /admin (a second
 * factor, say) is added here once.
 */
export async function loginAsAdministrator(world: WebWorld, options: { login?: string; orderer?: string } = {}) {
  const login = options.login ?? "mutsu-kanri";
  const given = await givenOfficer(world, { login, ...(options.orderer ? { orderer: options.orderer } : {}), password: "administrator passphrase for mutsu" });
  const made = world.services.officers.setRole(login, "admin", "test");
  if (!made.ok) throw new Error(`cannot make ${login} an administrator`);
  const agent = await loginAs(world.app, login, given.password);
  return { agent, officer: world.services.officers.findByLogin(login)!, login, password: given.password };
}
