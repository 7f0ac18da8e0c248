import { expect } from "chai";
import request from "supertest";
import { givenGuarantee, givenOfficer } from "../support/given.js";
import { buildTestApp, loginAs, postForm, type WebWorld } from "../support/web.js";

describe("officer journey (smoke)", () => {
  let world: WebWorld;
  beforeEach(async () => { world = await buildTestApp(); });
  afterEach(() => world.close());

  it("when an officer of むつ市 enters the sample's number in full-width and its key in lower case, then the guarantee opens", async () => {
    const { login, password } = await givenOfficer(world);
    const issued = await givenGuarantee(world);
    const agent = await loginAs(world.app, login, password);
    const fullWidth = issued.contractNumber.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0)).replace("-", "－");
    const res = await postForm(agent, "/verify", "/verify", { contractNumber: fullWidth, authKey: issued.authKey.toLowerCase() });
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal(`/guarantees/${issued.contractNumber}`);
    const page = await agent.get(res.headers.location!);
    expect(page.status).to.equal(200);
    expect(page.headers["cache-control"]).to.equal("no-store");
    expect(page.headers.etag, "a no-store page is never revalidated, so it is not hashed for an ETag").to.equal(undefined);
  });

  it("when a style sheet is fetched, then it can be cached and revalidated", async () => {
    const css = await request(world.app).get("/static/app.css");
    expect(css.status).to.equal(200);
    expect(css.headers.etag).to.be.a("string");
  });
});
