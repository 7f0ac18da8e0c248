import { AxeBuilder } from "@axe-core/playwright";
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { artifactsDir, fitsWidth, launchChromium, requireChromium, visibleText, type Browser } from "./support/browser.js";
import { createOfficerSession } from "./support/officer.js";
import { seededDatabase, type Seeded } from "./support/seed.js";
import { startServer, type RunningServer } from "./support/server.js";

type AxeFinding = { page: string; id: string; impact: string; help: string; targets: string[] };

/** Form controls a person fills in, each of which needs a label a screen reader announces. */
async function unlabelledFields(page: Page): Promise<string[]> {
  return page.locator("input:not([type=hidden]), select, textarea").evaluateAll((fields) =>
    fields
      .filter((f) => {
        const labelled = (f as HTMLInputElement).labels?.length || f.getAttribute("aria-label")?.trim() || f.getAttribute("aria-labelledby");
        return !labelled;
      })
      .map((f) => f.outerHTML.slice(0, 100)));
}

describe("in Chromium: accessibility and layout of every page", function () {
  let dir: string;
  let seeded: Seeded;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let artifacts: string;
  let officer: ReturnType<typeof createOfficerSession>;
  /** Every axe finding of every impact, written out for reading; only serious and critical fail. */
  const findings: AxeFinding[] = [];

  before(async function () {
    requireChromium(this);
    this.timeout(60_000);
    dir = mkdtempSync(path.join(tmpdir(), "kakunin-browser-"));
    artifacts = artifactsDir("pages");
    const [seed, launched] = await Promise.all([seededDatabase(dir), launchChromium()]);
    browser = launched;
    seeded = seed.seeded;
    server = await startServer(seed.databasePath);
    officer = createOfficerSession(server.url, seeded);
  });

  after(async function () {
    this.timeout(20_000);
    if (artifacts) writeFileSync(path.join(artifacts, "axe-findings.json"), JSON.stringify(findings, null, 2));
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async function () {
    if (!browser || !server) return;
    await browser.page.setViewportSize({ width: 1366, height: 768 });
    expect(browser.problems.take(), "CSP violations, script errors or failed static files").to.deep.equal([]);
    expect(server.takeErrors(), "errors in the server log").to.deep.equal([]);
  });

  /**
   * The checks every page gets: axe (no serious or critical violation), a label on every field,
   * no sideways scroll at 1366x768 nor at 390x844, and a screenshot at each size.
   */
  async function checkPage(name: string): Promise<void> {
    const page = browser!.page;
    const results = await new AxeBuilder({ page }).analyze();
    for (const v of results.violations) {
      findings.push({ page: name, id: v.id, impact: v.impact ?? "unknown", help: v.help, targets: v.nodes.map((n) => n.target.join(" ")) });
    }
    const blocking = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
    expect(blocking, `axe on ${name}`).to.deep.equal([]);
    expect(await unlabelledFields(page), `fields without a label on ${name}`).to.deep.equal([]);
    for (const [width, height] of [[1366, 768], [390, 844]] as const) {
      await page.setViewportSize({ width, height });
      expect(await fitsWidth(page), `${name} at ${width}x${height} scrolls sideways`).to.include({ ok: true });
      await page.screenshot({ path: path.join(artifacts, `${name}-${width}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1366, height: 768 });
  }

  /** An error summary is an alert, has the focus once the page has loaded, and names each field. */
  async function expectFocusedAlert(page: Page, ...messages: string[]): Promise<void> {
    const alert = page.locator("#form-errors");
    expect(await alert.getAttribute("role")).to.equal("alert");
    expect(await page.evaluate(() => document.activeElement?.id), "focus moves to the error summary").to.equal("form-errors");
    const text = (await alert.innerText()).replace(/\s+/g, " ");
    for (const message of messages) expect(text).to.include(message);
  }

  const url = (p: string) => `${server!.url}${p}`;

  /** The page axe is about to judge is the one the test means: its path and its one main heading. */
  async function expectOn(pathname: string, heading: string): Promise<void> {
    const page = browser!.page;
    expect(new URL(page.url()).pathname, "the page's path").to.equal(pathname);
    expect((await page.locator("main h1").innerText()).trim(), `the heading on ${pathname}`).to.equal(heading);
  }

  describe("before login", function () {
    beforeEach(async () => { await browser?.context.clearCookies(); });

    it("when a stranger opens the login form, then it passes axe and holds its layout", async function () {
      await browser!.page.goto(url("/login"));
      await expectOn("/login", "ログイン");
      await checkPage("login");
    });

    it("when the password is wrong, then the one message is an alert that takes the focus", async function () {
      const landed = await officer.submitLogin(browser!.page, "not the password at all");
      expect(landed.pathname).to.equal("/login");
      await expectFocusedAlert(browser!.page, "ログインIDまたはパスワードが正しくありません。");
      await checkPage("login-error");
    });

    it("when the public list of orderers is opened, then it passes axe", async function () {
      await browser!.page.goto(url("/orderers"));
      expect(await visibleText(browser!.page)).to.include("022080 むつ市");
      await checkPage("orderers");
    });
  });

  describe("the forced password change", function () {
    it("when an officer logs in with the one-time password, then the change form and its errors pass axe and the error takes the focus", async function () {
      const page = browser!.page;
      expect((await officer.submitLogin(page)).pathname).to.equal("/password");
      await checkPage("password-forced");
      const landed = await officer.submitPasswordChange(page, { next: "むつ湾の帆立は冬が旬です 2026", confirm: "むつ湾の帆立は夏が旬です 2026" });
      expect(landed.pathname).to.equal("/password");
      await expectFocusedAlert(page, "新しいパスワードと確認用のパスワードが一致しません。");
      await checkPage("password-error");
      expect((await officer.submitPasswordChange(page)).pathname).to.equal("/verify");
    });
  });

  describe("signed in", function () {
    before(async function () {
      this.timeout(30_000);
      if (!browser) return;
      try {
        await officer.signIn(browser.page);
      } catch (error) {
        const refusals = server!.output().split("\n").filter((line) => /"status":4\d\d/.test(line)).slice(-4);
        throw new Error(`${(error as Error).message}\nthe server's last refusals:\n${refusals.join("\n")}`);
      }
      for (const { certificate, authKey } of Object.values(seeded.guarantees)) {
        const landed = await officer.verify(browser.page, certificate.contractNumber, authKey);
        if (landed.pathname !== `/guarantees/${certificate.contractNumber}`) throw new Error(`${certificate.contractNumber} did not verify`);
      }
    });

    it("when the verification form is opened, then it passes axe and every field has a label", async function () {
      await browser!.page.goto(url("/verify"));
      await expectOn("/verify", "電子保証の確認");
      expect(await browser!.page.locator("input#contractNumber, input#authKey").count()).to.equal(2);
      await checkPage("verify");
    });

    it("when the number and key are malformed, then both errors are an alert that takes the focus and links to its field", async function () {
      const page = browser!.page;
      expect((await officer.verify(page, "0220-1", "abc")).pathname).to.equal("/verify");
      await expectFocusedAlert(page, "保証契約番号は「12345-123456」の形式", "認証キーは英数字12文字で入力してください");
      const links = await page.locator("#form-errors a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
      expect(links).to.deep.equal(["#contractNumber", "#authKey"]);
      await checkPage("verify-format-errors");
    });

    it("when the key is wrong, then the one failure message is an alert that takes the focus", async function () {
      const page = browser!.page;
      expect((await officer.verify(page, "02208-000001", "AAAA-BBBB-CCCC")).pathname).to.equal("/verify");
      await expectFocusedAlert(page, "保証契約番号または認証キーが正しくないか、貴団体あての保証ではありません。");
      await checkPage("verify-failed");
    });

    it("when the summary and history of the sample are opened, then they pass axe", async function () {
      await browser!.page.goto(url("/guarantees/02208-000001"));
      await expectOn("/guarantees/02208-000001", "電子保証概要（前払金保証）");
      expect(await visibleText(browser!.page)).to.include("むつ市道大畑線道路改良工事").and.include("電子保証履歴");
      await checkPage("summary");
    });

    it("when the full history of an amended guarantee is opened (?all=1), then the withdrawn 変更-2 is listed and the page passes axe", async function () {
      const page = browser!.page;
      await page.goto(url("/guarantees/02208-000004?all=1"));
      const rows = (await page.locator("table.history-table tbody tr").allInnerTexts()).map((r) => r.replace(/\s+/g, " "));
      expect(rows).to.have.length(3);
      expect(rows[1]).to.include("変更-1");
      expect(rows[2]).to.include("変更-2").and.include("変更取消");
      await checkPage("history-all");
    });

    it("when a version is compared with the one before it, then the diff passes axe", async function () {
      const page = browser!.page;
      await page.goto(url("/guarantees/02208-000004/versions/2/diff"));
      expect(await visibleText(page)).to.include("変更あり");
      await checkPage("diff");
    });

    for (const [kind, name, what, heading] of [
      ["sample", "certificate", "the sample's certificate", "保証証書（前払金保証）"],
      ["cancelled", "certificate-cancelled", "a cancelled certificate", "保証証書（前払金保証）"],
      ["expired", "certificate-expired", "an expired certificate", "保証証書（契約保証）"],
    ] as const) {
      it(`when ${what} is opened, then it passes axe`, async function () {
        const { certificate, status } = seeded.guarantees[kind];
        await browser!.page.goto(url(`/guarantees/${certificate.contractNumber}/certificate`));
        await expectOn(`/guarantees/${certificate.contractNumber}/certificate`, heading);
        expect(await visibleText(browser!.page)).to.include(certificate.contractNumber).and.include(certificate.projectName).and.include(status);
        await checkPage(name);
      });
    }

    it("when an earlier version's certificate is opened, then the not-latest warning passes axe", async function () {
      await browser!.page.goto(url("/guarantees/02208-000004/versions/1"));
      expect(await visibleText(browser!.page)).to.include("この証書は最新ではありません。");
      await checkPage("certificate-not-latest");
    });

    it("when the verified list is opened, filtered and searched, then each passes axe", async function () {
      const page = browser!.page;
      await page.goto(url("/verified"));
      expect(await page.locator("table.verified-table tbody tr").count()).to.equal(6);
      await checkPage("verified");
      await page.goto(url("/verified?status=cancelled"));
      expect(await page.locator("table.verified-table tbody tr").count()).to.equal(1);
      await checkPage("verified-cancelled");
      await page.goto(url(`/verified?q=${encodeURIComponent("存在しない工事")}`));
      expect(await visibleText(page)).to.include("条件に一致する保証はありません。");
      await checkPage("verified-empty");
    });

    it("when a signed-in officer opens a page that does not exist or a guarantee never verified, then the Japanese 404 page passes axe", async function () {
      const page = browser!.page;
      expect((await page.goto(url("/no-such-page")))?.status()).to.equal(404);
      expect(await visibleText(page)).to.include("ページが見つかりません");
      await checkPage("not-found");
      expect((await page.goto(url("/guarantees/99999-999999")))?.status()).to.equal(404);
      expect(await visibleText(page)).to.include("ページが見つかりません");
    });
  });
});
