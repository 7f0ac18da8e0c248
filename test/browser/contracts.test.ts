import { AxeBuilder } from "@axe-core/playwright";
import { expect } from "chai";
import iconv from "iconv-lite";
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { fitsWidth, pressAndWaitForPage, visibleText } from "./support/browser.js";
import { createOfficerSession } from "./support/officer.js";
import { readPdf } from "./support/pdf.js";
import { useBrowserWorld } from "./support/world.js";

/** No serious or critical axe violation on the page. */
async function axeBlocking(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

describe("in Chromium: the contract register", function () {
  const world = useBrowserWorld("contracts");

  it("when an officer imports Excel's Shift_JIS ledger through the form, then the register shows a 要確認 row, and its contract prints on one A4 page; every page axe clean", async function () {
    this.timeout(90_000);
    const page = world.browser.page;
    const base = world.server.url;
    const officer = createOfficerSession(base, world.seeded);
    const sample = world.seeded.guarantees.sample;
    const shot = (name: string) => page.screenshot({ path: path.join(world.artifacts, `${name}.png`), fullPage: true });

    await officer.signIn(page);
    expect((await officer.verify(page, sample.certificate.contractNumber, sample.authKey)).pathname).to.equal(`/guarantees/${sample.certificate.contractNumber}`);

    // The nav leads to the register; it is empty at first.
    await page.click('nav a[href="/contracts"]');
    await page.waitForLoadState("load");
    expect(await visibleText(page)).to.include("まだ契約は登録されていません。");

    // Excel's 「CSV（コンマ区切り）」: Shift_JIS, CRLF, full-width digits, 円 and era dates. R8-002's
    // 前払金額 is above the sample's 保証金額 (20,000,000 円) and the 10分の4 ceiling.
    const { certificate } = sample;
    const ledger = iconv.encode([
      "契約番号,工事名,受注者,請負代金額,契約日,工期開始,工期終了,前払金額,中間前払金額,契約保証割合,保証契約番号",
      `R8-001,${certificate.projectName},${certificate.contractor.name},"５０,０００,０００円",${certificate.contractDate},${certificate.periodFrom},${certificate.periodTo},"20,000,000円",,,${certificate.contractNumber}`,
      `R8-002,${certificate.projectName},${certificate.contractor.name},50000000,${certificate.contractDate},${certificate.periodFrom},${certificate.periodTo},25000000,,,${certificate.contractNumber}`,
      "R8-003,むつ市道川内線舗装補修工事,××工業,18000000,令和8年4月1日,令和8年4月2日,令和9年3月19日,,,1/10,",
    ].join("\r\n") + "\r\n", "cp932");
    await page.setInputFiles("#ledger", { name: "契約台帳.csv", mimeType: "text/csv", buffer: ledger });
    await page.focus('form[action="/contracts/import"] button[type=submit]');
    expect((await pressAndWaitForPage(page)).pathname).to.equal("/contracts");
    expect(await visibleText(page)).to.include("契約台帳を取り込みました（新規 3件、変更 0件、変更なし 0件）。");

    const rows = await page.locator("tr[data-contract]").evaluateAll((trs) => trs.map((tr) => [tr.getAttribute("data-contract"), tr.getAttribute("data-state")]));
    expect(rows).to.deep.equal([["R8-001", "ok"], ["R8-002", "attention"], ["R8-003", "missing"]]);
    expect(await page.locator('tr[data-state="attention"]').innerText()).to.include("要確認");
    expect(await axeBlocking(page), "axe on the register").to.deep.equal([]);
    for (const [width, height] of [[1366, 768], [390, 844]] as const) {
      await page.setViewportSize({ width, height });
      expect(await fitsWidth(page), `the register at ${width}x${height} scrolls sideways`).to.include({ ok: true });
    }
    await page.setViewportSize({ width: 1366, height: 768 });
    await shot("01-register");

    // 要確認のみ.
    await page.check("#attention");
    await page.focus("#q");
    await pressAndWaitForPage(page);
    expect(await page.locator("tr[data-contract]").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-contract")))).to.deep.equal(["R8-002", "R8-003"]);

    // The contract: every check side by side, the failing ones said in words.
    await page.click('a[href="/contracts/R8-002"]');
    await page.waitForLoadState("load");
    const checks = await page.locator("tr[data-rule]").evaluateAll((trs) => trs.map((tr) => [tr.getAttribute("data-rule"), tr.getAttribute("data-result")]));
    expect(checks).to.deep.include.members([["advance-ceiling", "fail"], ["advance-amount", "fail"], ["contract-amount", "pass"], ["status", "pass"]]);
    const text = await visibleText(page);
    expect(text).to.include("状態: 要確認");
    expect(text).to.include("公共工事標準請負契約約款");
    expect(await axeBlocking(page), "axe on the contract").to.deep.equal([]);
    await shot("02-contract");

    // On paper: one A4 sheet, without the header and the buttons.
    await page.emulateMedia({ media: "print" });
    const printed = await visibleText(page);
    expect(printed).not.to.include("変更契約を入力");
    expect(printed).to.include("前払金保証の保証金額が前払金額以上であること");
    const pdf = await page.pdf({ format: "A4", printBackground: true });
    await page.emulateMedia({ media: null });
    writeFileSync(path.join(world.artifacts, "02-contract.pdf"), pdf);
    expect(readPdf(pdf).pages, "the contract prints on one A4 sheet").to.equal(1);

    // The guarantee's summary shows the 照合 of both contracts relying on it.
    await page.goto(`${base}/guarantees/${certificate.contractNumber}`);
    const relying = await page.locator("tr[data-contract]").evaluateAll((trs) => trs.map((tr) => [tr.getAttribute("data-contract"), tr.getAttribute("data-state")]));
    expect(relying).to.deep.equal([["R8-001", "ok"], ["R8-002", "attention"]]);
    expect(await axeBlocking(page), "axe on the summary").to.deep.equal([]);
  });
});
