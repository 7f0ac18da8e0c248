import { expect } from "chai";
import { setTimeout as delay } from "node:timers/promises";
import request from "supertest";
import { createApp } from "../../src/app.js";
import { createServices } from "../../src/composition.js";
import { createLogger } from "../../src/logger.js";
import { givenGuarantee, givenGuarantees, givenOrderer, sampleCertificate } from "../support/given.js";
import { buildTestApp, type WebWorld } from "../support/web.js";
import { expectProblem, givenApiClient, tokenFor } from "./support.js";

const auditRows = (w: WebWorld, event: string) =>
  w.db.prepare("SELECT actor_kind, actor, officer_id, orderer_code, outcome, contract_number FROM audit_events WHERE event = ? ORDER BY id").all(event) as
    { actor_kind: string; actor: string; officer_id: number | null; orderer_code: string; outcome: string; contract_number: string }[];

describe("API: POST /api/v1/verifications", () => {
  let w: WebWorld;
  beforeEach(async () => { w = await buildTestApp(); });
  afterEach(() => w.close());

  it("when the client sends the number and key as a contractor typed them, then 201 with the guarantee, held by the orderer and audited under the client", async () => {
    const issued = await givenGuarantee(w);
    const client = givenApiClient(w);
    const token = await tokenFor(w.app, client);
    const fullWidth = issued.contractNumber.replace("-", "ー").replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)));
    const res = await request(w.app).post("/api/v1/verifications").set("Authorization", `Bearer ${token}`)
      .send({ contractNumber: fullWidth, authKey: ` ${issued.authKey.toLowerCase()} ` });
    expect(res.status, res.text).to.equal(201);
    expect(res.headers["set-cookie"]).to.equal(undefined);
    expect(Object.keys(res.headers).filter((h) => h.startsWith("access-control-"))).to.deep.equal([]);
    expect(res.headers.location).to.equal(`/api/v1/guarantees/${issued.contractNumber}`);
    expect(res.body).to.deep.include({ contractNumber: issued.contractNumber, product: "advance", status: "valid", cancellation: null, guaranteeExpiry: "2027-04-18" });
    expect(res.body.current.certificate.guaranteeAmount).to.equal(20000000);
    expect(res.body.versions.map((v: { sequence: number; kind: string }) => [v.sequence, v.kind])).to.deep.equal([[1, "new"]]);
    expect(auditRows(w, "key_verify_success")).to.deep.equal([
      { actor_kind: "api-client", actor: client.clientId, officer_id: null, orderer_code: "022080", outcome: "ok", contract_number: issued.contractNumber },
    ]);
    // Neither the secret, the token nor the key is in the log or the database.
    const everything = `${w.logs.join("")}${JSON.stringify(w.db.prepare("SELECT * FROM audit_events").all())}${JSON.stringify(w.db.prepare("SELECT * FROM api_clients").all())}`;
    for (const secret of [client.clientSecret, token, issued.authKey]) expect(everything).not.to.include(secret);
    const held = w.db.prepare("SELECT first_verified_by, first_verified_by_client FROM orderer_guarantees").all();
    expect(held).to.deep.equal([{ first_verified_by: null, first_verified_by_client: w.services.apiClients.findActive(client.clientId)!.id }]);
  });

  it("when the number is unknown, the key wrong, or the guarantee another orderer's, then the same 422 every time, nothing is held, and the audit names the cause", async () => {
    givenOrderer(w, "012025", "旭川市");
    const [mine, theirs] = await givenGuarantees(w, [
      sampleCertificate(),
      sampleCertificate({ contractNumber: "01202-000001", orderer: { code: "012025", title: "旭川市長" } }),
    ]);
    const token = await tokenFor(w.app, givenApiClient(w));
    const attempts = [
      { contractNumber: "02208-999999", authKey: mine!.authKey },
      { contractNumber: mine!.contractNumber, authKey: "ABCDEFGHJKMN" },
      { contractNumber: theirs!.contractNumber, authKey: theirs!.authKey },
    ];
    const answers = [];
    for (const body of attempts) {
      const res = await request(w.app).post("/api/v1/verifications").set("Authorization", `Bearer ${token}`).send(body);
      expectProblem(res, 422, "verification-failed");
      expect(res.body.errors).to.equal(undefined);
      answers.push(JSON.stringify(res.body));
    }
    expect(new Set(answers).size).to.equal(1);
    expect(w.db.prepare("SELECT count(*) AS n FROM orderer_guarantees").get()).to.deep.equal({ n: 0 });
    expect(auditRows(w, "key_verify_fail").map((r) => r.outcome)).to.deep.equal(["unknown-number", "wrong-key"]);
    expect(auditRows(w, "authz_fail").map((r) => [r.actor_kind, r.outcome])).to.deep.equal([["api-client", "other-orderer"]]);
  });

  it("when a field cannot be read or is missing, then 422 or 400 naming each field by JSON pointer, and no argon2 work", async () => {
    const token = await tokenFor(w.app, givenApiClient(w));
    const before = w.hasher.counts.verify;
    const unreadable = await request(w.app).post("/api/v1/verifications").set("Authorization", `Bearer ${token}`).send({ contractNumber: "12-34", authKey: "short" });
    expectProblem(unreadable, 422, "invalid-fields");
    expect(unreadable.body.errors.map((e: { pointer: string }) => e.pointer)).to.deep.equal(["/contractNumber", "/authKey"]);
    const missing = await request(w.app).post("/api/v1/verifications").set("Authorization", `Bearer ${token}`).send({ contractNumber: "02208-000001" });
    expectProblem(missing, 400, "invalid-request");
    expect(missing.body.errors.map((e: { pointer: string }) => e.pointer)).to.deep.equal(["/authKey"]);
    const extra = await request(w.app).post("/api/v1/verifications").set("Authorization", `Bearer ${token}`).send({ contractNumber: "02208-000001", authKey: "ABCDEFGHJKMN", officer: "x" });
    expectProblem(extra, 400, "invalid-request");
    const notJson = await request(w.app).post("/api/v1/verifications").set("Authorization", `Bearer ${token}`).set("Content-Type", "application/json").send("{not json");
    expectProblem(notJson, 400, "entity-parse-failed");
    const form = await request(w.app).post("/api/v1/verifications").set("Authorization", `Bearer ${token}`).type("form").send({ contractNumber: "02208-000001", authKey: "ABCDEFGHJKMN" });
    expectProblem(form, 415, "unsupported-media-type");
    expect(w.hasher.counts.verify).to.equal(before);
  });

  it("when the client fails more often than an officer may (10 in the window), then 429 with Retry-After and no argon2 work", async () => {
    await givenGuarantee(w);
    const token = await tokenFor(w.app, givenApiClient(w));
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const res = await request(w.app).post("/api/v1/verifications").set("Authorization", `Bearer ${token}`)
        .send({ contractNumber: `02208-00010${i % 10}`, authKey: "ABCDEFGHJKMN" });
      statuses.push(res.status);
      if (res.status === 429) {
        expectProblem(res, 429, "throttled");
        expect(Number(res.headers["retry-after"])).to.be.greaterThan(0);
      }
    }
    expect(statuses).to.deep.equal([...Array(10).fill(422), 429]);
    expect(w.hasher.counts.verify).to.equal(10);
  });

  it("when argon2 is busy, then 503 with Retry-After, and the attempt counts against nobody", async () => {
    const issued = await givenGuarantee(w);
    const client = givenApiClient(w);
    const slow = { ...w.hasher, verify: async (hash: string, secret: string) => { await delay(50); return w.hasher.verify(hash, secret); } };
    const limits = { ...w.config.limits, argon2: { concurrency: 1, queue: 0, retryAfterSeconds: 1 } };
    const services = createServices({ db: w.db, clock: w.clock, hasher: slow, limits });
    const app = createApp({ config: w.config, services, clock: w.clock, logger: createLogger({ level: "silent" }) });
    try {
      const token = await tokenFor(app, client);
      const many = await Promise.all(Array.from({ length: 4 }, () =>
        request(app).post("/api/v1/verifications").set("Authorization", `Bearer ${token}`).send({ contractNumber: issued.contractNumber, authKey: "ABCDEFGHJKMN" })));
      const busy = many.filter((r) => r.status === 503);
      expect(busy.length, many.map((r) => r.status).join()).to.be.at.least(1);
      for (const res of busy) {
        expectProblem(res, 503, "argon2-busy");
        expect(res.headers["retry-after"]).to.equal("1");
      }
      // The orderer's counter on the number (NUMBER/ORDERER): only the attempts argon2 actually ran.
      const failures = w.db.prepare("SELECT failures FROM throttle_counters WHERE scope = 'contract' AND key = ?").get(`${issued.contractNumber}/022080`) as { failures: number };
      expect(failures.failures).to.equal(many.filter((r) => r.status === 422).length);
    } finally {
      app.close();
    }
  });
});
