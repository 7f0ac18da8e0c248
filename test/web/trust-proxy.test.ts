import { expect } from "chai";
import { loadConfig } from "../../src/config.js";
import { givenOfficer } from "../support/given.js";
import { buildTestApp, csrfTokenOf, type WebWorld } from "../support/web.js";
import request from "supertest";

describe("behind a reverse proxy", () => {
  let world: WebWorld;
  afterEach(() => world?.close());

  it("when TRUST_PROXY is a hop count, then it is read as a number, not as an address", () => {
    expect(loadConfig({ NODE_ENV: "test", TRUST_PROXY: "1" }).trustProxy).to.equal(1);
    expect(loadConfig({ NODE_ENV: "test", TRUST_PROXY: "loopback" }).trustProxy).to.equal("loopback");
    expect(loadConfig({ NODE_ENV: "test" }).trustProxy).to.equal(false);
  });

  it("when TRUST_PROXY=1, then the audit records the client address the proxy forwarded", async () => {
    world = await buildTestApp({ env: { TRUST_PROXY: "1" } });
    const { login } = await givenOfficer(world);
    const agent = request.agent(world.app);
    const page = await agent.get("/login");
    await agent.post("/login").set("X-Forwarded-For", "203.0.113.7").type("form")
      .send({ _csrf: csrfTokenOf(page.text), username: login, password: "a wrong password here" });
    const row = world.db.prepare("SELECT client_address FROM audit_events WHERE event = 'authn_login_fail'").get();
    expect(row).to.deep.equal({ client_address: "203.0.113.7" });
  });
});
