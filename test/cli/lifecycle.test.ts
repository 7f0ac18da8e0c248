import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { buildCliWorld, givenIssued, givenRegistry, sampleCertificate, type CliWorld } from "./cli-world.js";

/** The version rows of `show`: No., label, kind, listed, and the retraction if any. */
function versionRows(stdout: string): string[][] {
  const lines = stdout.split("\n");
  const start = lines.findIndex((l) => l.startsWith("No."));
  return lines.slice(start + 1).filter((l) => l.trim() !== "").map((l) => {
    const cells = l.trim().split(/\s{2,}/);
    return [cells[0]!, cells[1]!, cells[2]!, cells[4]!, ...(cells[5] ? [cells[5].replace(/ \d{4}\/.*$/, "")] : [])];
  });
}

describe("admin CLI: amend, correct, withdraw, cancel, rotate-key and show", () => {
  let world: CliWorld;
  let issued: { contractNumber: string; authKey: string };
  beforeEach(async () => {
    world = await buildCliWorld();
    await givenRegistry(world);
    [issued] = (await givenIssued(world, [sampleCertificate({ contractNumber: "02208-000001" })])) as [typeof issued];
  });
  afterEach(() => world.close());

  const change = (name: string, content: unknown) => world.file(name, JSON.stringify(content));

  it("when a guarantee is only issued, then show prints it valid with one 新規 version and never its key", async () => {
    const result = await world.run(["show", "02208-000001"]);
    expect(result.status).to.equal(0);
    expect(result.stdout).to.match(/^02208-000001\s+前払金保証\s+有効/);
    expect(result.stdout).to.contain("20,000,000 円").and.contain("むつ市");
    expect(versionRows(result.stdout)).to.deep.equal([["1", "新規", "新規", "yes"]]);
    expect(result.stdout).not.to.contain(issued.authKey).and.not.contain("argon2");
  });

  it("when amended, corrected, withdrawn and cancelled, then show tells the whole history and the status", async () => {
    world.clock.advance(60_000);
    const amend = await world.run(["amend", "02208-000001", change("a.json", { contractAmount: "60,000,000", guaranteeAmount: 24000000 })]);
    expect(amend).to.deep.include({ status: 0, stdout: "02208-000001: 変更-1 issued as version 2\n" });
    let shown = await world.run(["show", "02208-000001"]);
    expect(shown.stdout).to.contain("24,000,000 円").and.contain("in force:   version 2 (変更-1)");

    world.clock.advance(60_000);
    const correct = await world.run(["correct", "02208-000001", change("c.json", { projectName: "むつ市道大畑線道路改良工事（その2）" })]);
    expect(correct.status).to.equal(0);
    expect(correct.stdout).to.contain("訂正 of 変更-1 issued as version 3");

    world.clock.advance(60_000);
    const amend2 = await world.run(["amend", "0220８ー000001", change("a2.json", { periodTo: "2027-03-26" })]);
    expect(amend2.stdout).to.contain("変更-2 issued as version 4");
    const withdraw = await world.run(["withdraw", "02208-000001"]);
    expect(withdraw.stdout).to.equal("02208-000001: 変更-2 (version 4) withdrawn; 変更-1 (version 3) is in force again\n");

    shown = await world.run(["show", "02208-000001"]);
    expect(versionRows(shown.stdout)).to.deep.equal([
      ["1", "新規", "新規", "yes"],
      ["2", "変更-1", "変更", "no", "訂正により差替え"],
      ["3", "変更-1", "訂正", "yes"],
      ["4", "変更-2", "変更", "no", "変更取消"],
    ]);
    expect(shown.stdout, "the certificate's words are stored as written").to.contain("（その2）").and.contain("in force:   version 3 (変更-1)");

    const cancel = await world.run(["cancel", "02208-000001", "--reason", "契約解除のため"]);
    expect(cancel).to.deep.include({ status: 0, stdout: "02208-000001 cancelled (取消): 契約解除のため\n" });
    shown = await world.run(["show", "02208-000001"]);
    expect(shown.stdout.split("\n")[0]).to.match(/取消 \(cancelled 2026\/11\/25 10:0\d: 契約解除のため\)/);
    expect(world.db.prepare("SELECT event FROM audit_events WHERE contract_number = '02208-000001' ORDER BY id").all().map((r) => (r as { event: string }).event))
      .to.deep.equal(["guarantee_issue", "guarantee_amend", "guarantee_correct", "guarantee_amend", "guarantee_withdraw", "guarantee_cancel"]);
  });

  it("when the 保証期限 has passed in Tokyo, then show says 期限切れ", async () => {
    world.clock.set("2027-04-18T15:00:00.000Z"); // 2027-04-19 00:00 in Tokyo, the day after the expiry
    expect((await world.run(["show", "02208-000001"])).stdout.split("\n")[0]).to.contain("期限切れ");
    world.clock.set("2027-04-18T14:59:00.000Z");
    expect((await world.run(["show", "02208-000001"])).stdout.split("\n")[0]).to.contain("有効");
  });

  it("when an amendment would put the guarantee above the contract amount or has bad dates, then it is refused and nothing is appended", async () => {
    const over = await world.run(["amend", "02208-000001", change("o.json", { guaranteeAmount: 60000000 })]);
    expect(over.status).to.equal(1);
    expect(over.stderr).to.equal("error: guaranteeAmount: 60000000 yen exceeds the contract amount 50000000 yen\n");
    const badDate = await world.run(["amend", "02208-000001", change("d.json", { periodTo: "2027-02-29" })]);
    expect(badDate.status).to.equal(1);
    expect(badDate.stderr).to.contain("periodTo: must be a real date");
    const unknownField = await world.run(["amend", "02208-000001", change("u.json", { colour: "red" })]);
    expect(unknownField.status).to.equal(1);
    expect(unknownField.stderr).to.contain("unknown field(s) colour");
    const product = await world.run(["correct", "02208-000001", change("p.json", { product: "contract" })]);
    expect(product.status, "the product can never change").to.equal(1);
    expect(world.count("guarantee_versions")).to.equal(1);
  });

  it("when the change file is malformed or not an object, then it is refused with its line", async () => {
    const file = world.file("m.json", '{\n  "guaranteeAmount": 1,,\n}');
    const malformed = await world.run(["amend", "02208-000001", file]);
    expect(malformed.status).to.equal(1);
    expect(malformed.stderr).to.contain("is not valid JSON at line 2").and.contain("nothing was changed");
    const array = await world.run(["amend", "02208-000001", change("arr.json", [{ guaranteeAmount: 1 }])]);
    expect(array.stderr).to.contain("must be one JSON object");
    expect(world.count("guarantee_versions")).to.equal(1);
  });

  it("when the contract number is unknown or malformed, then every command refuses it with exit 1", async () => {
    const f = change("a.json", { guaranteeAmount: 1 });
    for (const args of [["amend", "02208-000404", f], ["correct", "02208-000404", f], ["withdraw", "02208-000404"],
      ["cancel", "02208-000404", "--reason", "x"], ["rotate-key", "02208-000404"], ["show", "02208-000404"]]) {
      const result = await world.run(args);
      expect(result.status, args.join(" ")).to.equal(1);
      expect(result.stderr, args.join(" ")).to.contain("no guarantee 02208-000404 has been issued");
    }
    expect((await world.run(["show", "2208-1"])).stderr).to.contain("must be NNNNN-NNNNNN");
  });

  it("when there is no 変更 to withdraw, or the guarantee is cancelled, then the change is refused", async () => {
    const withdraw = await world.run(["withdraw", "02208-000001"]);
    expect(withdraw.status).to.equal(1);
    expect(withdraw.stderr).to.contain("there is no 変更 to withdraw");
    await world.run(["cancel", "02208-000001", "--reason", "契約解除"]);
    const again = await world.run(["cancel", "02208-000001", "--reason", "二度目"]);
    expect(again.status).to.equal(1);
    expect(again.stderr).to.contain("is cancelled");
    expect((await world.run(["amend", "02208-000001", change("a.json", { guaranteeAmount: 1 })])).status).to.equal(1);
    expect((await world.run(["rotate-key", "02208-000001"])).status).to.equal(1);
  });

  it("when cancel has no --reason, then it is a usage error", async () => {
    expect((await world.run(["cancel", "02208-000001"])).status).to.equal(2);
    expect(world.services.guarantees.findByContractNumber("02208-000001")!.status).to.equal("valid");
  });

  it("when a key is rotated, then the new key is printed once, verifies, and the old key stops working", async () => {
    const rotated = await world.run(["rotate-key", "02208-000001", "--json"]);
    expect(rotated.status).to.equal(0);
    const { contractNumber, authKey } = JSON.parse(rotated.stdout.trim()) as { contractNumber: string; authKey: string };
    expect(contractNumber).to.equal("02208-000001");
    expect(authKey).to.not.equal(issued.authKey);
    const stored = world.services.guarantees.findByContractNumber("02208-000001")!;
    expect(await world.hasher.verify(stored.authKeyHash, issued.authKey)).to.equal(false);
    expect(await world.hasher.verify(stored.authKeyHash, authKey)).to.equal(true);

    const plain = await world.run(["rotate-key", "02208-000001"]);
    expect(plain.stdout).to.match(/^02208-000001 {2}[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\n$/);
    const after = world.services.guarantees.findByContractNumber("02208-000001")!;
    expect(await world.hasher.verify(after.authKeyHash, authKey)).to.equal(false);
  });

  it("when a key is rotated with --notices, then a new notice with the new key and the current content is written", async () => {
    await world.run(["amend", "02208-000001", change("a.json", { projectName: "変更後の工事名" })]);
    const dir = path.join(world.dir, "notices");
    const rotated = await world.run(["rotate-key", "02208-000001", "--json", "--notices", dir]);
    const { authKey } = JSON.parse(rotated.stdout.trim()) as { authKey: string };
    const html = readFileSync(path.join(dir, "02208-000001.html"), "utf8");
    expect(html).to.contain(`${authKey.slice(0, 4)}-${authKey.slice(4, 8)}-${authKey.slice(8)}`).and.contain("変更後の工事名");
  });
});
