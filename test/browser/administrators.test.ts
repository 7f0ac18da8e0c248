import { expect } from "chai";
import path from "node:path";
import { pressAndWaitForPage, visibleText } from "./support/browser.js";
import { signInAsAdministrator } from "./support/administrator.js";
import { useBrowserWorld } from "./support/world.js";

describe("in Chromium: an orderer administrator", function () {
  const world = useBrowserWorld("administrators");

  it("when an administrator adds an officer, then the one-time password on the page lets that officer log in and set their own", async function () {
    this.timeout(90_000);
    const page = world.browser.page;
    const base = world.server.url;
    await signInAsAdministrator(page, world);

    await page.click('nav a[href="/admin/officers"]');
    await page.waitForLoadState("load");
    expect(await visibleText(page)).to.include("職員の管理").and.to.include("所属管理者");
    await page.fill("#login", "mutsu-sato");
    await page.fill("#displayName", "佐藤 花子");
    await page.focus("#displayName");
    expect((await pressAndWaitForPage(page)).pathname).to.equal("/admin/officers");
    const oneTimePassword = (await page.locator("[data-one-time-password]").innerText()).trim();
    expect(oneTimePassword).to.match(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
    await page.screenshot({ path: path.join(world.artifacts, "one-time-password.png"), fullPage: true });

    await page.context().clearCookies();
    await page.goto(`${base}/login`);
    await page.fill("#username", "mutsu-sato");
    await page.fill("#password", oneTimePassword);
    await page.focus("#password");
    expect((await pressAndWaitForPage(page)).pathname).to.equal("/password");
    await page.fill("#currentPassword", oneTimePassword);
    await page.fill("#newPassword", "佐藤の新しいパスフレーズ 大湊ネブタ");
    await page.fill("#confirmPassword", "佐藤の新しいパスフレーズ 大湊ネブタ");
    await page.focus("#confirmPassword");
    expect((await pressAndWaitForPage(page)).pathname).to.equal("/verify");
    // An officer, not an administrator: no link, and /admin is not there for them.
    expect(await page.locator('nav a[href="/admin/officers"]').count()).to.equal(0);
    const response = await page.goto(`${base}/admin/officers`);
    expect(response?.status()).to.equal(404);
  });
});
