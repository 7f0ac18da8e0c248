import { expect } from "chai";
import { givenGuarantee, givenIssuer, givenOrderer, sampleCertificate, givenGuarantees } from "./support/given.js";
import { buildWorld, type World } from "./support/world.js";

describe("guarantee lifecycle (service)", () => {
  let world: World;
  beforeEach(async () => { world = await buildWorld(); });
  afterEach(() => world.close());

  it("when a certificate is issued, then only an argon2id hash of its key is stored and the key verifies against it", async () => {
    const issued = await givenGuarantee(world);
    expect(issued.authKey).to.match(/^[0-9A-HJKMNP-TV-Z]{12}$/);
    const stored = world.services.guarantees.findByContractNumber(issued.contractNumber)!;
    expect(stored.authKeyHash).to.match(/^\$argon2id\$/);
    expect(stored.authKeyHash).not.to.contain(issued.authKey);
    expect(await world.hasher.verify(stored.authKeyHash, issued.authKey)).to.equal(true);
  });

  it("when amended, corrected and withdrawn, then the history keeps every version and lists only those in force", async () => {
    const { contractNumber } = await givenGuarantee(world);
    const g = world.services.guarantees;
    const a1 = g.change(contractNumber, "amendment", { guaranteeAmount: 25000000, contractAmount: 60000000 }, "test");
    expect(a1.ok && a1.value.amendmentNumber).to.equal(1);
    const c1 = g.change(contractNumber, "correction", { projectName: "むつ市道大畑線道路改良工事（その2）" }, "test");
    expect(c1.ok && c1.value.kind).to.equal("correction");
    const guarantee = g.findByContractNumber(contractNumber)!;
    let versions = g.listVersions(guarantee.id);
    expect(versions.map((v) => [v.sequence, v.kind, v.amendmentNumber, v.retraction?.cause ?? null])).to.deep.equal([
      [1, "new", 0, null], [2, "amendment", 1, "corrected"], [3, "correction", 1, null],
    ]);
    const w = g.withdraw(contractNumber, "test");
    expect(w.ok && w.value.sequence).to.equal(1);
    const a2 = g.change(contractNumber, "amendment", { periodTo: "2027-03-26" }, "test");
    expect(a2.ok && a2.value.amendmentNumber, "a withdrawn 変更 number is never reused").to.equal(2);
    versions = g.listVersions(guarantee.id);
    expect(versions.filter((v) => !v.retraction).map((v) => v.sequence)).to.deep.equal([1, 4]);
  });

  it("when the guarantee would exceed the contract amount after an amendment, then nothing is appended", async () => {
    const { contractNumber } = await givenGuarantee(world);
    const result = world.services.guarantees.change(contractNumber, "amendment", { guaranteeAmount: 60000000 }, "test");
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.problems[0]!.field).to.equal("guaranteeAmount");
    expect(world.services.guarantees.listVersions(1)).to.have.length(1);
  });

  it("when a key is rotated, then the old key no longer verifies and the new one does", async () => {
    const issued = await givenGuarantee(world);
    const rotated = await world.services.guarantees.rotateKey(issued.contractNumber, "test");
    if (!rotated.ok) throw new Error("refused");
    const stored = world.services.guarantees.findByContractNumber(issued.contractNumber)!;
    expect(await world.hasher.verify(stored.authKeyHash, issued.authKey)).to.equal(false);
    expect(await world.hasher.verify(stored.authKeyHash, rotated.value.authKey)).to.equal(true);
  });

  it("when a file is issued with a number of hashes in flight, then the pool is kept that busy and never busier", async () => {
    givenIssuer(world);
    givenOrderer(world);
    let running = 0;
    let most = 0;
    const inner = world.hasher.hash;
    world.hasher.hash = async (secret) => {
      most = Math.max(most, ++running);
      try {
        return await inner(secret);
      } finally {
        running--;
      }
    };
    const rows = Array.from({ length: 12 }, (_, i) => sampleCertificate({ contractNumber: `02208-${String(100 + i).padStart(6, "0")}` }));
    const result = await world.services.issuance.issue(rows, { actor: "test", hashesInFlight: 4 });
    expect(result.ok && result.value.length).to.equal(12);
    expect(most).to.equal(4);
  });

  it("when a file has a bad row in the middle, then no certificate of it is issued and the row is named", async () => {
    await givenGuarantees(world, [sampleCertificate({ contractNumber: "02208-000100" })]);
    const rows = Array.from({ length: 50 }, (_, i) => sampleCertificate({ contractNumber: `02208-${String(200 + i).padStart(6, "0")}` }));
    rows[24] = sampleCertificate({ contractNumber: "02208-000224", guaranteeAmount: 90000000 });
    const result = await world.services.issuance.issue(rows, { actor: "test" });
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.problems).to.deep.include({ row: 25, field: "guaranteeAmount", message: "90000000 yen exceeds the contract amount 50000000 yen" });
    expect(world.db.prepare("SELECT count(*) AS n FROM guarantees").get()).to.deep.equal({ n: 1 });
  });
});
