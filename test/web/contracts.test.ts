import { expect } from "chai";
import iconv from "iconv-lite";
import request from "supertest";
import { givenGuarantees, givenOfficer, sampleCertificate } from "../support/given.js";
import { buildTestApp, csrfTokenOf, loginAs, postForm, type WebWorld } from "../support/web.js";
import { contractForm } from "../contracts/fixtures.js";
import { actorOf } from "../contracts/support.js";
import { textOf, verify, type Agent } from "./guarantees.helpers.js";

const HEADER = "契約番号,工事名,受注者,請負代金額,契約日,工期開始,工期終了,前払金額,中間前払金額,契約保証割合,保証契約番号";
const sjis = (lines: string[]) => iconv.encode(lines.join("\r\n") + "\r\n", "cp932");
const utf8 = (lines: string[]) => Buffer.from(lines.join("\n") + "\n", "utf8");

/** Each register row as [data-contract, data-state]. */
const registerRows = (html: string) => [...html.matchAll(/<tr role="row" data-contract="([^"]*)" data-state="([^"]*)">/g)].map((m) => [m[1], m[2]]);
/** Each check row as [data-rule, data-result]. */
const checkRows = (html: string) => [...html.matchAll(/<tr data-rule="([^"]*)" data-result="([^"]*)"/g)].map((m) => [m[1], m[2]]);

