import { expect } from "chai";
import { givenGuarantee, givenOfficer } from "../support/given.js";
import { buildTestApp, csrfTokenOf, loginAs, postForm, type WebWorld } from "../support/web.js";

describe("printing a certificate", () => {
  let world: WebWorld;
  beforeEach(async () => { world = await buildTestApp(); });
  afterEach(() => world.close());

  it("when the browser starts printing, then the print is in the audit trail with the officer and the version", async () => {
    const { login, password } = await givenOfficer(world);
    const issued = await givenGuarantee(world);
    const agent = await loginAs(world.app, login, password);
    await postForm(agent, "/verify", "/verify", { contractNumber: issued.contractNumber, authKey: issued.authKey });
    const page = await agent.get(`/guarantees/${issued.contractNumber}/certificate`);
    const action = /action="([^"]+\/print)"/.exec(page.text)?.[1];
    expect(action).to.equal(`/guarantees/${issued.contractNumber}/versions/1/print`);
    const res = await agent.post(action!).type("form").send({ _csrf: csrfTokenOf(page.text) });
    expect(res.status).to.equal(204);
    const row = world.db.prepare("SELECT actor, contract_number, detail FROM audit_events WHERE event = 'certificate_print'").get();
    expect(row).to.deep.equal({ actor: login, contract_number: issued.contractNumber, detail: '{"sequence":1}' });
  });

  it("when another orderer's officer or a request without token posts a print, then nothing is recorded", async () => {
    const { login, password } = await givenOfficer(world);
    const other = await givenOfficer(world, { login: "aomori-sato", orderer: "022012" });
    const issued = await givenGuarantee(world);
    const agent = await loginAs(world.app, login, password);
    await postForm(agent, "/verify", "/verify", { contractNumber: issued.contractNumber, authKey: issued.authKey });
    const noToken = await agent.post(`/guarantees/${issued.contractNumber}/versions/1/print`).type("form").send({});
    expect(noToken.status).to.equal(403);
    const stranger = await loginAs(world.app, other.login, other.password);
    const strangerPage = await stranger.get("/verify");
    const foreign = await stranger.post(`/guarantees/${issued.contractNumber}/versions/1/print`).type("form").send({ _csrf: csrfTokenOf(strangerPage.text) });
    expect(foreign.status).to.equal(404);
    expect(world.db.prepare("SELECT count(*) AS n FROM audit_events WHERE event = 'certificate_print'").get()).to.deep.equal({ n: 0 });
  });
});
