import { AxeBuilder } from "@axe-core/playwright";
import { expect } from "chai";
import { generateSync } from "otplib";
import path from "node:path";
import { visibleText } from "./support/browser.js";
import { createOfficerSession } from "./support/officer.js";
import { useBrowserWorld } from "./support/world.js";

/** The authenticator app's code, `steps` 30-second steps from the real clock (the server's). */
const codeAt = (secret: string, steps = 0) => generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + steps * 30 });

/** Waits, if need be, until the current 30-second step has at least `seconds` left. */
async function awayFromStepEnd(seconds: number): Promise<void> {
  const left = 30 - (Math.floor(Date.now() / 1000) % 30);
  if (left < seconds) await new Promise((resolve) => setTimeout(resolve, left * 1000 + 200));
}

describe("in Chromium: an officer enrols an authenticator app and logs in with it", function () {
  const world = useBrowserWorld("mfa");

  it("when the officer reads the secret from the enrolment page, confirms a code, logs out and logs in, then the password leads to the code form and the code to /verify", async function () {
    this.timeout(90_000);
    const page = world.browser.page;
    const base = world.server.url;
    const officer = createOfficerSession(base, world.seeded);
    const shot = (name: string) => page.screenshot({ path: path.join(world.artifacts, `${name}.png`), fullPage: true });

    await officer.signIn(page);
    await Promise.all([page.waitForURL(`${base}/account/mfa`), page.click("a[href='/account/mfa'] >> nth=0")]);
    expect(await page.locator("svg.qr-code path").count(), "the QR code is drawn in the page").to.equal(1);
    const secret = await page.getAttribute("[data-totp-secret]", "data-totp-secret");
    expect(secret).to.match(/^[A-Z2-7]{32}$/);
    const axe = await new AxeBuilder({ page }).analyze();
    expect(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.help}`), "axe on the enrolment page").to.deep.equal([]);
    await shot("01-enrol");

    // The code of the step before (still accepted) confirms, so that the current step's code is
    // left for the login without waiting for the next step.
    await awayFromStepEnd(10);
    await page.fill("#code", codeAt(secret!, -1));
    await Promise.all([page.waitForLoadState("load"), page.click("form[action='/account/mfa'] button[type=submit]")]);
    expect(await page.locator("[data-recovery-codes] li").count()).to.equal(10);
    expect(await visibleText(page)).to.include("このリカバリーコードが表示されるのは今回だけです。");
    await shot("02-recovery-codes");

    await Promise.all([page.waitForURL(`${base}/login?bye=1`), page.click("form[action='/logout'] button[type=submit]")]);
    const landed = await officer.submitLogin(page);
    expect(landed.pathname, "the password alone does not log in").to.equal("/login/mfa");
    await shot("03-code");
    await page.fill("#code", codeAt(secret!));
    await Promise.all([page.waitForURL(`${base}/verify`), page.click("form[action='/login/mfa'] button[type=submit]")]);
    expect(await visibleText(page)).to.include("電子保証の確認");
  });
});
