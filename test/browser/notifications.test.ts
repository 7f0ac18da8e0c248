import { AxeBuilder } from "@axe-core/playwright";
import { expect } from "chai";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { visibleText } from "./support/browser.js";
import { NEW_PASSWORD, runAdmin } from "./support/seed.js";
import { useBrowserWorld } from "./support/world.js";

describe("in Chromium: an officer hears of a change through お知らせ", function () {
  const world = useBrowserWorld("notifications");

  it("when a guarantee the officer verified is amended, then the header shows 1 unread, the notice names the change and leads to the guarantee's 変更-1, and then it is read", async function () {
    this.timeout(60_000);
    const page = world.browser.page;
    const base = world.server.url;
    const sample = world.seeded.guarantees.sample;
    const shot = (name: string) => page.screenshot({ path: path.join(world.artifacts, `${name}.png`), fullPage: true });

    // Log in, replace the one-time password, verify the sample.
    await page.goto(`${base}/login`);
    await page.fill("#username", world.seeded.officer.login);
    await page.fill("#password", world.seeded.officer.initialPassword);
    await Promise.all([page.waitForURL(`${base}/password`), page.click("form[action='/login'] button[type=submit]")]);
    await page.fill("#currentPassword", world.seeded.officer.initialPassword);
    await page.fill("#newPassword", NEW_PASSWORD);
    await page.fill("#confirmPassword", NEW_PASSWORD);
    await Promise.all([page.waitForURL(`${base}/verify`), page.click("form[action='/password'] button[type=submit]")]);
    expect(await page.locator("[data-unread-count]").count(), "nothing unread yet").to.equal(0);
    await page.fill("#contractNumber", sample.certificate.contractNumber);
    await page.fill("#authKey", sample.authKey);
    await Promise.all([page.waitForURL(`${base}/guarantees/${sample.certificate.contractNumber}`), page.click("form[action='/verify'] button[type=submit]")]);

    // The issuer amends it from the CLI, as it would.
    const change = path.join(path.dirname(world.databasePath), "amendment.json");
    writeFileSync(change, JSON.stringify({ guaranteeAmount: 25_000_000 }));
    const amended = await runAdmin(world.databasePath, ["amend", sample.certificate.contractNumber, change]);
    expect(amended.status, amended.stderr).to.equal(0);

    await page.goto(`${base}/verify`);
    expect(await page.locator("[data-unread-count]").innerText()).to.equal("1");
    await shot("01-unread-count");

    await Promise.all([page.waitForURL(`${base}/notifications`), page.click("a[data-notifications]")]);
    const list = await visibleText(page);
    expect(list).to.include(`${sample.certificate.contractNumber} 変更-1 が登録されました`);
    expect(list).to.include("保証金額: 20,000,000 円 → 25,000,000 円");
    expect(await page.locator("[data-notice][data-unread]").count()).to.equal(1);
    const axe = await new AxeBuilder({ page }).analyze();
    expect(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.help}`), "axe on the notices").to.deep.equal([]);
    await shot("02-notices");

    await Promise.all([
      page.waitForURL(`${base}/guarantees/${sample.certificate.contractNumber}`),
      page.click(`[data-notice] a:has-text("${sample.certificate.contractNumber} 変更-1")`),
    ]);
    const summary = await visibleText(page);
    expect(summary).to.include("保証金額 25,000,000 円");
    expect(summary).to.match(/変更-1/);
    expect(await page.locator("[data-unread-count]").count(), "opened, so read").to.equal(0);
    await shot("03-guarantee");

    await page.goto(`${base}/notifications`);
    expect(await page.locator("[data-notice][data-unread]").count()).to.equal(0);
  });
});
