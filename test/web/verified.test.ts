import { expect } from "chai";
import { givenGuarantees, givenOfficer, sampleCertificate } from "../support/given.js";
import { buildTestApp, loginAs, type WebWorld } from "../support/web.js";
import { tableRows, textOf, verify } from "./guarantees.helpers.js";

/** The list's rows as [contract number, 工事名, 商品名, 保証金額, 状態 (with its note), 最終確認日時, marks]. */
async function listed(agent: Awaited<ReturnType<typeof loginAs>>, query = "") {
  const res = await agent.get(`/verified${query}`);
  expect(res.status).to.equal(200);
  expect(res.headers["cache-control"]).to.equal("no-store");
  return { res, rows: res.text.includes("verified-table") ? tableRows(res.text, "verified-table") : [] };
}

const numbersOf = (rows: string[][]) => rows.map((r) => r[0]);

// Clock: 2026-11-25T01:00Z, Tokyo 2026-11-25 10:00. Dates that keep issuance's rules when the 保証期限 is near.
const SHORT_WORKS = { periodFrom: "2026-09-01", periodTo: "2026-12-01", contractDate: "2026-08-28", issuedOn: "2026-09-02" };

describe("verified list (/verified)", () => {
  let world: WebWorld;
  beforeEach(async () => { world = await buildTestApp(); });
  afterEach(() => world.close());

  async function givenOrdererHolding(certificates: Record<string, unknown>[]) {
    const officer = await givenOfficer(world);
    const issued = await givenGuarantees(world, certificates.map((c) => sampleCertificate(c)));
    const agent = await loginAs(world.app, officer.login, officer.password);
    for (const g of issued) {
      await verify(agent, g);
      world.clock.advance(60 * 1000);
    }
    return { officer, issued, agent };
  }

  it("when nothing was verified yet, then the list says so", async () => {
    const officer = await givenOfficer(world);
    const agent = await loginAs(world.app, officer.login, officer.password);
    const { res } = await listed(agent);
    expect(textOf(res.text)).to.contain("まだ確認した保証はありません。");
  });

  it("when several guarantees are verified, then they are listed newest verification first with their fields and status", async () => {
    const { agent } = await givenOrdererHolding([
      { contractNumber: "02208-000001" },
      { contractNumber: "02208-000002", product: "contract", depositBank: undefined, projectName: "むつ市立中学校校舎改築工事", guaranteeAmount: 5000000 },
    ]);
    const { rows } = await listed(agent);
    expect(rows).to.deep.equal([
      ["02208-000002", "むつ市立中学校校舎改築工事", "契約保証", "5,000,000 円", "有効", "令和8年11月25日 10:01", ""],
      ["02208-000001", "むつ市道大畑線道路改良工事", "前払金保証", "20,000,000 円", "有効", "令和8年11月25日 10:00", ""],
    ]);
  });

  it("when a colleague of the same orderer opens the list, then the guarantee opens from there without the key", async () => {
    await givenOrdererHolding([{}]);
    const colleague = await givenOfficer(world, { login: "mutsu-suzuki" });
    const agent = await loginAs(world.app, colleague.login, colleague.password);
    const { res, rows } = await listed(agent);
    expect(numbersOf(rows)).to.deep.equal(["02208-000001"]);
    expect(res.text).to.contain('<a href="/guarantees/02208-000001">02208-000001</a>');
    const summary = await agent.get("/guarantees/02208-000001");
    expect(summary.status).to.equal(200);
    expect(summary.text).to.contain("<h1>電子保証概要（前払金保証）</h1>");
    expect(textOf(summary.text)).to.contain("02208-000001").and.contain("むつ市道大畑線道路改良工事").and.contain("20,000,000 円");
    expect(summary.text).not.to.contain('name="authKey"');
    const certificate = await agent.get("/guarantees/02208-000001/certificate");
    expect(certificate.status).to.equal(200);
    expect(textOf(certificate.text)).to.contain("保証証書（前払金保証）").and.contain("むつ市道大畑線道路改良工事").and.contain("20,000,000");
  });

  it("when a guarantee is amended after it was opened, then it is marked 更新あり until someone of the orderer opens it", async () => {
    const { agent } = await givenOrdererHolding([{ contractNumber: "02208-000001" }, { contractNumber: "02208-000002" }]);
    expect((await listed(agent)).rows.map((r) => r[6])).to.deep.equal(["", ""]);
    world.services.guarantees.change("02208-000001", "amendment", { guaranteeAmount: 25000000 }, "test");
    let { rows } = await listed(agent);
    expect(rows.find((r) => r[0] === "02208-000001")![6]).to.equal("更新あり");
    expect(rows.find((r) => r[0] === "02208-000002")![6]).to.equal("");

    const colleague = await givenOfficer(world, { login: "mutsu-suzuki" });
    const other = await loginAs(world.app, colleague.login, colleague.password);
    await other.get("/guarantees/02208-000001");
    ({ rows } = await listed(agent));
    expect(rows.find((r) => r[0] === "02208-000001")![6], "a colleague's opening clears it for the orderer").to.equal("");
  });

  it("when a guarantee is corrected, withdrawn or cancelled after it was opened, then it is marked 更新あり", async () => {
    const { agent } = await givenOrdererHolding([{}]);
    const mark = async () => (await listed(agent)).rows[0]![6];
    world.services.guarantees.change("02208-000001", "correction", { projectName: "むつ市道大畑線道路改良工事（その2）" }, "test");
    expect(await mark()).to.equal("更新あり");
    await agent.get("/guarantees/02208-000001/certificate");
    expect(await mark()).to.equal("");
    world.services.guarantees.change("02208-000001", "amendment", { guaranteeAmount: 25000000 }, "test");
    await agent.get("/guarantees/02208-000001");
    world.services.guarantees.withdraw("02208-000001", "test");
    expect(await mark(), "withdrawn").to.equal("更新あり");
    await agent.get("/guarantees/02208-000001");
    world.services.guarantees.cancel("02208-000001", "請負契約の解除のため", "test");
    const { rows } = await listed(agent);
    expect(rows[0]![4]).to.equal("取消 この保証は令和8年11月25日 10:01に取り消されました。理由: 請負契約の解除のため");
    expect(rows[0]![6]).to.equal("更新あり");
  });

  it("when the 保証期限 is within 30 days in Tokyo, then it is marked 期限間近; not at 31 days, not once passed", async () => {
    const { agent } = await givenOrdererHolding([
      { ...SHORT_WORKS, contractNumber: "02208-000001", guaranteeExpiry: "2026-12-25" },
      { ...SHORT_WORKS, contractNumber: "02208-000002", guaranteeExpiry: "2026-12-26" },
      { ...SHORT_WORKS, contractNumber: "02208-000003", guaranteeExpiry: "2026-12-01" },
      { ...SHORT_WORKS, contractNumber: "02208-000004", periodTo: "2026-11-20", guaranteeExpiry: "2026-11-24" },
    ]);
    const { rows } = await listed(agent);
    const byNumber = Object.fromEntries(rows.map((r) => [r[0], [r[4], r[6]]]));
    expect(byNumber).to.deep.equal({
      "02208-000001": ["有効", "期限間近"],
      "02208-000002": ["有効", ""],
      "02208-000003": ["有効", "期限間近"],
      "02208-000004": ["期限切れ 保証期限（令和8年11月24日）を過ぎています。", ""],
    });
  });

  it("when filtered by status, then only guarantees in that status are listed, and an unknown status lists all", async () => {
    const { agent } = await givenOrdererHolding([
      { ...SHORT_WORKS, contractNumber: "02208-000001", guaranteeExpiry: "2026-12-25" },
      { ...SHORT_WORKS, contractNumber: "02208-000002", periodTo: "2026-11-20", guaranteeExpiry: "2026-11-24" },
      { contractNumber: "02208-000003" },
    ]);
    world.services.guarantees.cancel("02208-000003", "請負契約の解除のため", "test");
    expect(numbersOf((await listed(agent, "?status=valid")).rows)).to.deep.equal(["02208-000001"]);
    expect(numbersOf((await listed(agent, "?status=expired")).rows)).to.deep.equal(["02208-000002"]);
    expect(numbersOf((await listed(agent, "?status=cancelled")).rows)).to.deep.equal(["02208-000003"]);
    expect(numbersOf((await listed(agent, "?status=all")).rows)).to.have.length(3);
    expect(numbersOf((await listed(agent, "?status=bogus")).rows)).to.have.length(3);
    const { res } = await listed(agent, "?status=expired");
    expect(res.text).to.match(/<option value="expired" selected>期限切れ<\/option>/);
  });

  it("when the day passes at Tokyo midnight, then the status filter moves the guarantee from 有効 to 期限切れ with it", async () => {
    // 保証期限 2026-11-24; Tokyo's midnight after it is 15:00 UTC, while UTC is still on the 24th.
    world.clock.set("2026-11-24T14:58:00Z");
    const { agent } = await givenOrdererHolding([{ ...SHORT_WORKS, periodTo: "2026-11-20", guaranteeExpiry: "2026-11-24" }]);
    expect(numbersOf((await listed(agent, "?status=valid")).rows)).to.deep.equal(["02208-000001"]);
    expect((await listed(agent)).rows[0]![6]).to.equal("期限間近");
    world.clock.set("2026-11-24T15:00:00Z");
    expect(numbersOf((await listed(agent, "?status=valid")).rows)).to.deep.equal([]);
    expect(numbersOf((await listed(agent, "?status=expired")).rows)).to.deep.equal(["02208-000001"]);
    expect((await listed(agent)).rows[0]![6]).to.equal("");
  });

  it("when searched by 工事名 or by a contract number typed in full width, then the matching guarantees are listed", async () => {
    const { agent } = await givenOrdererHolding([
      { contractNumber: "02208-000001", projectName: "むつ市道大畑線道路改良工事" },
      { contractNumber: "02208-000002", projectName: "むつ市立中学校校舎改築工事" },
      { contractNumber: "02208-000003", projectName: "川内地区ＡＢＣ排水路工事" },
    ]);
    const search = async (q: string) => numbersOf((await listed(agent, `?q=${encodeURIComponent(q)}`)).rows);
    expect(await search("中学校")).to.deep.equal(["02208-000002"]);
    expect(await search("大畑線")).to.deep.equal(["02208-000001"]);
    expect(await search("ABC"), "half-width finds the full-width ＡＢＣ it was written with").to.deep.equal(["02208-000003"]);
    expect(await search("ａｂｃ"), "and case does not matter").to.deep.equal(["02208-000003"]);
    expect(await search("０２２０８－０００００２")).to.deep.equal(["02208-000002"]);
    expect(await search("02208ー000001"), "a long-vowel mark for the dash").to.deep.equal(["02208-000001"]);
    expect(await search(" 02208000003 ")).to.deep.equal(["02208-000003"]);
    expect(await search("000001")).to.deep.equal(["02208-000001"]);
    expect(await search("%")).to.deep.equal([]);
    const { res } = await listed(agent, `?q=${encodeURIComponent("存在しない工事")}`);
    expect(textOf(res.text)).to.contain("条件に一致する保証はありません。");
    expect(res.text).to.contain('value="存在しない工事"');
  });

  it("when another orderer has verified its own guarantees, then neither orderer sees the other's", async () => {
    await givenOrdererHolding([{ contractNumber: "02208-000001" }]);
    const other = await givenOfficer(world, { orderer: "022012", login: "aomori-sato" });
    const [theirs] = await givenGuarantees(world, [sampleCertificate({ contractNumber: "02201-000009", orderer: { code: "022012", title: "青森市長" } })]);
    const agent = await loginAs(world.app, other.login, other.password);
    await verify(agent, theirs!);
    expect(numbersOf((await listed(agent)).rows)).to.deep.equal(["02201-000009"]);
    expect(numbersOf((await listed(agent, "?q=02208-000001")).rows)).to.deep.equal([]);
  });

  it("when a guarantee's 工事名, 保証期限 or status changes after it was verified, then search and the status filter follow the change", async () => {
    const held = await givenOrdererHolding([{ ...SHORT_WORKS, contractNumber: "02208-000001", guaranteeExpiry: "2026-12-25" }, { contractNumber: "02208-000002" }]);
    let agent = held.agent;
    const search = async (q: string, status = "all") => numbersOf((await listed(agent, `?status=${status}&q=${encodeURIComponent(q)}`)).rows);
    world.services.guarantees.change("02208-000001", "correction", { projectName: "むつ市川内地区排水路工事" }, "test");
    expect(await search("川内地区"), "the corrected 工事名").to.deep.equal(["02208-000001"]);
    expect(await search("大畑線"), "the old 工事名 only on the other").to.deep.equal(["02208-000002"]);
    const amended = world.services.guarantees.change("02208-000001", "amendment", { guaranteeExpiry: "2026-11-26", periodTo: "2026-11-20" }, "test");
    expect(amended.ok, JSON.stringify(amended)).to.equal(true);
    world.clock.advance(2 * 24 * 3600 * 1000);
    agent = await loginAs(world.app, held.officer.login, held.officer.password);
    expect(await search("", "expired"), "amended to a 保証期限 that has passed since").to.deep.equal(["02208-000001"]);
    world.services.guarantees.withdraw("02208-000001", "test");
    expect(await search("", "expired"), "the amendment withdrawn").to.deep.equal([]);
    expect(await search("", "valid")).to.deep.equal(["02208-000002", "02208-000001"]);
    world.services.guarantees.cancel("02208-000002", "請負契約の解除のため", "test");
    expect(await search("", "cancelled")).to.deep.equal(["02208-000002"]);
    expect(await search("", "valid")).to.deep.equal(["02208-000001"]);
  });

  describe("a page at a time", () => {
    /** `count` guarantees held by むつ市, verified a minute apart (02208-000001 first), recorded
     * through the holdings repository as a verification records them (argon2 for each would be slow). */
    async function givenManyHeld(count: number, overrides: (i: number) => Record<string, unknown> = () => ({})) {
      const { officer, login, password } = await givenOfficer(world);
      const issued = await givenGuarantees(world, Array.from({ length: count }, (_, i) =>
        sampleCertificate({ contractNumber: `02208-${String(i + 1).padStart(6, "0")}`, ...overrides(i) })));
      for (const g of issued) {
        const guarantee = world.repositories.guarantees.findByContractNumber(g.contractNumber)!;
        const at = world.clock.now().toISOString();
        world.repositories.holdings.recordVerified({
          ordererId: officer.ordererId, guaranteeId: guarantee.id, verifiedBy: { kind: "officer", id: officer.id }, at,
          versionId: world.repositories.guarantees.currentVersion(guarantee.id)!.id, status: "valid",
        });
        world.clock.advance(60 * 1000);
      }
      return loginAs(world.app, login, password);
    }
    const nextHref = (html: string) => /<a href="([^"]+)" data-page="next"/.exec(html)?.[1]?.replaceAll("&amp;", "&").replaceAll("&#x3D;", "=");
    const number = (n: number) => `02208-${String(n).padStart(6, "0")}`;

    it("when the orderer holds 230 guarantees, then they come 100 a page, newest first, each once, and 次の100件 stops on the last page", async () => {
      const agent = await givenManyHeld(230);
      const first = await listed(agent);
      expect(numbersOf(first.rows)).to.deep.equal(Array.from({ length: 100 }, (_, i) => number(230 - i)));
      expect(textOf(first.res.text)).to.contain("100件（さらに続きがあります）").and.contain("次の100件");
      expect(first.res.text).not.to.contain('data-page="first"');
      const secondHref = nextHref(first.res.text)!;
      expect(secondHref).to.match(/^\/verified\?after=2026-11-25T/);
      const second = await listed(agent, secondHref.slice("/verified".length));
      expect(numbersOf(second.rows)).to.deep.equal(Array.from({ length: 100 }, (_, i) => number(130 - i)));
      expect(second.res.text).to.contain('<a href="/verified" data-page="first">最初のページへ</a>');
      const third = await listed(agent, nextHref(second.res.text)!.slice("/verified".length));
      expect(numbersOf(third.rows)).to.deep.equal(Array.from({ length: 30 }, (_, i) => number(30 - i)));
      expect(textOf(third.res.text)).to.contain("続き: 30件");
      expect(nextHref(third.res.text), "no 次の100件 on the last page").to.equal(undefined);
    });

    it("when filtered by status across pages, then the next page keeps the filter and still sees every guarantee held", async () => {
      // Every third guarantee is a 契約保証 expiring before today: the 期限切れ filter finds 70 of 210, spread over the whole list.
      const agent = await givenManyHeld(210, (i) => (i % 3 === 0 ? { ...SHORT_WORKS, periodTo: "2026-11-20", guaranteeExpiry: "2026-11-24" } : {}));
      const expired = Array.from({ length: 210 }, (_, i) => i + 1).filter((n) => (n - 1) % 3 === 0).reverse().map(number);
      const first = await listed(agent, "?status=expired");
      expect(numbersOf(first.rows)).to.deep.equal(expired.slice(0, 70));
      expect(nextHref(first.res.text)).to.equal(undefined);
      const search = await listed(agent, "?q=00020");
      expect(numbersOf(search.rows)).to.deep.equal(["02208-000209", "02208-000208", "02208-000207", "02208-000206", "02208-000205", "02208-000204", "02208-000203", "02208-000202", "02208-000201", "02208-000200", "02208-000020"]);
      const valid = await listed(agent, "?status=valid");
      expect(numbersOf(valid.rows)).to.have.length(100);
      const href = nextHref(valid.res.text)!;
      expect(href).to.contain("status=valid").and.contain("after=");
      const rest = await listed(agent, href.slice("/verified".length));
      expect(numbersOf(rest.rows)).to.have.length(40);
      expect([...numbersOf(valid.rows), ...numbersOf(rest.rows)].every((n) => !expired.includes(n!))).to.equal(true);
    });

    it("when the after= cursor is altered or names a guarantee the orderer does not hold, then the first page comes with a notice, never an error", async () => {
      const agent = await givenManyHeld(3);
      await givenGuarantees(world, [sampleCertificate({ contractNumber: "02208-000099" })]);
      for (const cursor of ["garbage", "2026-11-25T01:00:00.000Z_02208-000099", "2026-11-25T01:00:00.000Z_02208-999999", "2026-13-99T01:00:00.000Z_02208-000001x"]) {
        const { res, rows } = await listed(agent, `?after=${encodeURIComponent(cursor)}`);
        expect(numbersOf(rows), cursor).to.deep.equal([number(3), number(2), number(1)]);
        expect(textOf(res.text), cursor).to.contain("ページの続きの位置（after）を読み取れなかったため、最初のページを表示しています。");
      }
    });
  });
});
