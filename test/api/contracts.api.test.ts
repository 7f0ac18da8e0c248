import { expect } from "chai";
import request from "supertest";
import { givenGuarantee, givenOrderer } from "../support/given.js";
import { buildTestApp, type WebWorld } from "../support/web.js";
import { expectProblem, givenApiClient, tokenFor } from "./support.js";

const terms = {
  projectName: "むつ市道大畑線道路改良工事",
  contractor: "〇〇建設 株式会社",
  contractAmount: 50000000,
  contractDate: "2026-11-02",
  periodFrom: "2026-11-04",
  periodTo: "2027-03-19",
  advanceAmount: 20000000,
  interimAmount: null,
  guaranteeRatio: null,
  guaranteeNumbers: ["02208-000001"],
};

describe("API: contracts", () => {
  let w: WebWorld;
  let token: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });
  const reference = "R8-土木-001";
  const path = `/api/v1/contracts/${encodeURIComponent(reference)}`;

  beforeEach(async () => {
    w = await buildTestApp();
    token = await tokenFor(w.app, givenApiClient(w));
  });
  afterEach(() => w.close());

  it("when a contract is PUT, then 201 and it is registered (未提出 until its guarantee is verified, 適合 after), audited under the client", async () => {
    const created = await request(w.app).put(path).set(auth()).send(terms);
    expect(created.status, created.text).to.equal(201);
    expect(created.headers.location).to.equal(path);
    expect(created.body).to.deep.include({ reference, contractAmount: 50000000, advanceAmount: 20000000, guaranteeNumbers: ["02208-000001"], revision: 1, state: "missing" });
    const issued = await givenGuarantee(w);
    expect((await request(w.app).post("/api/v1/verifications").set(auth()).send({ contractNumber: issued.contractNumber, authKey: issued.authKey })).status).to.equal(201);
    const read = await request(w.app).get(path).set(auth());
    expect(read.status, read.text).to.equal(200);
    expect(read.body.state).to.equal("ok");
    const checks = await request(w.app).get(`${path}/checks`).set(auth());
    expect(checks.status, checks.text).to.equal(200);
    expect(checks.body.state).to.equal("ok");
    expect(checks.body.contractChecks.map((c: { id: string; result: string }) => [c.id, c.result])).to.deep.equal([["advance-ceiling", "pass"], ["interim-ceiling", "na"]]);
    expect(checks.body.guarantees[0].checks.map((c: { id: string }) => c.id)).to.deep.equal(["contract-amount", "advance-amount", "period-covered", "status", "contractor-name", "project-name"]);
    expect(checks.body.guarantees[0].checks.find((c: { id: string }) => c.id === "contract-amount")).to.deep.include({
      result: "pass", contract: { kind: "yen", value: 50000000 }, certificate: { kind: "yen", value: 50000000 },
    });
    const list = await request(w.app).get("/api/v1/contracts").set(auth());
    expect(list.body.items.map((c: { reference: string; state: string }) => [c.reference, c.state])).to.deep.equal([[reference, "ok"]]);
    const audited = w.db.prepare("SELECT actor_kind FROM audit_events WHERE event = 'contract_add'").all();
    expect(audited).to.deep.equal([{ actor_kind: "api-client" }]);
  });

  it("when the contract is PUT again with a change (変更契約), then 200 with the next revision; with a stale revision, 409 and nothing changes", async () => {
    await request(w.app).put(path).set(auth()).send(terms);
    const changed = await request(w.app).put(path).set(auth()).send({ ...terms, contractAmount: 55000000, revision: 1 });
    expect(changed.status, changed.text).to.equal(200);
    expect(changed.body).to.include({ contractAmount: 55000000, revision: 2 });
    const stale = await request(w.app).put(path).set(auth()).send({ ...terms, contractAmount: 60000000, revision: 1 });
    expectProblem(stale, 409, "conflict");
    expect((await request(w.app).get(path).set(auth())).body).to.include({ contractAmount: 55000000, revision: 2 });
    const same = await request(w.app).put(path).set(auth()).send({ ...terms, contractAmount: 55000000 });
    expect([same.status, same.body.revision]).to.deep.equal([200, 2]);
    const events = (w.db.prepare("SELECT event FROM audit_events WHERE event LIKE 'contract_%' OR event = 'api_contract_unchanged' ORDER BY id").all() as { event: string }[]).map((r) => r.event);
    expect(events).to.deep.equal(["contract_add", "contract_change", "api_contract_unchanged"]);
  });

  it("when the terms are wrong, then 422 naming each field by JSON pointer, or 400 for what the document forbids, and nothing is registered", async () => {
    const wrong = await request(w.app).put(path).set(auth()).send({ ...terms, periodTo: "2026-10-01", guaranteeNumbers: ["12-3"] });
    expectProblem(wrong, 422, "invalid-fields");
    expect(wrong.body.errors.map((e: { pointer: string }) => e.pointer).sort()).to.deep.equal(["/contractDate", "/guaranteeNumbers", "/periodTo"]);
    const typed = await request(w.app).put(path).set(auth()).send({ ...terms, contractAmount: "50,000,000円" });
    expectProblem(typed, 400, "invalid-request");
    expect(typed.body.errors.map((e: { pointer: string }) => e.pointer)).to.deep.equal(["/contractAmount"]);
    expect((await request(w.app).get("/api/v1/contracts").set(auth())).body.items).to.deep.equal([]);
  });

  it("when the 契約番号 in the path is unusable or the body too large, then the path parameter or the size is named, and nothing is registered", async () => {
    const blank = await request(w.app).put(`/api/v1/contracts/${encodeURIComponent("\u200b")}`).set(auth()).send(terms);
    expectProblem(blank, 422, "invalid-fields");
    expect(blank.body.errors.map((e: { parameter: string }) => e.parameter)).to.deep.equal(["reference"]);
    const huge = await request(w.app).put(path).set(auth()).send({ ...terms, projectName: "工".repeat(6000) });
    expectProblem(huge, 413, "entity-too-large");
    expect((await request(w.app).get("/api/v1/contracts").set(auth())).body.items).to.deep.equal([]);
  });

  it("when another orderer's client asks for the contract, then 404, and its PUT creates its own contract, not a change of ours", async () => {
    await request(w.app).put(path).set(auth()).send(terms);
    givenOrderer(w, "012025", "旭川市");
    const other = { Authorization: `Bearer ${await tokenFor(w.app, givenApiClient(w, "012025"))}` };
    expectProblem(await request(w.app).get(path).set(other), 404, "not-found");
    expectProblem(await request(w.app).get(`${path}/checks`).set(other), 404, "not-found");
    expect((await request(w.app).put(path).set(other).send({ ...terms, contractAmount: 1 })).status).to.equal(201);
    expect((await request(w.app).get(path).set(auth())).body.contractAmount).to.equal(50000000);
  });

  it("when the register is longer than a page, then the pages follow each other by their next cursor, each contract once", async () => {
    for (let i = 1; i <= 5; i++) await request(w.app).put(`/api/v1/contracts/C-${i}`).set(auth()).send(terms);
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const res: request.Response = await request(w.app).get(`/api/v1/contracts?limit=2${next ? `&cursor=${next}` : ""}`).set(auth());
      expect(res.status, res.text).to.equal(200);
      seen.push(...res.body.items.map((c: { reference: string }) => c.reference));
      next = res.body.next;
    } while (next);
    expect(seen).to.deep.equal(["C-1", "C-2", "C-3", "C-4", "C-5"]);
  });
});
