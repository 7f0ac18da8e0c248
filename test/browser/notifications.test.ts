import { AxeBuilder } from "@axe-core/playwright";
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { artifactsDir, launchChromium, requireChromium, visibleText, type Browser } from "./support/browser.js";
import { NEW_PASSWORD, runAdmin, seededDatabase, type Seeded } from "./support/seed.js";
import { startServer, type RunningServer } from "./support/server.js";

describe("in Chromium: an officer hears of a change through お知らせ", function () {
  let dir: string;
  let seeded: Seeded;
  let databasePath: string;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let artifacts: string;

  before(async function () {
    requireChromium(this);
    this.timeout(60_000);
    dir = mkdtempSync(path.join(tmpdir(), "kakunin-browser-"));
    artifacts = artifactsDir("notifications");
    const [seed, launched] = await Promise.all([seededDatabase(dir), launchChromium()]);
    browser = launched;
    seeded = seed.seeded;
    databasePath = seed.databasePath;
    server = await startServer(seed.databasePath);
  });

  after(async function () {
    this.timeout(20_000);
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  afterEach(function () {
    if (!browser || !server) return;
    expect(browser.problems.take(), "CSP violations, script errors or failed static files").to.deep.equal([]);
    expect(server.takeErrors(), "errors in the server log").to.deep.equal([]);
  });

  it("when a guarantee the officer verified is amended, then the header shows 1 unread, the notice names the change and leads to the guarantee's 変更-1, and then it is read", async function () {
    this.timeout(60_000);
    const page = browser!.page;
    const base = server!.url;
    const sample = seeded.guarantees.sample;
    const shot = (name: string) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });

    // Log in, replace the one-time password, verify the sample.
    await page.goto(`${base}/login`);
    await page.fill("#username", seeded.officer.login);
    await page.fill("#password", seeded.officer.initialPassword);
    await Promise.all([page.waitForURL(`${base}/password`), page.click("form[action='/login'] button[type=submit]")]);
    await page.fill("#currentPassword", seeded.officer.initialPassword);
    await page.fill("#newPassword", NEW_PASSWORD);
    await page.fill("#confirmPassword", NEW_PASSWORD);
    await Promise.all([page.waitForURL(`${base}/verify`), page.click("form[action='/password'] button[type=submit]")]);
    expect(await page.locator("[data-unread-count]").count(), "nothing unread yet").to.equal(0);
    await page.fill("#contractNumber", sample.certificate.contractNumber);
    await page.fill("#authKey", sample.authKey);
    await Promise.all([page.waitForURL(`${base}/guarantees/${sample.certificate.contractNumber}`), page.click("form[action='/verify'] button[type=submit]")]);

    // The issuer amends it from the CLI, as it would.
    const change = path.join(dir, "amendment.json");
    writeFileSync(change, JSON.stringify({ guaranteeAmount: 25_000_000 }));
    const amended = await runAdmin(databasePath, ["amend", sample.certificate.contractNumber, change]);
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
