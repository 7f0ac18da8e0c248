import { expect } from "chai";
import { givenGuarantee, givenGuarantees, givenOfficer, sampleCertificate } from "../support/given.js";
import { buildTestApp, loginAs, postForm, type WebWorld } from "../support/web.js";

/** The page minus what may legitimately differ: the CSRF token and the echoed contract number. */
const comparable = (html: string) => html.replace(/name="_csrf" value="[^"]+"/g, "").replace(/id="contractNumber"([^>]*)value="[^"]*"/, 'id="contractNumber"$1');

describe("verifying a guarantee", () => {
  let world: WebWorld;
  beforeEach(async () => { world = await buildTestApp(); });
  afterEach(() => world.close());

  async function officerAgent(login = "mutsu-tanaka", orderer = "022080") {
    const officer = await givenOfficer(world, { login, orderer });
    return loginAs(world.app, officer.login, officer.password);
  }

  it("when the number is unknown, the key wrong or the guarantee another orderer's, then status and body are the same, each costs one argon2 verification, and the audit records each cause under its own event", async () => {
    const mutsu = await givenGuarantee(world);
    givenOrdererAomori();
    const [aomori] = await givenGuarantees(world, [sampleCertificate({ contractNumber: "02201-000001", orderer: { code: "022012", title: "青森市長" } })]);
    const agent = await officerAgent();
    const attempts = {
      unknownNumber: { contractNumber: "99999-999999", authKey: mutsu.authKey },
      wrongKey: { contractNumber: mutsu.contractNumber, authKey: "ZZZZZZZZZZZZ" },
      otherOrderer: { contractNumber: aomori!.contractNumber, authKey: aomori!.authKey },
    };
    const seen: { status: number; body: string; headers: string[] }[] = [];
    for (const fields of Object.values(attempts)) {
      const before = world.hasher.counts.verify;
      const res = await postForm(agent, "/verify", "/verify", fields);
      expect(world.hasher.counts.verify - before).to.equal(1);
      seen.push({ status: res.status, body: comparable(res.text), headers: Object.keys(res.headers).sort() });
    }
    expect(seen[0]!.body).to.contain("保証契約番号または認証キーが正しくないか");
    expect(seen[1]).to.deep.equal(seen[0]);
    expect(seen[2]).to.deep.equal(seen[0]);
    // The page hides the cause; the audit names it, each under its own event.
    const outcomes = world.db.prepare("SELECT event, outcome FROM audit_events WHERE event LIKE 'key_verify%' OR event LIKE 'authz%' ORDER BY id").all();
    expect(outcomes).to.deep.equal([
      { event: "key_verify_fail", outcome: "unknown-number" },
      { event: "key_verify_fail", outcome: "wrong-key" },
      { event: "authz_fail", outcome: "other-orderer" },
    ]);
  });

  function givenOrdererAomori() {
    world.services.orderers.add({ code: "022012", name: "青森市" }, "test");
  }

  it("when the input is not a contract number or not 12 characters, then it says so without touching argon2 or the audit", async () => {
    await givenGuarantee(world);
    const agent = await officerAgent();
    const before = { verify: world.hasher.counts.verify, audit: world.db.prepare("SELECT count(*) AS n FROM audit_events").get() };
    const res = await postForm(agent, "/verify", "/verify", { contractNumber: "0001-000002", authKey: "ABC" });
    expect(res.status).to.equal(400);
    expect(res.text).to.contain("「12345-123456」の形式");
    expect(res.text).to.contain("英数字12文字");
    expect(res.text).to.contain('role="alert"');
    expect(world.hasher.counts.verify).to.equal(before.verify);
    expect(world.db.prepare("SELECT count(*) AS n FROM audit_events").get()).to.deep.equal(before.audit);
  });

  it("when a logged-in officer's form is refused before the guards (a field far too long), then the error page still shows who is logged in and a working logout form", async () => {
    const agent = await officerAgent();
    const res = await postForm(agent, "/verify", "/verify", { contractNumber: "0".repeat(200), authKey: "ABC" });
    expect(res.status).to.equal(400);
    expect(res.text).to.contain("むつ市 田中 一郎 様");
    expect(res.text).to.contain('action="/logout"');
    const logout = await agent.post("/logout").type("form").send({ _csrf: /name="_csrf" value="([^"]+)"/.exec(res.text)![1] });
    expect(logout.status).to.equal(303);
    expect(logout.headers.location).to.equal("/login?bye=1");
    const afterwards = await agent.get("/verify");
    expect(afterwards.status).to.equal(303);
    expect(afterwards.headers.location).to.equal("/login");
  });

  it("when the key is typed with dashes, spaces, lower case and look-alikes, then it still verifies", async () => {
    const issued = await givenGuarantee(world);
    const agent = await officerAgent();
    const typed = issued.authKey.toLowerCase().replace(/0/g, "o").replace(/1/g, "l").replace(/(.{4})(.{4})/, "$1 - $2 ");
    const res = await postForm(agent, "/verify", "/verify", { contractNumber: issued.contractNumber.replace("-", "ー"), authKey: typed });
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal(`/guarantees/${issued.contractNumber}`);
    const certificate = await agent.get(res.headers.location!);
    expect(certificate.status).to.equal(200);
    expect(certificate.text).to.contain(issued.contractNumber);
  });

  it("when verification succeeds, then the audit holds the outcome and the number but never the key", async () => {
    const issued = await givenGuarantee(world);
    const agent = await officerAgent();
    await postForm(agent, "/verify", "/verify", { contractNumber: issued.contractNumber, authKey: issued.authKey });
    const row = world.db.prepare("SELECT * FROM audit_events WHERE event = 'key_verify_success'").get() as Record<string, unknown>;
    expect(row.contract_number).to.equal(issued.contractNumber);
    expect(row.orderer_code).to.equal("022080");
    expect(JSON.stringify(world.db.prepare("SELECT * FROM audit_events").all())).not.to.contain(issued.authKey);
    expect(world.logs.join("\n")).not.to.contain(issued.authKey);
  });

  it("when an officer fails ten times within 15 minutes, then the eleventh attempt gets 429 with Retry-After and no argon2 work", async () => {
    const issued = await givenGuarantee(world);
    const agent = await officerAgent();
    for (let i = 0; i < 10; i++) {
      const res = await postForm(agent, "/verify", "/verify", { contractNumber: `0220${i}-000001`, authKey: "ZZZZZZZZZZZZ" });
      expect(res.status, `attempt ${i + 1}`).to.equal(400);
    }
    const before = world.hasher.counts.verify;
    const blocked = await postForm(agent, "/verify", "/verify", { contractNumber: issued.contractNumber, authKey: issued.authKey });
    expect(blocked.status).to.equal(429);
    expect(Number(blocked.headers["retry-after"])).to.be.within(1, 900);
    expect(blocked.text).to.contain("以降にもう一度お試しください");
    expect(world.hasher.counts.verify).to.equal(before);
    world.clock.advance(15 * 60 * 1000 + 1000);
    const later = await postForm(agent, "/verify", "/verify", { contractNumber: issued.contractNumber, authKey: issued.authKey });
    expect(later.status).to.equal(303);
    expect(later.headers.location).to.equal(`/guarantees/${issued.contractNumber}`);
  });

  it("when a verification is asked for with GET and query parameters, then nothing is verified", async () => {
    const issued = await givenGuarantee(world);
    const agent = await officerAgent();
    const before = world.hasher.counts.verify;
    const res = await agent.get(`/verify?contractNumber=${issued.contractNumber}&authKey=${issued.authKey}`);
    expect(res.status).to.equal(200);
    expect(world.hasher.counts.verify).to.equal(before);
    expect((await agent.get(`/guarantees/${issued.contractNumber}`)).status).to.equal(404);
  });
});
