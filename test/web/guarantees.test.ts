import { expect } from "chai";
import { givenGuarantees, givenOfficer, sampleCertificate } from "../support/given.js";
import { buildTestApp, loginAs, type WebWorld } from "../support/web.js";
import { auditEvents, givenVerifiedSample, linksOf, rowClasses, tableRows, textOf, verify, withoutRequestId } from "./guarantees.helpers.js";

const NUMBER = "02208-000001";
/** Works and dates that end with a 保証期限 of 2026-11-24, the day before the test clock's (2026-11-25 10:00 in Tokyo). */
const EXPIRING_ON_24TH = { periodFrom: "2026-09-01", periodTo: "2026-11-20", contractDate: "2026-08-28", issuedOn: "2026-09-02", guaranteeExpiry: "2026-11-24" };

describe("guarantee pages", () => {
  let world: WebWorld;
  beforeEach(async () => { world = await buildTestApp(); });
  afterEach(() => world.close());

  describe("summary and history", () => {
    it("when the sample is verified, then the summary shows its fields formatted and the history one 新規 row", async () => {
      const { agent } = await givenVerifiedSample(world);
      const res = await agent.get(`/guarantees/${NUMBER}`);
      expect(res.status).to.equal(200);
      expect(res.headers["cache-control"]).to.equal("no-store");
      const text = textOf(res.text);
      expect(text).to.contain("電子保証概要（前払金保証）");
      expect(text).to.contain("※最新の情報を表示しています");
      expect(tableRows(res.text, "kv-table")).to.deep.equal([
        ["保証契約番号", NUMBER], ["状態", "有効"], ["請負契約者", "〇〇建設 株式会社"], ["JV名", "なし"],
        ["工事名", "むつ市道大畑線道路改良工事"], ["発注者名", "むつ市長"], ["請負金額", "50,000,000 円"],
        ["保証金額", "20,000,000 円"], ["商品名", "前払金保証"], ["預託金融機関", "青森銀行 むつ支店"],
      ]);
      // Issued and verified at 2026-11-25T01:00Z, which is 10:00 in Tokyo.
      expect(tableRows(res.text, "history-table")).to.deep.equal([["1", "2026/11/25 10:00", "新規 最新", "表示 （新規）"]]);
      expect(res.text).to.contain(`href="/guarantees/${NUMBER}/versions/1"`);
      expect(res.text).to.contain(`href="/guarantees/${NUMBER}/certificate"`);
      expect(res.text, "the first version has nothing to compare with").not.to.contain("前の版と比較");
    });

    it("when the summary is opened, then a guarantee_view audit row is committed with the officer, orderer, address and number", async () => {
      const { agent, officer } = await givenVerifiedSample(world);
      await agent.get(`/guarantees/${NUMBER}`);
      const rows = auditEvents(world, "guarantee_view");
      expect(rows).to.have.length(1);
      expect(rows[0]).to.include({ outcome: "ok", actor_kind: "officer", actor: officer.login, officer_id: officer.officer.id, orderer_code: "022080", contract_number: NUMBER });
      expect(rows[0]!.client_address).to.be.a("string").and.not.equal("");
    });

    it("when the guarantee is amended, then the history lists 新規 and 変更-1, the latter comparable with the former", async () => {
      const { agent } = await givenVerifiedSample(world);
      world.clock.advance(20 * 60 * 1000);
      const amended = world.services.guarantees.change(NUMBER, "amendment", { guaranteeAmount: 25000000 }, "test");
      expect(amended.ok).to.equal(true);
      const res = await agent.get(`/guarantees/${NUMBER}`);
      expect(tableRows(res.text, "history-table")).to.deep.equal([
        ["1", "2026/11/25 10:00", "新規", "表示 （新規）"],
        ["2", "2026/11/25 10:20", "変更-1 最新", "表示 （変更-1） 前の版と比較 （変更-1）"],
      ]);
      expect(res.text).to.contain(`href="/guarantees/${NUMBER}/versions/2/diff"`);
      expect(tableRows(res.text, "kv-table")).to.deep.include(["保証金額", "25,000,000 円"]);
    });

    it("when a version is corrected, then the default history hides it and ?all=1 lists it marked 訂正済み with the time", async () => {
      const { agent } = await givenVerifiedSample(world);
      world.services.guarantees.change(NUMBER, "amendment", { guaranteeAmount: 25000000 }, "test");
      world.clock.advance(15 * 60 * 1000);
      world.services.guarantees.change(NUMBER, "correction", { projectName: "むつ市道大畑線道路改良工事（その2）" }, "test");

      const shown = await agent.get(`/guarantees/${NUMBER}`);
      expect(tableRows(shown.text, "history-table").map((r) => r[2])).to.deep.equal(["新規", "変更-1（訂正） 最新"]);
      expect(shown.text).not.to.contain("訂正済み");
      expect(linksOf(shown.text)).to.deep.include(["訂正・変更取消された履歴も表示", `/guarantees/${NUMBER}?all=1`]);

      const all = await agent.get(`/guarantees/${NUMBER}?all=1`);
      expect(all.status).to.equal(200);
      expect(tableRows(all.text, "history-table").map((r) => r[2])).to.deep.equal([
        "新規", "変更-1 訂正済み（2026/11/25 10:15）", "変更-1（訂正） 最新",
      ]);
      expect(rowClasses(all.text, "history-table")[1]).to.contain("history-row--retracted");
      expect(linksOf(all.text)).to.deep.include(["訂正・変更取消された履歴を隠す", `/guarantees/${NUMBER}`]);
    });

    it("when a 変更 is withdrawn, then ?all=1 marks it 変更取消 and the certificate is the original again", async () => {
      const { agent } = await givenVerifiedSample(world);
      world.services.guarantees.change(NUMBER, "amendment", { guaranteeAmount: 25000000 }, "test");
      world.services.guarantees.withdraw(NUMBER, "test");
      const all = await agent.get(`/guarantees/${NUMBER}?all=1`);
      expect(tableRows(all.text, "history-table").map((r) => r[2])).to.deep.equal(["新規 最新", "変更-1 変更取消（2026/11/25 10:00）"]);
      const certificate = await agent.get(`/guarantees/${NUMBER}/certificate`);
      expect(textOf(certificate.text)).to.contain("20,000,000 円");
      expect(certificate.text).not.to.contain("certificate__amendment");
    });
  });

  describe("certificate", () => {
    it("when the certificate is opened, then it is laid out as the source document's 保証証書 with 確認者 and 確認日時", async () => {
      const { agent } = await givenVerifiedSample(world);
      const res = await agent.get(`/guarantees/${NUMBER}/certificate`);
      expect(res.status).to.equal(200);
      expect(res.headers["cache-control"]).to.equal("no-store");
      const text = textOf(res.text);
      expect(text).to.contain("令和8年11月5日 保証証書（前払金保証）");
      expect(tableRows(res.text, "certificate__table")).to.deep.equal([
        ["保証契約番号", NUMBER],
        ["保証契約者", "青森県むつ市中央一丁目8番1号 〇〇建設 株式会社"],
        ["工事名", "むつ市道大畑線道路改良工事"],
        ["工事場所", "むつ市大畑町"],
        ["工期", "令和8年11月4日 ～ 令和9年3月19日"],
        ["発注契約日", "令和8年11月2日"],
        ["請負金額", "50,000,000 円"],
        ["保証金額", "20,000,000 円"],
        ["保証期限", "令和9年4月18日"],
        ["預託金融機関", "青森銀行 むつ支店"],
        ["発注者", "むつ市長"],
      ]);
      expect(text).to.contain("当社は、前払金保証約款に基づき上記のとおり保証契約を締結し、その責に任じます。");
      expect(text).to.contain("東京都中央区八丁堀2丁目27番10号 東日本建設業保証株式会社 取締役社長 原田 保夫");
      expect(text).to.contain("取扱箇所 青森支店 TEL 017-722-7262 FAX 017-722-7263");
      expect(text).to.contain("（注）");
      expect(text).to.contain("表題の下に変更－の表示と変更の発生番号を付記");
      expect(text).to.contain("確認者 むつ市 田中 一郎 確認日時 令和8年11月25日 10:00 状態 有効");
      expect(res.text, "the 戻る link leads to the summary").to.match(new RegExp(`<a class="button button--secondary" href="/guarantees/${NUMBER}">戻る</a>`));
      expect(res.text, "印刷 is a hidden button that print.js reveals").to.match(/<button type="button" class="button" data-print hidden>印刷<\/button>/);
      expect(res.text).to.contain('<script src="/static/print.js" defer></script>');
      expect(res.text, "the latest version is not marked as outdated").not.to.contain("この証書は最新ではありません");
      expect(res.text, "a valid certificate carries no stamp").not.to.contain("certificate__stamp");
    });

    it("when the certificate is opened, then a certificate_view audit row names the version, committed before the page", async () => {
      const { agent } = await givenVerifiedSample(world);
      await agent.get(`/guarantees/${NUMBER}/certificate`);
      await agent.get(`/guarantees/${NUMBER}/versions/1`);
      const rows = auditEvents(world, "certificate_view");
      expect(rows.map((r) => [r.contract_number, r.actor, JSON.parse(String(r.detail)).sequence])).to.deep.equal([
        [NUMBER, "mutsu-tanaka", 1], [NUMBER, "mutsu-tanaka", 1],
      ]);
      expect(world.services.audit.verifyChain().ok).to.equal(true);
    });

    it("when amended, then the certificate shows 変更-1 under the title and the old version says it is not the latest", async () => {
      const { agent } = await givenVerifiedSample(world);
      world.services.guarantees.change(NUMBER, "amendment", { guaranteeAmount: 25000000 }, "test");
      const latest = await agent.get(`/guarantees/${NUMBER}/certificate`);
      expect(textOf(latest.text)).to.contain("令和8年11月25日 保証証書（前払金保証） 変更-1 保証契約の内容");
      expect(latest.text).to.contain('<p class="certificate__amendment">変更-1</p>');
      expect(tableRows(latest.text, "certificate__table")).to.deep.include(["保証金額", "25,000,000 円"]);
      expect(latest.text).not.to.contain("この証書は最新ではありません");

      const same = await agent.get(`/guarantees/${NUMBER}/versions/2`);
      expect(textOf(same.text)).to.contain("変更-1");
      expect(same.text).not.to.contain("この証書は最新ではありません");

      const old = await agent.get(`/guarantees/${NUMBER}/versions/1`);
      expect(old.status).to.equal(200);
      expect(old.text).to.match(/<div class="alert alert--warn" role="alert">\s*<strong>この証書は最新ではありません。<\/strong>/);
      expect(old.text).to.contain(`<a href="/guarantees/${NUMBER}/versions/2">最新の証書（変更-1）を表示</a>`);
      expect(tableRows(old.text, "certificate__table")).to.deep.include(["保証金額", "20,000,000 円"]);
      expect(old.text).not.to.contain("certificate__amendment");
    });

    it("when the guarantee is a 契約保証, then the title, clause and 請負契約日 say so and there is no 預託金融機関", async () => {
      const officer = await givenOfficer(world);
      const [issued] = await givenGuarantees(world, [sampleCertificate({ product: "contract", depositBank: undefined, contractor: { name: "むつ特定JV 代表 〇〇建設 株式会社", address: "青森県むつ市中央一丁目8番1号", jvName: "むつ・大畑特定建設工事共同企業体" } })]);
      const agent = await loginAs(world.app, officer.login, officer.password);
      await verify(agent, issued!);
      const res = await agent.get(`/guarantees/${NUMBER}/certificate`);
      const text = textOf(res.text);
      expect(text).to.contain("保証証書（契約保証）");
      expect(text).to.contain("当社は、契約保証約款に基づき上記のとおり保証契約を締結し、その責に任じます。");
      const rows = tableRows(res.text, "certificate__table");
      expect(rows).to.deep.include(["保証契約者", "青森県むつ市中央一丁目8番1号 むつ特定JV 代表 〇〇建設 株式会社 （むつ・大畑特定建設工事共同企業体）"]);
      expect(rows).to.deep.include(["請負契約日", "令和8年11月2日"]);
      expect(rows.map((r) => r[0])).not.to.include("預託金融機関");
      const summary = await agent.get(`/guarantees/${NUMBER}`);
      expect(textOf(summary.text)).to.contain("電子保証概要（契約保証）");
      expect(tableRows(summary.text, "kv-table")).to.deep.include(["JV名", "むつ・大畑特定建設工事共同企業体"]);
      expect(tableRows(summary.text, "kv-table").map((r) => r[0])).not.to.include("預託金融機関");
    });
  });

  describe("version diff", () => {
    it("when a version corrects two fields, then exactly those rows are highlighted with old and new values side by side", async () => {
      const { agent } = await givenVerifiedSample(world);
      world.services.guarantees.change(NUMBER, "correction", { projectName: "むつ市道大畑線道路改良工事（その2）", guaranteeAmount: 18000000 }, "test");
      const res = await agent.get(`/guarantees/${NUMBER}/versions/2/diff`);
      expect(res.status).to.equal(200);
      expect(res.headers["cache-control"]).to.equal("no-store");
      const rows = tableRows(res.text, "diff-table");
      const classes = rowClasses(res.text, "diff-table");
      const changed = rows.filter((_, i) => classes[i]!.includes("diff-row--changed"));
      expect(changed).to.deep.equal([
        ["工事名 変更あり", "むつ市道大畑線道路改良工事", "むつ市道大畑線道路改良工事（その2）"],
        ["保証金額 変更あり", "20,000,000 円", "18,000,000 円"],
      ]);
      expect(res.text.match(/変更あり<\/span>/g)).to.have.length(2);
      expect(rows.map((r) => r[0])).to.include.members(["発行日", "保証契約番号", "請負金額", "保証期限", "預託金融機関", "発注者", "取扱箇所", "取扱箇所 FAX"]);
      expect(rows.find((r) => r[0] === "請負金額")).to.deep.equal(["請負金額", "50,000,000 円", "50,000,000 円"]);
      expect(textOf(res.text)).to.contain("変更のあった項目: 2件");
      expect(auditEvents(world, "version_diff_view")).to.have.length(1);
    });

    it("when an amendment is compared, then its new 発行日 shows as changed too", async () => {
      const { agent } = await givenVerifiedSample(world);
      world.services.guarantees.change(NUMBER, "amendment", { periodTo: "2027-03-26" }, "test");
      const res = await agent.get(`/guarantees/${NUMBER}/versions/2/diff`);
      const classes = rowClasses(res.text, "diff-table");
      const changed = tableRows(res.text, "diff-table").filter((_, i) => classes[i]!.includes("diff-row--changed"));
      expect(changed).to.deep.equal([
        ["発行日 変更あり", "令和8年11月5日", "令和8年11月25日"],
        ["工期（至） 変更あり", "令和9年3月19日", "令和9年3月26日"],
      ]);
    });

    it("when the first version or a version that does not exist is asked to compare, then the answer is 404", async () => {
      const { agent } = await givenVerifiedSample(world);
      expect((await agent.get(`/guarantees/${NUMBER}/versions/1/diff`)).status).to.equal(404);
      expect((await agent.get(`/guarantees/${NUMBER}/versions/2/diff`)).status).to.equal(404);
    });
  });

  describe("status", () => {
    it("when the guarantee is cancelled, then every page says 取消 with the date and reason, and the certificate is stamped", async () => {
      const { agent } = await givenVerifiedSample(world);
      world.clock.advance(5 * 60 * 1000);
      expect(world.services.guarantees.cancel(NUMBER, "請負契約の解除のため", "test").ok).to.equal(true);
      const expected = "状態: 取消 この保証は令和8年11月25日 10:05に取り消されました。理由: 請負契約の解除のため";
      for (const url of [`/guarantees/${NUMBER}`, `/guarantees/${NUMBER}/certificate`, `/guarantees/${NUMBER}/versions/1`]) {
        const res = await agent.get(url);
        expect(res.status, url).to.equal(200);
        expect(res.text, url).to.match(/<div class="status-banner status-banner--cancelled" role="alert">/);
        expect(textOf(res.text), url).to.contain(expected);
      }
      const certificate = await agent.get(`/guarantees/${NUMBER}/certificate`);
      expect(certificate.text).to.contain('<article class="certificate certificate--cancelled"');
      expect(certificate.text).to.contain('<div class="certificate__stamp" aria-hidden="true">取消</div>');
      expect(textOf(certificate.text), "the paper's footer says it too").to.contain("確認日時 令和8年11月25日 10:05 状態 取消");
    });

    it("when the 保証期限 is today in Tokyo it is 有効, and from Tokyo's next midnight, while UTC is still on that day, 期限切れ", async () => {
      // 保証期限 2026-11-24: 23:59 in Tokyo on the 24th is 14:59 UTC; Tokyo's midnight is 15:00 UTC, still the 24th in UTC.
      world.clock.set("2026-11-24T14:59:00Z");
      const { agent } = await givenVerifiedSample(world, EXPIRING_ON_24TH);
      let res = await agent.get(`/guarantees/${NUMBER}/certificate`);
      expect(res.text).to.match(/<div class="status-banner status-banner--valid" role="status">/);
      expect(textOf(res.text)).to.contain("状態: 有効 保証期限 令和8年11月24日 まで有効です。");
      expect(res.text).not.to.contain("certificate__stamp");

      world.clock.set("2026-11-24T15:00:00Z");
      for (const url of [`/guarantees/${NUMBER}`, `/guarantees/${NUMBER}/certificate`]) {
        res = await agent.get(url);
        expect(res.text, url).to.match(/<div class="status-banner status-banner--expired" role="alert">/);
        expect(textOf(res.text), url).to.contain("状態: 期限切れ 保証期限（令和8年11月24日）を過ぎています。");
      }
      expect(res.text).to.contain('<article class="certificate certificate--expired"');
      expect(res.text).to.contain('<div class="certificate__stamp" aria-hidden="true">期限切れ</div>');
      expect(textOf(res.text)).to.contain("確認日時 令和8年11月25日 00:00 状態 期限切れ");
    });

    it("when a guarantee is both cancelled and past its 保証期限, then it says 取消", async () => {
      const { agent } = await givenVerifiedSample(world, EXPIRING_ON_24TH);
      world.services.guarantees.cancel(NUMBER, "請負契約の解除のため", "test");
      const res = await agent.get(`/guarantees/${NUMBER}`);
      expect(textOf(res.text)).to.contain("状態: 取消");
      expect(res.text).not.to.contain("期限切れ");
    });
  });

  describe("access", () => {
    const urls = (n: string) => [
      `/guarantees/${n}`, `/guarantees/${n}?all=1`, `/guarantees/${n}/certificate`, `/guarantees/${n}/versions/1`,
      `/guarantees/${n}/versions/2`, `/guarantees/${n}/versions/2/diff`,
    ];

    it("when an officer of another orderer asks for any page of a guarantee that exists, then the 404 is the same as for a number never issued", async () => {
      await givenVerifiedSample(world);
      world.services.guarantees.change(NUMBER, "amendment", { guaranteeAmount: 25000000 }, "test");
      const other = await givenOfficer(world, { orderer: "022012", login: "aomori-sato" });
      const agent = await loginAs(world.app, other.login, other.password);
      const nonexistent = await agent.get("/guarantees/99999-999999");
      expect(nonexistent.status).to.equal(404);
      for (const url of [...urls(NUMBER), ...urls("99999-999999")]) {
        const res = await agent.get(url);
        expect(res.status, url).to.equal(404);
        expect(withoutRequestId(res.text), url).to.equal(withoutRequestId(nonexistent.text));
        expect(res.headers["cache-control"], url).to.equal("no-store");
      }
      const list = await agent.get("/verified");
      expect(list.text).not.to.contain(NUMBER);
      expect(auditEvents(world, "guarantee_view").concat(auditEvents(world, "certificate_view"))).to.have.length(0);
    });

    it("when the own orderer never verified a guarantee, then its pages are 404 too", async () => {
      const officer = await givenOfficer(world);
      await givenGuarantees(world, [sampleCertificate()]);
      const agent = await loginAs(world.app, officer.login, officer.password);
      const nonexistent = await agent.get("/guarantees/99999-999999");
      for (const url of urls(NUMBER)) {
        const res = await agent.get(url);
        expect(res.status, url).to.equal(404);
        expect(withoutRequestId(res.text), url).to.equal(withoutRequestId(nonexistent.text));
      }
    });

    it("when the URL holds a malformed number or sequence, then the answer is 404", async () => {
      const { agent } = await givenVerifiedSample(world);
      for (const url of [
        "/guarantees/02208-00000x", `/guarantees/${NUMBER}/versions/0`, `/guarantees/${NUMBER}/versions/01`, `/guarantees/${NUMBER}/versions/-1`,
        `/guarantees/${NUMBER}/versions/1.0`, `/guarantees/${NUMBER}/versions/abc`, `/guarantees/${NUMBER}/versions/99999999999`,
        `/guarantees/${NUMBER}/versions/abc/diff`,
      ]) {
        expect((await agent.get(url)).status, url).to.equal(404);
      }
    });

    it("when nobody is logged in, then the pages redirect to the login", async () => {
      await givenVerifiedSample(world);
      const { default: request } = await import("supertest");
      for (const url of [`/guarantees/${NUMBER}`, `/guarantees/${NUMBER}/certificate`, "/verified"]) {
        const res = await request(world.app).get(url);
        expect(res.status, url).to.equal(303);
        expect(res.headers.location, url).to.equal("/login");
      }
    });
  });

  it("when any guarantee page or the verified list is served, then it is Cache-Control: no-store", async () => {
    const { agent } = await givenVerifiedSample(world);
    world.services.guarantees.change(NUMBER, "amendment", { guaranteeAmount: 25000000 }, "test");
    for (const url of [
      `/guarantees/${NUMBER}`, `/guarantees/${NUMBER}?all=1`, `/guarantees/${NUMBER}/certificate`, `/guarantees/${NUMBER}/versions/1`,
      `/guarantees/${NUMBER}/versions/2/diff`, "/verified", "/verified?status=expired&q=x",
    ]) {
      const res = await agent.get(url);
      expect(res.status, url).to.equal(200);
      expect(res.headers["cache-control"], url).to.equal("no-store");
    }
  });

  it("when the 工事名 holds markup, then every page shows it as text", async () => {
    const { agent } = await givenVerifiedSample(world, { projectName: "<script>alert(1)</script>", contractor: { name: "\"><img src=x onerror=alert(2)>", address: "青森県むつ市" } });
    for (const url of [`/guarantees/${NUMBER}`, `/guarantees/${NUMBER}/certificate`, "/verified"]) {
      const res = await agent.get(url);
      expect(res.text, url).not.to.contain("<script>alert(1)");
      expect(res.text, url).to.contain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(res.text, url).not.to.contain("<img src");
    }
    world.services.guarantees.change(NUMBER, "correction", { projectName: "<b>x</b>" }, "test");
    const diff = await agent.get(`/guarantees/${NUMBER}/versions/2/diff`);
    expect(diff.text).to.contain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(diff.text).to.contain("&lt;b&gt;x&lt;/b&gt;");
  });
});
