import { expect } from "chai";
import request from "supertest";
import type { IssuedGuarantee } from "../../src/guarantees/issuance.service.js";
import { givenGuarantees, givenOrderer, sampleCertificate } from "../support/given.js";
import { buildTestApp, type WebWorld } from "../support/web.js";
import { expectProblem, givenApiClient, tokenFor } from "./support.js";

const number = (i: number) => `02208-${String(i).padStart(6, "0")}`;

describe("API: reading guarantees", () => {
  let w: WebWorld;
  let token: string;
  let credentials: { clientId: string; clientSecret: string };
  let issued: IssuedGuarantee[];
  const get = (path: string, bearer = token) => request(w.app).get(path).set("Authorization", `Bearer ${bearer}`);
  const verify = (g: IssuedGuarantee, bearer = token) =>
    request(w.app).post("/api/v1/verifications").set("Authorization", `Bearer ${bearer}`).send({ contractNumber: g.contractNumber, authKey: g.authKey });

  beforeEach(async () => {
    w = await buildTestApp();
    issued = await givenGuarantees(w, [1, 2, 3].map((i) => sampleCertificate({ contractNumber: number(i), periodTo: "2027-01-10", guaranteeExpiry: `2027-0${i}-15` })));
    credentials = givenApiClient(w);
    token = await tokenFor(w.app, credentials);
  });
  afterEach(() => w.close());

  it("when a held guarantee is amended, corrected and cancelled, then the API shows its status with reason and date, the version in force and every version", async () => {
    expect((await verify(issued[0]!)).status).to.equal(201);
    expect(w.services.guarantees.change(number(1), "amendment", { guaranteeAmount: 25000000 }, "test").ok).to.equal(true);
    expect(w.services.guarantees.change(number(1), "correction", { projectName: "むつ市道大畑線道路改良工事（その2）" }, "test").ok).to.equal(true);
    w.clock.advance(60_000);
    expect(w.services.guarantees.cancel(number(1), "契約解除のため", "test").ok).to.equal(true);
    const res = await get(`/api/v1/guarantees/${number(1)}`);
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.include({ status: "cancelled", cancellation: { cancelledAt: "2026-11-25T01:01:00.000Z", reason: "契約解除のため" } });
    expect(res.body.current).to.include({ sequence: 3, kind: "correction", amendmentNumber: 1, correctsSequence: 2 });
    expect(res.body.current.certificate).to.include({ guaranteeAmount: 25000000, projectName: "むつ市道大畑線道路改良工事（その2）" });
    expect(res.body.versions.map((v: { sequence: number; kind: string; retraction: { cause: string } | null }) => [v.sequence, v.kind, v.retraction?.cause ?? null]))
      .to.deep.equal([[1, "new", null], [2, "amendment", "corrected"], [3, "correction", null]]);
    const first = await get(`/api/v1/guarantees/${number(1)}/versions/1`);
    expect(first.status, first.text).to.equal(200);
    expect(first.body.certificate.guaranteeAmount).to.equal(20000000);
    expectProblem(await get(`/api/v1/guarantees/${number(1)}/versions/4`), 404, "not-found");
    expectProblem(await get(`/api/v1/guarantees/${number(1)}/versions/0`), 400, "invalid-request");
    const audited = w.db.prepare("SELECT event, actor_kind, contract_number FROM audit_events WHERE event LIKE 'api_%view' ORDER BY id").all();
    expect(audited).to.deep.equal([
      { event: "api_guarantee_view", actor_kind: "api-client", contract_number: number(1) },
      { event: "api_version_view", actor_kind: "api-client", contract_number: number(1) },
    ]);
  });

  it("when the 保証期限 has passed (Tokyo calendar), then the status is expired", async () => {
    await verify(issued[0]!);
    w.clock.set("2027-01-15T14:59:59.000Z");
    token = await tokenFor(w.app, credentials);
    expect((await get(`/api/v1/guarantees/${number(1)}`)).body.status).to.equal("valid");
    w.clock.set("2027-01-15T15:00:00.000Z");
    expect((await get(`/api/v1/guarantees/${number(1)}`)).body.status).to.equal("expired");
  });

  it("when another orderer's client asks for this orderer's guarantees, or anyone for one not held, then the same 404 everywhere and an empty list", async () => {
    await verify(issued[0]!);
    givenOrderer(w, "012025", "旭川市");
    const other = await tokenFor(w.app, givenApiClient(w, "012025"));
    const notHeld = await get(`/api/v1/guarantees/${number(2)}`);
    expectProblem(notHeld, 404, "not-found");
    for (const path of [`/api/v1/guarantees/${number(1)}`, `/api/v1/guarantees/${number(1)}/versions/1`, `/api/v1/guarantees/${number(2)}`, "/api/v1/guarantees/99999-999999", "/api/v1/guarantees/nonsense"]) {
      const res = await get(path, other);
      expectProblem(res, 404, "not-found");
      expect(res.body.detail).to.equal(notHeld.body.detail);
    }
    const list = await get("/api/v1/guarantees", other);
    expect(list.body).to.deep.equal({ items: [], next: null });
    const contracts = await get("/api/v1/contracts", other);
    expect(contracts.body).to.deep.equal({ items: [], next: null });
  });

  it("when the list is filtered by status, expiresBefore and changedSince, then only the matching held guarantees, in the order first verified", async () => {
    for (const g of [issued[2]!, issued[0]!, issued[1]!]) { await verify(g); w.clock.advance(1000); }
    const all = await get("/api/v1/guarantees");
    expect(all.body.items.map((i: { contractNumber: string }) => i.contractNumber)).to.deep.equal([number(3), number(1), number(2)]);
    expect(all.body.items[0]).to.include({ product: "advance", status: "valid", contractAmount: 50000000, guaranteeAmount: 20000000, projectName: "むつ市道大畑線道路改良工事" });
    const soon = await get("/api/v1/guarantees?expiresBefore=2027-02-28");
    expect(soon.body.items.map((i: { contractNumber: string }) => i.contractNumber)).to.deep.equal([number(1), number(2)]);
    w.clock.advance(60_000);
    const mark = w.clock.now().toISOString();
    w.clock.advance(1000);
    w.services.guarantees.cancel(number(2), "取下げ", "test");
    const changed = await get(`/api/v1/guarantees?changedSince=${encodeURIComponent(mark.replace("Z", "+00:00"))}`);
    expect(changed.body.items.map((i: { contractNumber: string }) => i.contractNumber)).to.deep.equal([number(2)]);
    const cancelled = await get("/api/v1/guarantees?status=cancelled");
    expect(cancelled.body.items.map((i: { contractNumber: string; status: string }) => [i.contractNumber, i.status])).to.deep.equal([[number(2), "cancelled"]]);
    const valid = await get("/api/v1/guarantees?status=valid&limit=1");
    expect(valid.body.items.map((i: { contractNumber: string }) => i.contractNumber)).to.deep.equal([number(3)]);
    const next = await get(`/api/v1/guarantees?status=valid&limit=1&cursor=${valid.body.next}`);
    expect(next.body).to.deep.include({ next: null });
    expect(next.body.items.map((i: { contractNumber: string }) => i.contractNumber)).to.deep.equal([number(1)]);
  });

  it("when a query parameter is wrong, then 400 naming the parameter, and nothing is read", async () => {
    for (const [query, parameter] of [["status=gone", "status"], ["limit=0", "limit"], ["limit=201", "limit"], ["expiresBefore=2027-13-01", "expiresBefore"],
      ["changedSince=yesterday", "changedSince"], ["cursor=%21%21", "cursor"], ["cursor=eyJ4IjoxfQ", "cursor"], ["colour=red", "colour"]] as const) {
      const res = await get(`/api/v1/guarantees?${query}`);
      expect(res.status, query).to.equal(400);
      expectProblem(res, 400, res.body.type?.endsWith("invalid-parameter") ? "invalid-parameter" : "invalid-request");
      expect(res.body.errors.map((e: { parameter: string }) => e.parameter), query).to.deep.equal([parameter]);
    }
  });
});
