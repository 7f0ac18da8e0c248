import { expect } from "chai";
import { createContractService } from "../../src/contracts/contract.service.js";
import { createTransactions } from "../../src/db/transactions.js";
import { givenGuarantees, givenOfficer, sampleCertificate } from "../support/given.js";
import { contractForm } from "./fixtures.js";
import { actorOf, buildContractWorld, givenHeld, verifyAs, type ContractWorld } from "./support.js";

const auditDetails = (world: ContractWorld, event: string) =>
  (world.db.prepare("SELECT detail FROM audit_events WHERE event = ? ORDER BY id").all(event) as { detail: string }[]).map((r) => JSON.parse(r.detail));

describe("contract register (service)", () => {
  let world: ContractWorld;
  beforeEach(async () => { world = await buildContractWorld(); });
  afterEach(() => world.close());

  const stateOf = (reference = "R8-001") => world.contracts.find(world.officer.ordererId, reference)!.evaluation.state;

  describe("the form", () => {
    it("when a new contract is saved, then it is registered at revision 1 and the audit records what was entered", () => {
      const saved = world.contracts.save(world.actor, contractForm({ contractAmount: "５０,０００,０００円" }), null);
      expect(saved.ok && saved.value).to.deep.include({ reference: "R8-001", contractAmount: 50_000_000, revision: 1, guaranteeNumbers: ["02208-000001"] });
      expect(auditDetails(world, "contract_add")).to.deep.equal([{ source: "form", reference: "R8-001", after: {
        reference: "R8-001", projectName: "むつ市道大畑線道路改良工事", contractor: "〇〇建設 株式会社", contractAmount: "50000000",
        contractDate: "2026-11-02", periodFrom: "2026-11-04", periodTo: "2027-03-19", advanceAmount: "20000000", interimAmount: "",
        guaranteeRatio: "", guaranteeNumbers: "02208-000001",
      } }]);
    });

    it("when fields are wrong, then the problems come back keyed by field and nothing is written", () => {
      const saved = world.contracts.save(world.actor, contractForm({ contractAmount: "", periodTo: "2026-11-03" }), null);
      expect(!saved.ok && saved.problems).to.deep.equal([
        { field: "contractAmount", message: "入力してください" },
        { field: "periodTo", message: "工期開始（2026-11-04）より前です" },
      ]);
      expect(world.contracts.list(world.officer.ordererId).entries).to.have.length(0);
    });

    it("when a 契約番号 would be one of the register's own pages (new, import) or a path segment (., ..), then it is refused on the reference", () => {
      for (const reference of ["new", "IMPORT", ".", ".."]) {
        const saved = world.contracts.save(world.actor, contractForm({ reference }), null);
        expect(!saved.ok && saved.problems.map((p) => p.field), reference).to.deep.equal(["reference"]);
      }
      expect(world.contracts.list(world.officer.ordererId).entries).to.have.length(0);
    });

    it("when a new contract takes a 契約番号 already registered, then it is refused on the reference and the first stays", () => {
      world.contracts.save(world.actor, contractForm(), null);
      const again = world.contracts.save(world.actor, contractForm({ reference: "Ｒ８-001", projectName: "別の工事" }), null);
      expect(!again.ok && again.problems).to.deep.equal([{ field: "reference", message: "この契約番号の契約はすでに登録されています" }]);
      expect(world.contracts.find(world.officer.ordererId, "R8-001")!.contract.projectName).to.equal("むつ市道大畑線道路改良工事");
    });

    it("when a contract is changed from the revision it showed, then it is a 変更契約; from an older revision it is refused", () => {
      world.contracts.save(world.actor, contractForm(), null);
      const changed = world.contracts.save(world.actor, contractForm({ contractAmount: "60000000" }), { reference: "R8-001", revision: 1 });
      expect(changed.ok && changed.value).to.deep.include({ contractAmount: 60_000_000, revision: 2 });
      const stale = world.contracts.save(world.actor, contractForm({ contractAmount: "70000000" }), { reference: "R8-001", revision: 1 });
      expect(!stale.ok && stale.problems[0]!.field).to.equal("form");
      expect(world.contracts.find(world.officer.ordererId, "R8-001")!.contract.contractAmount).to.equal(60_000_000);
      const [detail] = auditDetails(world, "contract_change");
      expect(detail).to.deep.include({ source: "form", reference: "R8-001", revision: 2 });
      expect([detail.before.contractAmount, detail.after.contractAmount]).to.deep.equal(["50000000", "60000000"]);
    });

    it("when a change corrects the 契約番号, then the contract moves to it, unless another contract has it", () => {
      world.contracts.save(world.actor, contractForm(), null);
      world.contracts.save(world.actor, contractForm({ reference: "R8-002" }), null);
      const taken = world.contracts.save(world.actor, contractForm({ reference: "R8-002" }), { reference: "R8-001", revision: 1 });
      expect(!taken.ok && taken.problems).to.deep.equal([{ field: "reference", message: "この契約番号の契約はすでに登録されています" }]);
      const moved = world.contracts.save(world.actor, contractForm({ reference: "R8-001A" }), { reference: "R8-001", revision: 1 });
      expect(moved.ok && moved.value.reference).to.equal("R8-001A");
      expect(world.contracts.find(world.officer.ordererId, "R8-001")).to.equal(undefined);
    });
  });

  describe("linked guarantees and the contract's state", () => {
    it("when the orderer has not verified a number, then it shows as 未確認 exactly like a number that was never issued", async () => {
      await givenGuarantees(world, [sampleCertificate()]);
      world.contracts.save(world.actor, contractForm({ guaranteeNumbers: "02208-000001 02208-999999" }), null);
      const entry = world.contracts.find(world.officer.ordererId, "R8-001")!;
      expect(entry.links).to.deep.equal([{ contractNumber: "02208-000001", held: null }, { contractNumber: "02208-999999", held: null }]);
      expect(entry.evaluation.links).to.deep.equal([{ contractNumber: "02208-000001", held: false }, { contractNumber: "02208-999999", held: false }]);
      expect(entry.evaluation).to.deep.include({ state: "missing", missing: ["advance"] });
    });

    it("when the orderer verifies the guarantee with its key, then the contract becomes 適合 with every check side by side", async () => {
      world.contracts.save(world.actor, contractForm(), null);
      expect(stateOf()).to.equal("missing");
      await givenHeld(world);
      const { evaluation } = world.contracts.find(world.officer.ordererId, "R8-001")!;
      expect(evaluation.state).to.equal("ok");
      const [link] = evaluation.links;
      if (!link?.held) throw new Error("expected a held guarantee");
      expect(link.checks.map((c) => [c.id, c.result])).to.deep.equal([
        ["contract-amount", "pass"], ["advance-amount", "pass"], ["period-covered", "pass"], ["status", "pass"], ["contractor-name", "pass"], ["project-name", "pass"],
      ]);
      expect(evaluation.contractChecks.map((c) => [c.id, c.result])).to.deep.equal([["advance-ceiling", "pass"], ["interim-ceiling", "na"]]);
    });

    it("when another orderer's officer verified a guarantee, then this orderer's contract still shows it as 未確認", async () => {
      const other = await givenOfficer(world, { login: "aomori-sato", orderer: "022012" });
      const [issued] = await givenGuarantees(world, [sampleCertificate({ orderer: { code: "022012", title: "青森市長" } })]);
      await verifyAs(world, other.officer, issued!);
      world.contracts.save(world.actor, contractForm(), null);
      expect(world.contracts.find(world.officer.ordererId, "R8-001")!.links).to.deep.equal([{ contractNumber: "02208-000001", held: null }]);
    });

    it("when the held guarantee is amended, then the contract is 変更あり until someone of the orderer opens it", async () => {
      world.contracts.save(world.actor, contractForm(), null);
      const issued = await givenHeld(world);
      const amended = world.services.guarantees.change(issued.contractNumber, "amendment", { branch: { tel: "017-722-0000" } }, "test");
      expect(amended.ok).to.equal(true);
      expect(stateOf()).to.equal("changed");
      const holdings = world.services.holdings;
      await holdings.recordView(world.officer, holdings.findHeld(world.officer, issued.contractNumber)!, "guarantee_view", "192.0.2.10");
      expect(stateOf()).to.equal("ok");
    });

    it("when the amendment breaks a rule, then 要確認 outranks 変更あり", async () => {
      world.contracts.save(world.actor, contractForm(), null);
      const issued = await givenHeld(world);
      world.services.guarantees.change(issued.contractNumber, "amendment", { guaranteeAmount: 19_999_999 }, "test");
      expect(stateOf()).to.equal("attention");
    });

    it("when the guarantee is cancelled, then the contract is 取消", async () => {
      world.contracts.save(world.actor, contractForm(), null);
      const issued = await givenHeld(world);
      expect(world.services.guarantees.cancel(issued.contractNumber, "契約解除", "test").ok).to.equal(true);
      expect(stateOf()).to.equal("cancelled");
    });

    it("when midnight passes in Tokyo after the 保証期限, then the contract is 期限切れ, whatever the server's zone", async () => {
      world.contracts.save(world.actor, contractForm(), null);
      await givenHeld(world, { guaranteeExpiry: "2027-04-18" });
      world.clock.set("2027-04-18T14:59:59.999Z"); // 2027-04-18 23:59:59.999 in Tokyo
      expect(stateOf()).to.equal("ok");
      world.clock.set("2027-04-18T15:00:00.000Z"); // 2027-04-19 00:00 in Tokyo
      expect(stateOf()).to.equal("expired");
    });

    it("when the orderer's ceiling is another, then the service applies it", async () => {
      const contracts = createContractService({
        contracts: world.repositories.contracts, audit: world.services.audit, clock: world.clock, tx: createTransactions(world.db),
        checkSettings: () => ({ advanceCeiling: { numerator: 3, denominator: 10 }, interimCeiling: { numerator: 1, denominator: 5 } }),
      });
      contracts.save(world.actor, contractForm(), null);
      await givenHeld(world);
      expect(contracts.find(world.officer.ordererId, "R8-001")!.evaluation.state).to.equal("attention");
    });
  });

  describe("the register list", () => {
    const references = (page: { entries: { contract: { reference: string } }[] }) => page.entries.map((e) => e.contract.reference);

    function register(count: number) {
      for (let i = 1; i <= count; i++) {
        const n = String(i).padStart(3, "0");
        const saved = world.contracts.save(world.actor, contractForm({ reference: `R8-${n}`, projectName: i % 2 ? `道路改良工事${n}` : `橋梁補修工事${n}`, advanceAmount: "", guaranteeNumbers: "" }), null);
        if (!saved.ok) throw new Error(JSON.stringify(saved.problems));
      }
    }

    it("when paged, then each page follows the last reference of the one before and the last has no next", () => {
      register(7);
      const first = world.contracts.list(world.officer.ordererId, { limit: 3 });
      expect([references(first), first.next]).to.deep.equal([["R8-001", "R8-002", "R8-003"], "R8-003"]);
      // A contract registered between two pages neither repeats nor shifts a row.
      world.contracts.save(world.actor, contractForm({ reference: "R8-000", guaranteeNumbers: "" }), null);
      const second = world.contracts.list(world.officer.ordererId, { limit: 3, after: first.next });
      expect([references(second), second.next]).to.deep.equal([["R8-004", "R8-005", "R8-006"], "R8-006"]);
      const third = world.contracts.list(world.officer.ordererId, { limit: 3, after: second.next });
      expect([references(third), third.next]).to.deep.equal([["R8-007"], null]);
    });

    it("when searched, then the 工事名 or 契約番号 is matched after NFKC and case folding, % taken literally", () => {
      register(6);
      expect(references(world.contracts.list(world.officer.ordererId, { query: "橋梁" }))).to.deep.equal(["R8-002", "R8-004", "R8-006"]);
      expect(references(world.contracts.list(world.officer.ordererId, { query: "ｒ８－００５" }))).to.deep.equal(["R8-005"]);
      expect(references(world.contracts.list(world.officer.ordererId, { query: "%" }))).to.deep.equal([]);
      const page = world.contracts.list(world.officer.ordererId, { query: "工事", limit: 4 });
      expect([references(page), page.next]).to.deep.equal([["R8-001", "R8-002", "R8-003", "R8-004"], "R8-004"]);
    });

    it("when only contracts needing attention are asked for, then 適合 ones are skipped across pages", async () => {
      register(5); // none requires a guarantee: 適合
      for (const n of ["002", "004", "005"]) {
        world.contracts.save(world.actor, contractForm({ reference: `R8-${n}`, advanceAmount: "20000000", guaranteeNumbers: "" }), { reference: `R8-${n}`, revision: 1 });
      }
      const first = world.contracts.list(world.officer.ordererId, { attentionOnly: true, limit: 2 });
      expect([references(first), first.next]).to.deep.equal([["R8-002", "R8-004"], "R8-004"]);
      expect(first.entries.map((e) => e.evaluation.state)).to.deep.equal(["missing", "missing"]);
      const second = world.contracts.list(world.officer.ordererId, { attentionOnly: true, limit: 2, after: first.next });
      expect([references(second), second.next]).to.deep.equal([["R8-005"], null]);
    });

    it("when another orderer has contracts, then neither list, find nor export shows them", async () => {
      register(2);
      const other = await givenOfficer(world, { login: "aomori-sato", orderer: "022012" });
      expect(world.contracts.save(actorOf(other.officer), contractForm({ reference: "R8-001", projectName: "青森の工事" }), null).ok).to.equal(true);
      expect(references(world.contracts.list(other.officer.ordererId))).to.deep.equal(["R8-001"]);
      expect(world.contracts.find(other.officer.ordererId, "R8-002")).to.equal(undefined);
      expect(world.contracts.find(world.officer.ordererId, "R8-001")!.contract.projectName).to.equal("道路改良工事001");
      const exported = world.contracts.exportLedger(actorOf(other.officer), "utf-8");
      expect(exported.ok && Buffer.from(exported.value).toString("utf8").split("\r\n").filter(Boolean)).to.have.length(2);
    });
  });
});
