import { AxeBuilder } from "@axe-core/playwright";
import { expect } from "chai";
import { parse as parseCsv } from "csv-parse/sync";
import iconv from "iconv-lite";
import { readFileSync } from "node:fs";
import { generateSync } from "otplib";
import type { Page } from "playwright-core";
import { EXPORT_COLUMNS } from "../../src/audit/audit-export.js";
import { startSmtpServer, type SmtpTestServer } from "../notifications/support.js";
import { signInAsAdministrator } from "./support/administrator.js";
import { launchChromium, pressAndWaitForPage, visibleText } from "./support/browser.js";
import { runAdmin } from "./support/seed.js";
import { freePort } from "./support/server.js";
import { useBrowserWorld } from "./support/world.js";

const MAILBOX = "keiyaku@city.mutsu.lg.jp";
const INVITED = { login: "mutsu-sato", displayName: "佐藤 花子", email: "sato@city.mutsu.lg.jp", password: "佐藤が自分で決めた長いパスフレーズ 大湊" };

/** axe's serious and critical findings on the page as it is now: none is allowed. */
async function expectAxeClean(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const blocking = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  expect(blocking, `axe on ${name}`).to.deep.equal([]);
}

describe("in Chromium: an orderer administrator's invitations, step-up and audit trail", function () {
  let smtp: SmtpTestServer;
  let publicBaseUrl: string;
  // Before the world's hooks: the service is started with this relay and must know its own address
  // before it listens, since that address is the origin of the links it mails.
  before(async () => { smtp = await startSmtpServer(); });
  const world = useBrowserWorld("administration-flows", {
    env: async () => {
      const port = await freePort();
      publicBaseUrl = `http://127.0.0.1:${port}`;
      return { PORT: String(port), PUBLIC_BASE_URL: publicBaseUrl, SMTP_URL: smtp.url, MAIL_FROM: "Kakunin <noreply@kakunin.example.jp>" };
    },
  });
  // After the world's own `after`, which stops the service (and so its connection to the relay).
  after(async () => { await smtp?.close(); });

  let administrator: Awaited<ReturnType<typeof signInAsAdministrator>>["session"];
  let totpSecret: string;
  let lastTotpStep: number;
  before(async function () {
    this.timeout(60_000);
    ({ session: administrator, totpSecret, lastTotpStep } = await signInAsAdministrator(world.browser.page, world));
  });

  /**
   * The authenticator's code of the first step after the last one used (a code is accepted once),
   * waiting only if that step is more than one ahead of the clock (the service takes one step early
   * or late).
   */
  async function nextCode(): Promise<string> {
    const nowStep = () => Math.floor(Date.now() / 30_000);
    const step = Math.max(lastTotpStep + 1, nowStep());
    while (step > nowStep() + 1) await new Promise((resolve) => setTimeout(resolve, 250));
    lastTotpStep = step;
    return generateSync({ secret: totpSecret, epoch: step * 30 });
  }

  const url = (p: string) => `${world.server.url}${p}`;

  it("when the administrator is asked to prove again who they are before /admin/officers, then a wrong code is refused with an alert and a fresh code leads back to /admin/officers", async function () {
    this.timeout(30_000);
    const page = world.browser.page;
    // The service runs on the real clock, so the five minutes cannot pass here: the step-up page is
    // opened as requireRecentAuthentication's redirect would open it (the HTTP tests cover the redirect).
    await page.goto(url(`/account/confirm?next=${encodeURIComponent("/admin/officers")}`));
    expect((await page.locator("main h1").innerText()).trim()).to.equal("本人確認");
    expect(await page.locator("#code").count(), "an administrator is offered the code").to.equal(1);
    await expectAxeClean(page, "/account/confirm");

    const code = await nextCode();
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    await page.fill("#code", wrong);
    await page.focus("#code");
    expect((await pressAndWaitForPage(page)).pathname).to.equal("/account/confirm");
    expect(await page.locator("#form-errors[role=alert]").innerText()).to.include("確認コードが正しくありません。");
    await expectAxeClean(page, "/account/confirm with its error");

    await page.fill("#code", code);
    await page.focus("#code");
    expect((await pressAndWaitForPage(page)).pathname).to.equal("/admin/officers");
    expect(await visibleText(page)).to.include("職員の管理");
  });

  it("when the administrator opens 監査ログ, filters by an event and downloads the Shift_JIS CSV, then the page lists only that event and the file decodes to the export's header and that event's rows", async function () {
    this.timeout(30_000);
    const page = world.browser.page;
    await page.goto(url("/admin/officers"));
    await Promise.all([page.waitForURL(url("/admin/audit")), page.click("a[href='/admin/audit']")]);
    expect((await page.locator("main h1").innerText()).trim()).to.equal("監査ログ");
    await page.fill("#event", "officer_role_change");
    await page.focus("#event");
    const filtered = await pressAndWaitForPage(page);
    expect(filtered.pathname).to.equal("/admin/audit");
    expect(filtered.searchParams.get("event")).to.equal("officer_role_change");
    const events = await page.locator("[data-audit-row]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-event")));
    // The CLI's `officer role mutsu-tanaka admin` that made this administrator.
    expect(events).to.deep.equal(["officer_role_change"]);
    expect(await page.locator("[data-audit-row]").innerText()).to.include("役割の変更");
    await expectAxeClean(page, "/admin/audit filtered");

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("a[data-download]:has-text('Shift_JIS')")]);
    expect(download.suggestedFilename()).to.match(/^kakunin-audit-022080-\d{8}-sjis\.csv$/);
    const bytes = readFileSync((await download.path())!);
    expect([...bytes.subarray(0, 3)], "no UTF-8 BOM in Shift_JIS").not.to.deep.equal([0xef, 0xbb, 0xbf]);
    const text = iconv.decode(bytes, "cp932");
    expect(text.split("\r\n")[0]).to.equal(EXPORT_COLUMNS.join(","));
    // The rows, then (after an empty line) the signed checkpoints under their own header.
    const [header, ...rows] = parseCsv(text.split("\r\n\r\n")[0]!) as string[][];
    expect(header).to.deep.equal([...EXPORT_COLUMNS]);
    expect(rows).to.have.length(1);
    const row = Object.fromEntries(EXPORT_COLUMNS.map((column, i) => [column, rows[0]![i]]));
    // The outcome is the role given; the detail names the officer and the role before.
    expect(row).to.include({ event: "officer_role_change", outcome: "admin", orderer_code: "022080" });
    expect(JSON.parse(row.detail!)).to.deep.equal({ login: world.seeded.officer.login, from: "officer" });
    expect(row.occurred_at_jst).to.match(/\+09:00$/);
  });

  it("when the administrator invites an officer by address, then the mailed link, opened in the officer's own browser, sets their password and they log in", async function () {
    this.timeout(45_000);
    const added = await runAdmin(world.databasePath, ["orderer", "mail", "add", "022080", MAILBOX]);
    expect(added.status, added.stderr).to.equal(0);
    const page = world.browser.page;
    await page.goto(url("/admin/officers"));
    expect(await page.locator("#email-hint").innerText()).to.include("city.mutsu.lg.jp");
    await expectAxeClean(page, "/admin/officers");
    await page.fill("#login", INVITED.login);
    await page.fill("#displayName", INVITED.displayName);
    await page.fill("#email", INVITED.email);
    await page.focus("#email");
    expect((await pressAndWaitForPage(page)).pathname).to.equal("/admin/officers");
    expect(await visibleText(page)).to.include(`招待メールを送りました（${INVITED.email}）`);
    expect(await page.locator(`[data-officer="${INVITED.login}"]`).innerText()).to.include("招待中");

    const mails = smtp.received.filter((m) => m.envelopeTo.includes(INVITED.email));
    expect(mails).to.have.length(1);
    const link = new RegExp(`${publicBaseUrl.replaceAll(".", "\\.")}/invitations/([A-Za-z0-9_-]{43})`).exec(mails[0]!.parsed.text ?? "");
    expect(link, `the invitation's link in: ${mails[0]!.parsed.text}`).not.to.equal(null);
    expect(world.server.output(), "the token is not in the service's log").not.to.include(link![1]);

    // The officer's own browser: no cookie of the administrator's.
    const own = await launchChromium();
    try {
      const invited = own.page;
      await invited.goto(link![0]);
      expect((await invited.locator("main h1").innerText()).trim()).to.equal("パスワードの設定");
      expect(await invited.locator("[data-login]").innerText()).to.equal(INVITED.login);
      await expectAxeClean(invited, "the invitation's set-password page");
      await invited.fill("#newPassword", INVITED.password);
      await invited.fill("#confirmPassword", INVITED.password);
      await invited.focus("#confirmPassword");
      await pressAndWaitForPage(invited);
      expect(await visibleText(invited)).to.include("パスワードを設定しました");

      await invited.goto(url("/login"));
      await invited.fill("#username", INVITED.login);
      await invited.fill("#password", INVITED.password);
      await invited.focus("#password");
      expect((await pressAndWaitForPage(invited)).pathname).to.equal("/verify");
      expect(await visibleText(invited)).to.include(INVITED.displayName);

      const reused = await invited.goto(link![0]);
      expect(reused?.status(), "the link works once").to.equal(404);
      expect(own.problems.take(), "CSP violations, script errors or failed static files in the officer's browser").to.deep.equal([]);
    } finally {
      await own.close();
    }

    await page.reload();
    expect(await page.locator(`[data-officer="${INVITED.login}"]`).innerText()).not.to.include("招待中");
  });

  it("when the administrator logs out and gives the password again, then it leads to the code form, which passes axe, and not into /admin", async function () {
    this.timeout(30_000);
    const page = world.browser.page;
    await page.goto(url("/admin/officers"));
    await Promise.all([page.waitForURL(url("/login?bye=1")), page.click("form[action='/logout'] button[type=submit]")]);
    await page.fill("#username", world.seeded.officer.login);
    await page.fill("#password", administrator.password);
    await page.focus("#password");
    expect((await pressAndWaitForPage(page)).pathname).to.equal("/login/mfa");
    expect((await page.locator("main h1").innerText()).trim()).to.equal("確認コードの入力");
    await expectAxeClean(page, "/login/mfa");
    await page.goto(url("/admin/officers"));
    expect(new URL(page.url()).pathname, "the password alone opens no /admin page").not.to.equal("/admin/officers");
  });
});
