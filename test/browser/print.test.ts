import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { formatEraDate, tokyoDate } from "../../src/format/era-date.js";
import { formatYen } from "../../src/format/yen.js";
import { artifactsDir, fitsWidth, launchChromium, requireChromium, tofuIn, visibleText, type Browser } from "./support/browser.js";
import { createOfficerSession } from "./support/officer.js";
import { A4_POINTS, readPdf } from "./support/pdf.js";
import { ISSUER, OFFICER, seededDatabase, type Certificate, type Kind, type Seeded } from "./support/seed.js";
import { startServer, type RunningServer } from "./support/server.js";

const PRODUCT_NAMES = { advance: "前払金保証", interim: "中間前払金保証", contract: "契約保証" } as const;

/** A4 less print.css's @page margins (15 mm each side), in CSS pixels at 96 per inch. */
const A4_PRINTABLE_WIDTH_PX = Math.floor(((210 - 2 * 15) / 25.4) * 96);

/** "label value" pairs as the certificate prints them, in words a reader checks against the source. */
function expectedCertificateText(c: Certificate): string[] {
  const era = formatEraDate;
  return [
    `保証証書（${PRODUCT_NAMES[c.product]}）`,
    era(c.issuedOn),
    `保証契約番号 ${c.contractNumber}`,
    `保証契約者 ${c.contractor.address} ${c.contractor.name}${c.contractor.jvName ? ` （${c.contractor.jvName}）` : ""}`,
    `工事名 ${c.projectName}`,
    ...(c.projectLocation ? [`工事場所 ${c.projectLocation}`] : []),
    `工期 ${era(c.periodFrom)} ～ ${era(c.periodTo)}`,
    `${c.product === "contract" ? "請負契約日" : "発注契約日"} ${era(c.contractDate)}`,
    `請負金額 ${formatYen(c.contractAmount)}`,
    `保証金額 ${formatYen(c.guaranteeAmount)}`,
    `保証期限 ${era(c.guaranteeExpiry)}`,
    ...(c.depositBank ? [`預託金融機関 ${c.depositBank}`] : []),
    `発注者 ${c.orderer.title}`,
    `${PRODUCT_NAMES[c.product]}約款に基づき上記のとおり保証契約を締結し`,
    `${ISSUER.address} ${ISSUER.name} ${ISSUER.representativeTitle} ${ISSUER.representativeName}`,
    `取扱箇所 ${c.branch.name}`,
    `TEL ${c.branch.tel}`,
    ...(c.branch.fax ? [`FAX ${c.branch.fax}`] : []),
    `確認者 ${OFFICER.ordererName} ${OFFICER.displayName}`,
  ];
}

/** The elements print.css must hide: navigation, the logout form, 印刷 / 戻る, the footer. */
const SCREEN_ONLY = "header, nav, footer, form[action='/logout'], button, .page-actions, .skip-link, a.button";

async function visibleMatches(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).evaluateAll((elements) =>
    elements.filter((e) => e.checkVisibility()).map((e) => e.outerHTML.replace(/\s+/g, " ").slice(0, 100)));
}