const count = (world: WebWorld, table: string) => (world.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
const auditCount = (world: WebWorld, event: string) =>
  (world.db.prepare("SELECT count(*) AS n FROM audit_events WHERE event = ?").get(event) as { n: number }).n;

/** POST /contracts/import as the browser sends it: multipart, the token and the file. */
async function importLedger(agent: Agent, bytes: Buffer, token?: string) {
  const csrf = token ?? csrfTokenOf((await agent.get("/contracts")).text);
  return agent.post("/contracts/import").field("_csrf", csrf).attach("ledger", bytes, { filename: "契約台帳.csv", contentType: "text/csv" });
}

describe("contract register (/contracts)", () => {
  let world: WebWorld;
  let agent: Agent;
  let officer: Awaited<ReturnType<typeof givenOfficer>>["officer"];

  beforeEach(async () => {
    world = await buildTestApp();
    const given = await givenOfficer(world);
    officer = given.officer;
    agent = await loginAs(world.app, given.login, given.password);
  });
  afterEach(() => world.close());

  const save = (overrides: Record<string, string>) => {
    const saved = world.services.contracts.save(actorOf(officer), contractForm(overrides), null);
    if (!saved.ok) throw new Error(JSON.stringify(saved.problems));
  };

  /** The sample guarantee (前払金保証 20,000,000 円 on 50,000,000 円), issued and verified by the officer. */
  async function givenHeldSample(overrides: Record<string, unknown> = {}) {
    const [issued] = await givenGuarantees(world, [sampleCertificate(overrides)]);
    await verify(agent, issued!);
    return issued!;
  }

  describe("the register", () => {
    it("when contracts are registered, then each is a row with its state, and 要確認のみ and the search narrow the list", async () => {
      await givenHeldSample();
      save({ reference: "R8-001" });
      save({ reference: "R8-002", projectName: "大湊小学校改修工事", advanceAmount: "25000000" });
      save({ reference: "R8-003", projectName: "川内線舗装工事", guaranteeNumbers: "" });

      const all = await agent.get("/contracts");
      expect(all.status).to.equal(200);
      expect(all.headers["cache-control"]).to.equal("no-store");
      expect(registerRows(all.text)).to.deep.equal([["R8-001", "ok"], ["R8-002", "attention"], ["R8-003", "missing"]]);
      expect(textOf(all.text)).to.include("R8-002 大湊小学校改修工事 〇〇建設 株式会社 50,000,000 円");

      expect(registerRows((await agent.get("/contracts?attention=1")).text)).to.deep.equal([["R8-002", "attention"], ["R8-003", "missing"]]);
      expect(registerRows((await agent.get("/contracts?q=%E5%A4%A7%E6%B9%8A")).text)).to.deep.equal([["R8-002", "attention"]]);
      expect(registerRows((await agent.get("/contracts?q=r8-003")).text)).to.deep.equal([["R8-003", "missing"]]);
      expect(textOf((await agent.get("/contracts?q=nothing")).text)).to.include("条件に一致する契約はありません。");
    });

    it("when the register holds more than a page, then the next page follows the last 契約番号 shown, never an offset", async () => {
      for (let i = 1; i <= 52; i++) save({ reference: `R8-${String(i).padStart(3, "0")}`, guaranteeNumbers: "" });
      const first = await agent.get("/contracts");
      expect(registerRows(first.text)).to.have.length(50);
      const next = /<a href="([^"]+)" rel="next">/.exec(first.text)![1]!.replaceAll("&#x3D;", "=").replaceAll("&amp;", "&");
      expect(next).to.equal("/contracts?after=R8-050");
      const second = await agent.get(next);
      expect(registerRows(second.text).map((r) => r[0])).to.deep.equal(["R8-051", "R8-052"]);
      expect(second.text).not.to.include('rel="next"');
    });

    it("when the officer is not logged in, then every contract route leads to the login form and nothing is read", async () => {
      const anonymous = request(world.app);
      for (const path of ["/contracts", "/contracts/new", "/contracts/R8-001", "/contracts/R8-001/edit", "/contracts.csv"]) {
        const res = await anonymous.get(path);
        expect([path, res.status, res.headers.location]).to.deep.equal([path, 303, "/login"]);
      }
      const upload = await anonymous.post("/contracts/import").attach("ledger", utf8([HEADER]), "a.csv");
      expect([upload.status, upload.headers.location]).to.deep.equal([303, "/login"]);
    });
  });

  describe("the form", () => {
    it("when a contract is entered, then it is registered, the browser is sent to it and the audit trail has it", async () => {
      const res = await postForm(agent, "/contracts/new", "/contracts", contractForm({ reference: "Ｒ８－００１", contractAmount: "５０,０００,０００円" }));
      expect([res.status, res.headers.location]).to.deep.equal([303, "/contracts/R8-001"]);
      const page = await agent.get("/contracts/R8-001");
      expect(textOf(page.text)).to.include("契約 R8-001 を登録しました。");
      expect(textOf(page.text)).to.include("請負代金額 50,000,000 円");
      expect(auditCount(world, "contract_add")).to.equal(1);
    });

    it("when fields are wrong, then the form comes back with each problem by its field, what was typed, and nothing is saved", async () => {
      const res = await postForm(agent, "/contracts/new", "/contracts", contractForm({ contractAmount: "五千万", periodTo: "2026-13-01", projectName: "" }));
      expect(res.status).to.equal(400);
      const text = textOf(res.text);
      expect(text).to.include("工事名: 入力してください");
      expect(text).to.include("請負代金額: 「五千万」は1円以上の金額として読めません");
      expect(text).to.include("工期終了: 「2026-13-01」は日付として読めません");
      expect(res.text).to.include('<a href="#contractAmount">');
      expect(res.text).to.include('id="contractAmount" name="contractAmount" type="text" autocomplete="off" value="五千万"');
      expect(count(world, "contracts")).to.equal(0);
    });

    it("when a 変更契約 is saved from the form it was opened with, then the contract changes; from a stale form, then 409 and nothing changes", async () => {
      save({ reference: "R8-001" });
      const form = await agent.get("/contracts/R8-001/edit");
      expect(form.status).to.equal(200);
      expect(form.text).to.include('name="revision" value="1"');
      const token = csrfTokenOf(form.text);
      const changed = await agent.post("/contracts/R8-001").type("form").send({ _csrf: token, revision: "1", ...contractForm({ contractAmount: "55000000" }) });
      expect([changed.status, changed.headers.location]).to.deep.equal([303, "/contracts/R8-001"]);
      expect(textOf((await agent.get("/contracts/R8-001")).text)).to.include("請負代金額 55,000,000 円");

      const stale = await agent.post("/contracts/R8-001").type("form").send({ _csrf: token, revision: "1", ...contractForm({ contractAmount: "60000000" }) });
      expect(stale.status).to.equal(409);
      expect(textOf(stale.text)).to.include("この契約は、開いた後でほかの人が変更しました。");
      expect(world.services.contracts.find(officer.ordererId, "R8-001")!.contract).to.deep.include({ contractAmount: 55_000_000, revision: 2 });
    });
  });

  describe("a contract's page", () => {
    it("when the contract relies on a held guarantee and on one not verified, then every check is shown side by side and the other as 未確認", async () => {
      await givenHeldSample();
      save({ reference: "R8-001", advanceAmount: "25000000", guaranteeNumbers: "02208-000001、02208-000099" });
      const res = await agent.get("/contracts/R8-001");
      expect(res.status).to.equal(200);
      expect(res.text).to.include('data-state="attention"');
      expect(checkRows(res.text)).to.deep.equal([
        ["advance-ceiling", "fail"], ["interim-ceiling", "na"],
        ["contract-amount", "pass"], ["advance-amount", "fail"], ["period-covered", "pass"], ["status", "pass"], ["contractor-name", "pass"], ["project-name", "pass"],
      ]);
      const text = textOf(res.text);
      expect(text).to.include("前払金保証の保証金額が前払金額以上であること 根拠: 公共工事標準請負契約約款 第34条第1項（前払金の保証契約） 25,000,000 円 20,000,000 円 不適合");
      expect(text).to.include("保証契約番号 02208-000099 未確認");
      expect(res.text).to.include('href="/static/print.css" media="print"');
    });

    it("when the 契約番号 holds a slash or Japanese, then its link opens it", async () => {
      save({ reference: "R8/土木-1", guaranteeNumbers: "" });
      const register = await agent.get("/contracts");
      const href = /<a href="(\/contracts\/[^"]+)">R8\/土木-1<\/a>/.exec(register.text)![1]!;
      expect(href).to.equal(`/contracts/${encodeURIComponent("R8/土木-1")}`);
      expect((await agent.get(href)).status).to.equal(200);
    });

    it("when the guarantee's summary page is opened, then it shows the 照合 of each contract relying on it", async () => {
      await givenHeldSample();
      save({ reference: "R8-001" });
      save({ reference: "R8-002", advanceAmount: "25000000" });
      save({ reference: "R8-003", guaranteeNumbers: "" });
      const res = await agent.get("/guarantees/02208-000001");
      expect(registerRowsOnSummary(res.text)).to.deep.equal([["R8-001", "ok"], ["R8-002", "attention"]]);
      const text = textOf(res.text);
      expect(text).to.include("R8-001 むつ市道大畑線道路改良工事 適合 この保証の照合はすべて適合です。");
      expect(text).to.include("R8-002 むつ市道大畑線道路改良工事 要確認 不適合: 前払金保証の保証金額が前払金額以上であること");
    });
  });

  describe("another orderer", () => {
    it("when another orderer's officer asks for any of it, then the same 404 as for a contract nobody registered, and its register shows none", async () => {
      await givenHeldSample();
      save({ reference: "R8-001" });
      const stranger = await givenOfficer(world, { login: "aomori-sato", orderer: "022012" });
      const other = await loginAs(world.app, stranger.login, stranger.password);
      const missing = await other.get("/contracts/R8-999");
      expect(missing.status).to.equal(404);
      for (const path of ["/contracts/R8-001", "/contracts/R8-001/edit"]) {
        const res = await other.get(path);
        expect([path, res.status]).to.deep.equal([path, 404]);
        expect(withoutRequestId(res.text)).to.equal(withoutRequestId(missing.text));
      }
      const post = await postForm(other, "/contracts", "/contracts/R8-001", { revision: "1", ...contractForm({ projectName: "乗っ取り" }) });
      expect(post.status).to.equal(404);
      expect(registerRows((await other.get("/contracts")).text)).to.deep.equal([]);
      const csv = await other.get("/contracts.csv");
      expect(csv.body.toString("utf8")).not.to.include("R8-001");
      expect(world.services.contracts.find(officer.ordererId, "R8-001")!.contract.projectName).to.equal("むつ市道大畑線道路改良工事");
    });
  });

  describe("import (POST /contracts/import, multipart)", () => {
    it("when Excel's Shift_JIS CSV (CRLF) with full-width digits, 円 and 令和 dates is uploaded, then every contract is registered and the register says so", async () => {
      const res = await importLedger(agent, sjis([
        HEADER,
        "Ｒ８－００１,むつ市道大畑線道路改良工事,〇〇建設　株式会社,\"５０,０００,０００円\",令和8年11月2日,令和８年１１月４日,令和9年3月19日,\"20,000,000円\",,10%,０２２０８－０００００１",
        "R8-002,大湊小学校改修工事,㈱△△組,12345678,2026/4/1,2026/4/2,2027/2/26,,,3/10,",
      ]));
      expect([res.status, res.headers.location]).to.deep.equal([303, "/contracts"]);
      const register = await agent.get("/contracts");
      expect(textOf(register.text)).to.include("契約台帳を取り込みました（新規 2件、変更 0件、変更なし 0件）。");
      expect(registerRows(register.text)).to.deep.equal([["R8-001", "missing"], ["R8-002", "missing"]]);
      expect(world.services.contracts.find(officer.ordererId, "R8-001")!.contract).to.deep.include({
        contractAmount: 50_000_000, advanceAmount: 20_000_000, contractDate: "2026-11-02", periodTo: "2027-03-19", guaranteeNumbers: ["02208-000001"],
      });
    });

    it("when one row is bad, then every problem is listed as 「N行目 列名: 理由」 and nothing changes", async () => {
      save({ reference: "R8-001" });
      const before = world.db.prepare("SELECT * FROM contracts").all();
      const res = await importLedger(agent, utf8([
        HEADER,
        "R8-001,変更後の工事名,〇〇建設 株式会社,50000000,2026-11-02,2026-11-04,2027-03-19,,,,",
        "R8-002,工事,受注者,五千万,2026-04-01,2026-04-02,2026-09-30,,,,",
        "R8-003,工事,受注者,1000000,2026-04-01,2026-04-02,2026-02-30,,,1/100000,",
      ]));
      expect(res.status).to.equal(400);
      const text = textOf(res.text);
      expect(text).to.include("3行目 請負代金額: 「五千万」は1円以上の金額として読めません");
      expect(text).to.include("4行目 工期終了: 「2026-02-30」は日付として読めません");
      expect(world.db.prepare("SELECT * FROM contracts").all()).to.deep.equal(before);
      expect(auditCount(world, "contract_import")).to.equal(0);
    });

    it("when the token is missing or wrong, then 403 and nothing changes", async () => {
      const ledger = utf8([HEADER, "R8-001,工事,受注者,1000000,2026-04-01,2026-04-02,2026-09-30,,,,"]);
      const wrong = await importLedger(agent, ledger, "x".repeat(64));
      expect(wrong.status).to.equal(403);
      const none = await agent.post("/contracts/import").attach("ledger", ledger, "a.csv");
      expect(none.status).to.equal(403);
      expect(count(world, "contracts")).to.equal(0);
    });

    it("when the upload comes from another site, then 403 and nothing changes", async () => {
      const token = csrfTokenOf((await agent.get("/contracts")).text);
      const res = await agent.post("/contracts/import").set("Origin", "https://evil.example").set("Sec-Fetch-Site", "cross-site")
        .field("_csrf", token).attach("ledger", utf8([HEADER, "R8-001,工事,受注者,1000000,2026-04-01,2026-04-02,2026-09-30,,,,"]), "a.csv");
      expect(res.status).to.equal(403);
      expect(count(world, "contracts")).to.equal(0);
    });

    it("when the upload is too big, has two files, a stray field, or is not multipart, then it is refused with the status that says why", async () => {
      const token = csrfTokenOf((await agent.get("/contracts")).text);
      const big = await agent.post("/contracts/import").field("_csrf", token).attach("ledger", Buffer.alloc(3 * 1024 * 1024, 0x41), "big.csv");
      expect(big.status).to.equal(413);
      const two = await agent.post("/contracts/import").field("_csrf", token).attach("ledger", utf8([HEADER]), "a.csv").attach("other", utf8([HEADER]), "b.csv");
      expect(two.status).to.equal(413);
      const misnamed = await agent.post("/contracts/import").field("_csrf", token).attach("file", utf8([HEADER]), "a.csv");
      expect(misnamed.status).to.equal(400);
      const stray = await agent.post("/contracts/import").field("_csrf", token).field("extra", "1").attach("ledger", utf8([HEADER]), "a.csv");
      expect(stray.status).to.equal(400);
      const form = await agent.post("/contracts/import").type("form").send({ _csrf: token });
      expect(form.status).to.equal(415);
      const elsewhere = await agent.post("/contracts").field("_csrf", token).field("reference", "R8-001");
      expect(elsewhere.status, "other routes still take only urlencoded forms").to.equal(415);
      expect(count(world, "contracts")).to.equal(0);
    });

    it("when the file part is empty (no file chosen), then the register says the file is empty", async () => {
      const res = await importLedger(agent, Buffer.alloc(0));
      expect(res.status).to.equal(400);
      expect(textOf(res.text)).to.include("ファイル: 空です");
    });
  });

  describe("export (GET /contracts.csv)", () => {
    for (const encoding of ["utf-8", "shift_jis"] as const) {
      it(`when the register is downloaded in ${encoding}, then it is an attachment for Excel that imports back unchanged`, async () => {
        await givenHeldSample();
        save({ reference: "R8-001", guaranteeRatio: "3/10" });
        save({ reference: "R8-002", projectName: "大湊小学校（その２）改修工事", advanceAmount: "", guaranteeNumbers: "" });
        const res = await agent.get(`/contracts.csv?encoding=${encoding}`).buffer(true).parse((r, done) => {
          const chunks: Buffer[] = [];
          r.on("data", (c: Buffer) => chunks.push(c));
          r.on("end", () => done(null, Buffer.concat(chunks)));
        });
        expect(res.status).to.equal(200);
        expect(res.headers["cache-control"]).to.equal("no-store");
        expect(res.headers["content-disposition"]).to.match(/^attachment; filename="[^"]*\.csv"; filename\*=UTF-8''%E5%A5%91%E7%B4%84%E5%8F%B0%E5%B8%B3-2026-11-25\.csv$/);
        expect(res.headers["content-type"]).to.equal(encoding === "utf-8" ? "text/csv; charset=utf-8" : "text/csv; charset=Shift_JIS");
        const bytes = res.body as Buffer;
        const text = encoding === "utf-8" ? bytes.toString("utf8") : iconv.decode(bytes, "cp932");
        if (encoding === "utf-8") expect([...bytes.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf]);
        expect(text).to.include("\r\n");
        expect(text).to.include("大湊小学校（その２）改修工事");
        expect(auditCount(world, "contract_export")).to.equal(1);

        const again = await importLedger(agent, bytes);
        expect(again.status).to.equal(303);
        expect(textOf((await agent.get("/contracts")).text)).to.include("新規 0件、変更 0件、変更なし 2件");
      });
    }

    it("when the encoding is neither, then 400", async () => {
      expect((await agent.get("/contracts.csv?encoding=latin1")).status).to.equal(400);
    });
  });
});

/** The relying contracts' rows on a guarantee's summary page as [data-contract, data-state]. */
function registerRowsOnSummary(html: string) {
  return [...html.matchAll(/<tr data-contract="([^"]*)" data-state="([^"]*)">/g)].map((m) => [m[1], m[2]]);
}

/** A page without its per-request 受付番号, to compare two answers. */
const withoutRequestId = (html: string) => html.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "");
