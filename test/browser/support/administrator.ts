import type { Page } from "playwright-core";
import { createOfficerSession } from "./officer.js";
import { runAdmin } from "./seed.js";
import type { BrowserWorld } from "./world.js";

/**
 * The seeded officer made an administrator of むつ市 (by the CLI, as the issuer does it) and signed
 * in: the one place browser tests become an administrator, so that what an administrator must also
 * do to reach /admin (a second factor, say) is added here once.
 */
export async function signInAsAdministrator(page: Page, world: BrowserWorld) {
  const made = await runAdmin(world.databasePath, ["officer", "role", world.seeded.officer.login, "admin"]);
  if (made.status !== 0) throw new Error(`officer role exited ${made.status}: ${made.stderr}`);
  const session = createOfficerSession(world.server.url, world.seeded);
  await session.signIn(page);
  return session;
}
