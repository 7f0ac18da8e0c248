import type { Page } from "playwright-core";
import { generateSync } from "otplib";
import { createOfficerSession } from "./officer.js";
import { runAdmin } from "./seed.js";
import type { BrowserWorld } from "./world.js";

/**
 * The seeded officer, signed in, made an administrator of むつ市 (by the CLI, as the issuer does it)
 * and sent, as every administrator without one is, to enrol a second factor, which it does by
 * reading data-totp-secret: the one place browser tests become an administrator. Returns the
 * session, the secret (for later codes) and the 30-second step of the code used (a code is
 * accepted once: the next one must be of a later step).
 */
export async function signInAsAdministrator(page: Page, world: BrowserWorld) {
  const session = createOfficerSession(world.server.url, world.seeded);
  await session.signIn(page);
  const made = await runAdmin(world.databasePath, ["officer", "role", world.seeded.officer.login, "admin"]);
  if (made.status !== 0) throw new Error(`officer role exited ${made.status}: ${made.stderr}`);
  await page.goto(`${world.server.url}/admin/officers`);
  if (new URL(page.url()).pathname !== "/account/mfa") throw new Error(`an administrator without a second factor reached ${page.url()}`);
  const secret = await page.getAttribute("[data-totp-secret]", "data-totp-secret");
  const epoch = Math.floor(Date.now() / 1000);
  await page.fill("#code", generateSync({ secret: secret!, epoch }));
  await Promise.all([page.waitForLoadState("load"), page.click("form[action='/account/mfa'] button[type=submit]")]);
  if ((await page.locator("[data-recovery-codes] li").count()) !== 10) throw new Error("the second factor was not confirmed");
  return { session, totpSecret: secret!, lastTotpStep: Math.floor(epoch / 30) };
}