describe("in Chromium: printing each kind of certificate on A4", function () {
  let dir: string;
  let seeded: Seeded;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let artifacts: string;

  before(async function () {
    requireChromium(this);
    this.timeout(90_000);
    dir = mkdtempSync(path.join(tmpdir(), "kakunin-browser-"));
    artifacts = artifactsDir("print");
    const [seed, launched] = await Promise.all([seededDatabase(dir), launchChromium()]);
    browser = launched;
    seeded = seed.seeded;
    server = await startServer(seed.databasePath);
    // Only guarantees this orderer has verified can be opened: verify each once, through the form.
    const officer = createOfficerSession(server.url, seeded);
    await officer.signIn(browser.page);
    for (const { certificate, authKey } of Object.values(seeded.guarantees)) {
      const landed = await officer.verify(browser.page, certificate.contractNumber, authKey);
      if (landed.pathname !== `/guarantees/${certificate.contractNumber}`) throw new Error(`${certificate.contractNumber} did not verify: ${landed.href}`);
    }
  });

  after(async function () {
    this.timeout(20_000);
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async function () {
    if (!browser || !server) return;
    await browser.page.emulateMedia({ media: null });
    await browser.page.setViewportSize({ width: 1366, height: 768 });
    expect(browser.problems.take(), "CSP violations, script errors or failed static files").to.deep.equal([]);
    expect(server.takeErrors(), "errors in the server log").to.deep.equal([]);
  });

  const cases: { kind: Kind; title: string; marks: string[] }[] = [
    { kind: "sample", title: "the source document's 前払金保証", marks: ["状態: 有効"] },
    { kind: "interim", title: "a 中間前払金保証", marks: ["状態: 有効"] },
    { kind: "contract", title: "a 契約保証", marks: ["状態: 有効"] },
    { kind: "amended", title: "an amended 前払金保証 with a JV and long names", marks: ["状態: 有効", "変更-1"] },
    { kind: "cancelled", title: "a cancelled 前払金保証", marks: ["状態: 取消", "理由: 契約解除のため", "取消"] },
    { kind: "expired", title: "an expired 契約保証", marks: ["状態: 期限切れ", "期限切れ"] },
  ];

  for (const { kind, title, marks } of cases) {
    it(`when ${title} is opened and printed, then the screen holds at 1366 and 390 px wide and the A4 PDF is one page with every field, its status, 確認者 and 確認日時, and no navigation`, async function () {
      this.timeout(30_000);
      const page = browser!.page;
      const { certificate, status } = seeded.guarantees[kind];
      const name = `${kind}-${certificate.contractNumber}`;
      await page.goto(`${server!.url}/guarantees/${certificate.contractNumber}/certificate`);

      // On screen, at a municipal PC's and at a phone's width.
      expect(await fitsWidth(page), "no sideways scroll at 1366 px").to.include({ ok: true });
      await page.screenshot({ path: path.join(artifacts, `${name}-screen-1366.png`), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await fitsWidth(page), "no sideways scroll at 390 px").to.include({ ok: true });
      await page.screenshot({ path: path.join(artifacts, `${name}-screen-390.png`), fullPage: true });
      await page.setViewportSize({ width: 1366, height: 768 });
      expect(await visibleMatches(page, "button[data-print]"), "the 印刷 button shows on screen").to.have.length(1);

      // As printed: every field, the status, who verified it and when; nothing to click.
      const before = formatEraDate(tokyoDate(new Date()));
      await page.emulateMedia({ media: "print" });
      const text = await visibleText(page);
      for (const expected of [...expectedCertificateText(certificate), ...marks]) expect(text).to.include(expected);
      expect(text).to.match(new RegExp(`確認日時 (${before}|${formatEraDate(tokyoDate(new Date()))}) \\d{1,2}:\\d{2}`));
      expect(text).to.include(`状態 ${status}`);
      expect(await visibleMatches(page, SCREEN_ONLY), "navigation and buttons hidden on paper").to.deep.equal([]);
      for (const word of ["ログアウト", "印刷", "戻る", "電子保証の確認", "確認済みの保証"]) expect(text).not.to.include(word);

      // Nothing runs off the side of the sheet; the screenshot is the sheet's printable width.
      await page.setViewportSize({ width: A4_PRINTABLE_WIDTH_PX, height: 1000 });
      expect(await fitsWidth(page), "print layout fits the A4 printable width").to.include({ ok: true });
      await page.screenshot({ path: path.join(artifacts, `${name}-print.png`), fullPage: true });

      const bytes = await page.pdf({ format: "A4", printBackground: true });
      writeFileSync(path.join(artifacts, `${name}.pdf`), bytes);
      const pdf = readPdf(bytes);
      expect(pdf.pages, "PDF page objects").to.equal(1);
      expect(pdf.declaredPages, "the page tree's /Count").to.equal(1);
      expect(pdf.width).to.be.closeTo(A4_POINTS.width, 1.5);
      expect(pdf.height).to.be.closeTo(A4_POINTS.height, 1.5);
      expect(pdf.fonts.filter((f) => /CJK|IPA/i.test(f)), `a Japanese font is embedded (fonts: ${pdf.fonts.join(", ")})`).not.to.be.empty;
    });
  }

  it("when the certificate is drawn, then its Japanese text renders in a Japanese font on screen and on paper, not as tofu boxes", async function () {
    const page = browser!.page;
    await page.goto(`${server!.url}/guarantees/02208-000001/certificate`);
    const sample = "保証証書前払金契約者確認日時令和年月円ログアウト印刷戻る〇〇建設株式会社むつ市長０２２０８－";
    for (const media of ["screen", "print"] as const) {
      await page.emulateMedia({ media });
      for (const selector of ["body", ".certificate", ".verification-footer"]) {
        const drawn = await tofuIn(page, selector, sample);
        expect(drawn.tofu, `tofu in ${selector} (${media}), font-family ${drawn.fontFamily}`).to.deep.equal([]);
      }
    }
  });
});
