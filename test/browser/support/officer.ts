import type { Page } from "playwright-core";
import { pressAndWaitForPage } from "./browser.js";
import { NEW_PASSWORD, type Seeded } from "./seed.js";

/**
 * The officer's account across one test file: logs in with whatever password is current and, at
 * the first login, makes the forced change to NEW_PASSWORD. Fields are filled and forms sent with
 * Enter (the journey test does the same by keyboard alone).
 */
export function createOfficerSession(baseUrl: string, seeded: Seeded) {
  let password = seeded.officer.initialPassword;
  return {
    get password() { return password; },

    /** Submits the login form and returns the page it lands on, without the forced change. */
    async submitLogin(page: Page, typed: string = password): Promise<URL> {
      await page.goto(`${baseUrl}/login`);
      await page.fill("#username", seeded.officer.login);
      await page.fill("#password", typed);
      await page.focus("#password");
      return pressAndWaitForPage(page);
    },

    /** Fills the password form; returns where the officer lands (/verify when accepted). */
    async submitPasswordChange(page: Page, fields: { current?: string; next?: string; confirm?: string } = {}): Promise<URL> {
      await page.fill("#currentPassword", fields.current ?? password);
      await page.fill("#newPassword", fields.next ?? NEW_PASSWORD);
      await page.fill("#confirmPassword", fields.confirm ?? fields.next ?? NEW_PASSWORD);
      await page.focus("#confirmPassword");
      const landed = await pressAndWaitForPage(page);
      if (landed.pathname === "/verify") password = fields.next ?? NEW_PASSWORD;
      return landed;
    },

    /** Logged in afresh (any earlier session dropped), password changed, on /verify. */
    async signIn(page: Page): Promise<void> {
      // A request of the page before still in flight could set its cookie again after the clearing.
      await page.waitForLoadState("networkidle");
      await page.context().clearCookies();
      let landed = await this.submitLogin(page);
      if (landed.pathname === "/password") landed = await this.submitPasswordChange(page);
      if (landed.pathname !== "/verify") {
        const said = (await page.locator("h1, [role=alert]").allInnerTexts()).join(" / ");
        throw new Error(`sign-in ended on ${landed.href}: ${said}`);
      }
    },

    /** Sends the verification form as typed; returns where it leads. */
    async verify(page: Page, contractNumber: string, authKey: string): Promise<URL> {
      await page.goto(`${baseUrl}/verify`);
      await page.fill("#contractNumber", contractNumber);
      await page.fill("#authKey", authKey);
      await page.focus("#authKey");
      return pressAndWaitForPage(page);
    },
  };
}
