import { expect } from "chai";
import iconv from "iconv-lite";
import { describeLedgerProblem } from "../../src/contracts/ledger-file.js";
import type { Outcome } from "../../src/result.js";
import { buildContractWorld, type ContractWorld } from "./support.js";

const HEADER = "契約番号,工事名,受注者,請負代金額,契約日,工期開始,工期終了,前払金額,中間前払金額,契約保証割合,保証契約番号";

const sjis = (lines: string[]) => iconv.encode(lines.join("\r\n") + "\r\n", "cp932");
const utf8 = (lines: string[], bom = true) => Buffer.concat([Buffer.from(bom ? [0xef, 0xbb, 0xbf] : []), Buffer.from(lines.join("\r\n") + "\r\n", "utf8")]);

function messages<T>(outcome: Outcome<T>): string[] {
  if (outcome.ok) throw new Error("expected a refusal");
  return outcome.problems.map(describeLedgerProblem);
}

const count = (world: ContractWorld, table: string) => (world.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
const auditEvents = (world: ContractWorld, event: string) =>
  world.db.prepare("SELECT * FROM audit_events WHERE event = ? ORDER BY id").all(event) as { actor: string; actor_kind: string; orderer_code: string; detail: string }[];

describe("contract ledger import", () => {
  let world: ContractWorld;
  beforeEach(async () => { world = await buildContractWorld(); });
  afterEach(() => world.close());

  it("when Excel's Shift_JIS CSV (CRLF) has full-width digits, 円 and era dates, then every contract is registered as written", () => {
    const bytes = sjis([
      HEADER,
      "Ｒ８－００１,むつ市道大畑線道路改良工事,〇〇建設　株式会社,\"５０,０００,０００円\",令和8年11月2日,令和８年１１月４日,令和9年3月19日,\"20,000,000円\",,10%,０２２０８－０００００１",
      "R8-002,大湊小学校（その２）改修工事,㈱△△組,12345678,2026/4/1,2026/4/2,2027/2/26,,,3/10,\"02208-000002、02208-000003\"",
      "R8-003,元年度繰越工事,××工業,8000000,令和元年5月7日,令和元年5月8日,令和2年3月19日,3200000,1600000,,",
    ]);
    const result = world.contracts.importLedger(world.actor, bytes);
    expect(result).to.deep.equal({ ok: true, value: { encoding: "shift_jis", created: ["R8-001", "R8-002", "R8-003"], changed: [], unchanged: 0 } });

    const first = world.contracts.find(world.officer.ordererId, "R8-001")!.contract;
    expect(first).to.deep.include({
      reference: "R8-001", projectName: "むつ市道大畑線道路改良工事", contractor: "〇〇建設　株式会社", contractAmount: 50_000_000,
      contractDate: "2026-11-02", periodFrom: "2026-11-04", periodTo: "2027-03-19", advanceAmount: 20_000_000, interimAmount: null,
      guaranteeRatio: { numerator: 1, denominator: 10 }, guaranteeNumbers: ["02208-000001"], revision: 1,
    });
    expect(world.contracts.find(world.officer.ordererId, "R8-002")!.contract).to.deep.include({
      projectName: "大湊小学校（その２）改修工事", contractor: "㈱△△組", advanceAmount: null,
      guaranteeRatio: { numerator: 3, denominator: 10 }, guaranteeNumbers: ["02208-000002", "02208-000003"],
    });
    expect(world.contracts.find(world.officer.ordererId, "R8-003")!.contract).to.deep.include({
      contractDate: "2019-05-07", periodTo: "2020-03-19", interimAmount: 1_600_000, guaranteeRatio: null, guaranteeNumbers: [],
    });

    const added = auditEvents(world, "contract_add");
    expect(added).to.have.length(3);
    expect(added[0]).to.deep.include({ actor: "mutsu-tanaka", actor_kind: "officer", orderer_code: "022080" });
    expect(JSON.parse(added[0]!.detail)).to.deep.include({ source: "ledger", reference: "R8-001" });
    expect(JSON.parse(auditEvents(world, "contract_import")[0]!.detail)).to.deep.equal({ encoding: "shift_jis", rows: 3, created: 3, changed: 0, unchanged: 0 });
  });

  it("when the file is UTF-8, with or without a BOM, with CRLF or LF and the columns in another order, then it is read as UTF-8", () => {
    const withBom = world.contracts.importLedger(world.actor, utf8([HEADER, "R8-001,工事Ａ,受注者Ａ,1000000,2026-04-01,2026-04-02,2026-09-30,,,,"]));
    expect(withBom.ok && withBom.value.encoding).to.equal("utf-8");
    const reordered = "工事名,契約番号,受注者,請負代金額,契約日,工期開始,工期終了,前払金額,中間前払金額,契約保証割合,保証契約番号,状態";
    const plain = world.contracts.importLedger(world.actor, Buffer.from(`${reordered}\n工事Ｂ,R8-002,受注者Ｂ,2000000,2026-04-01,2026-04-02,2026-09-30,,,,,適合\n`, "utf8"));
    expect(plain.ok && plain.value).to.deep.equal({ encoding: "utf-8", created: ["R8-002"], changed: [], unchanged: 0 });
    expect(world.contracts.find(world.officer.ordererId, "R8-002")!.contract.projectName).to.equal("工事Ｂ");
  });

  it("when one row of a ledger is bad, then nothing of the file is written and the row and column are named as Excel numbers them", () => {
    expect(world.contracts.importLedger(world.actor, sjis([HEADER, "R8-001,既存の工事,受注者,1000000,2026-04-01,2026-04-02,2026-09-30,,,,"])).ok).to.equal(true);
    const before = { contracts: count(world, "contracts"), audit: count(world, "audit_events") };
    const result = world.contracts.importLedger(world.actor, sjis([
      HEADER,
      "R8-001,既存の工事（変更）,受注者,1500000,2026-04-01,2026-04-02,2026-09-30,,,,",
      "R8-002,工事２,受注者,2000000,2026-04-01,2026-04-02,2026-09-30,,,,",
      ",,,,,,,,,,",
      "R8-003,工事３,受注者,３千万円,2026-04-01,2026-04-02,2026-09-30,,,,",
      "R8-004,工事４,受注者,4000000,2026-04-01,2026-04-02,2026-09-30,,,,",
    ]));
    expect(messages(result)).to.deep.equal(["5行目 請負代金額: 「３千万円」は1円以上の金額として読めません（例: 50000000、50,000,000円）"]);
    expect(count(world, "contracts")).to.equal(before.contracts);
    expect(count(world, "audit_events")).to.equal(before.audit);
    expect(world.contracts.find(world.officer.ordererId, "R8-001")!.contract).to.deep.include({ projectName: "既存の工事", contractAmount: 1_000_000, revision: 1 });
  });

  it("when many things are wrong, then every problem of every row is listed at once, a quoted line break keeping Excel's row numbers", () => {
    const result = world.contracts.importLedger(world.actor, utf8([
      HEADER,
      "R8-001,\"二行に\r\nわたる工事名\",受注者,1000000,2026-04-01,2026-04-02,2026-09-30,,,,",
      "R8-002,工事,,1000000,2026-02-30,2026-04-02,2026-04-01,,,11/10,02208-1",
      "Ｒ８－００１,工事,受注者,1000000,2026-04-01,2026-04-02,2026-09-30,,,,",
    ]));
    expect(messages(result)).to.deep.equal([
      "2行目 工事名: 制御文字や見えない文字が含まれています",
      "3行目 受注者: 入力してください",
      "3行目 契約日: 「2026-02-30」は日付として読めません（例: 2026-04-01、2026/4/1、令和8年4月1日）",
      "3行目 契約保証割合: 「11/10」は割合として読めません（例: 1/10、3/10、10%、0.1。契約保証が不要なら空欄）",
      "3行目 保証契約番号: 「02208-1」は保証契約番号（NNNNN-NNNNNN）として読めません",
      "3行目 工期終了: 工期開始（2026-04-02）より前です",
      "4行目 契約番号: 2行目と同じ契約番号です",
    ]);
    expect(count(world, "contracts")).to.equal(0);
  });

  it("when a file is plainly the wrong one (hundreds of bad rows), then the first 200 problems are listed and the rest counted", () => {
    const rows = Array.from({ length: 250 }, (_, i) => `R8-${i},工事,受注者,x,2026-04-01,2026-04-02,2026-09-30,,,,`);
    const listed = messages(world.contracts.importLedger(world.actor, utf8([HEADER, ...rows])));
    expect(listed).to.have.length(201);
    expect(listed[0]).to.equal("2行目 請負代金額: 「x」は1円以上の金額として読めません（例: 50000000、50,000,000円）");
    expect(listed.at(-1)).to.equal("ファイル: ほかに50件の問題があります");
  });

  it("when the header lacks a column, names an unknown one or one twice, then the file is refused on 1行目", () => {
    const header = HEADER.replace("前払金額,", "").replace("工事名", "件名") + ",受注者";
    expect(messages(world.contracts.importLedger(world.actor, utf8([header, "R8-001"])))).to.deep.equal([
      "1行目 件名: 使えない列名です（使える列: 契約番号、工事名、受注者、請負代金額、契約日、工期開始、工期終了、前払金額、中間前払金額、契約保証割合、保証契約番号）",
      "1行目 受注者: この列が2回あります",
      "1行目 工事名: この列がありません",
      "1行目 前払金額: この列がありません",
    ]);
  });

  it("when the file is empty, holds only a BOM or only the header, or is neither UTF-8 nor Shift_JIS, then it is refused as a whole", () => {
    const auditRows = count(world, "audit_events");
    expect(messages(world.contracts.importLedger(world.actor, new Uint8Array()))).to.deep.equal(["ファイル: 空です"]);
    expect(messages(world.contracts.importLedger(world.actor, utf8([])))).to.deep.equal(["ファイル: 空です"]);
    expect(messages(world.contracts.importLedger(world.actor, sjis([HEADER, ",,,,,,,,,,"])))).to.deep.equal([
      "ファイル: 契約の行がありません（1行目は見出し、2行目から契約を書いてください）",
    ]);
    expect(messages(world.contracts.importLedger(world.actor, Buffer.from([0x82, 0xa0, 0xa0, 0xfd, 0x0d, 0x0a])))).to.deep.equal([
      "ファイル: 文字コードを判別できません（UTF-8 でも Shift_JIS でもありません）",
    ]);
    expect(messages(world.contracts.importLedger(world.actor, iconv.encode(HEADER, "utf16le", { addBOM: true })))[0]).to.match(/^ファイル: UTF-16/);
    expect(messages(world.contracts.importLedger(world.actor, utf8([HEADER, "\"R8-001,x"])))[0]).to.match(/^ファイル: CSV として読めません/);
    expect(count(world, "audit_events"), "a refused file is not audited").to.equal(auditRows);
    expect(count(world, "contracts")).to.equal(0);
  });

  it("when a 契約番号 is imported again with other terms, then it is a 変更契約: revision 2, and the audit keeps before and after; unchanged rows write nothing", () => {
    const row = (amount: string) => `R8-001,工事,受注者,${amount},2026-04-01,2026-04-02,2026-09-30,,,,`;
    const other = "R8-002,工事２,受注者,2000000,2026-04-01,2026-04-02,2026-09-30,,,,";
    world.contracts.importLedger(world.actor, sjis([HEADER, row("1000000"), other]));
    const again = world.contracts.importLedger(world.actor, sjis([HEADER, row("\"1,200,000円\""), other]));
    expect(again).to.deep.equal({ ok: true, value: { encoding: "shift_jis", created: [], changed: ["R8-001"], unchanged: 1 } });
    expect(world.contracts.find(world.officer.ordererId, "R8-001")!.contract).to.deep.include({ contractAmount: 1_200_000, revision: 2 });

    const changes = auditEvents(world, "contract_change");
    expect(changes).to.have.length(1);
    const detail = JSON.parse(changes[0]!.detail);
    expect(detail).to.deep.include({ source: "ledger", reference: "R8-001", revision: 2 });
    expect(detail.before).to.include({ contractAmount: "1000000", projectName: "工事" });
    expect(detail.after).to.include({ contractAmount: "1200000", projectName: "工事" });
    expect(auditEvents(world, "contract_add")).to.have.length(2);
    expect(world.services.audit.verifyChain().ok).to.equal(true);
  });

  describe("export", () => {
    const ledger = [
      HEADER,
      "R8-001,\"むつ市道\"\"大畑線\"\",改良工事\",〇〇建設株式会社,50000000,2026-11-02,2026-11-04,2027-03-19,20000000,,1/10,02208-000001",
      "R8-002,=工事名が式に見える,△△組,12345678,2026-04-01,2026-04-02,2027-02-26,,,3/10,\"02208-000002,02208-000003\"",
      "R8-003,波ダッシュ〜の工事,××工業,1000,2026-04-01,2026-04-02,2027-02-26,,,1/3,",
    ];

    it("when exported as UTF-8, then it has a BOM, CRLF, the import's columns and 状態, and imports again unchanged", () => {
      world.contracts.importLedger(world.actor, utf8(ledger));
      const exported = world.contracts.exportLedger(world.actor, "utf-8");
      if (!exported.ok) throw new Error(JSON.stringify(exported.problems));
      const bytes = Buffer.from(exported.value);
      expect([...bytes.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf]);
      const lines = bytes.subarray(3).toString("utf8").split("\r\n");
      expect(lines[0]).to.equal(`${HEADER},状態`);
      expect(lines[1]).to.equal("R8-001,\"むつ市道\"\"大畑線\"\",改良工事\",〇〇建設株式会社,50000000,2026-11-02,2026-11-04,2027-03-19,20000000,,10%,02208-000001,未提出");
      expect(lines[2]).to.equal("R8-002,'=工事名が式に見える,△△組,12345678,2026-04-01,2026-04-02,2027-02-26,,,30%,02208-000002、02208-000003,未提出");
      expect(lines[3], "1/3 is no exact percentage").to.contain(",1/3,,未提出");
      expect(lines.at(-1)).to.equal("");
      expect(world.contracts.importLedger(world.actor, bytes)).to.deep.equal({ ok: true, value: { encoding: "utf-8", created: [], changed: [], unchanged: 3 } });
    });

    it("when exported as Shift_JIS, then Excel's CP932 is written, 〜 as CP932's ～ (so that row comes back as a change)", () => {
      world.contracts.importLedger(world.actor, utf8(ledger));
      const exported = world.contracts.exportLedger(world.actor, "shift_jis");
      if (!exported.ok) throw new Error(JSON.stringify(exported.problems));
      const text = iconv.decode(Buffer.from(exported.value), "cp932");
      expect(text).to.contain("波ダッシュ～の工事");
      const reimported = world.contracts.importLedger(world.actor, exported.value);
      expect(reimported.ok && reimported.value).to.deep.equal({ encoding: "shift_jis", created: [], changed: ["R8-003"], unchanged: 2 });
    });

    it("when a name holds a character Shift_JIS lacks, then the Shift_JIS export is refused naming the cell, and UTF-8 still works", () => {
      world.contracts.importLedger(world.actor, utf8([HEADER, "R8-001,𠮷野家前道路工事,受注者,1000000,2026-04-01,2026-04-02,2026-09-30,,,,"]));
      expect(messages(world.contracts.exportLedger(world.actor, "shift_jis"))).to.deep.equal([
        "2行目 工事名: 「𠮷」は Shift_JIS で書けません。UTF-8 で書き出してください",
      ]);
      expect(world.contracts.exportLedger(world.actor, "utf-8").ok).to.equal(true);
    });
  });
});
