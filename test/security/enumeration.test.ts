import { expect } from "chai";
import { givenGuarantee, givenGuarantees, givenOfficer, sampleCertificate } from "../support/given.js";
import { buildTestApp, type WebWorld } from "../support/web.js";
import { comparable, headerNames, loginForm, officerSession, postLogin, postVerify } from "./helpers.js";

describe("security: enumeration (responses)", () => {
  let world: WebWorld;
  beforeEach(async () => { world = await buildTestApp(); });
  afterEach(() => world.close());

  it("when a login fails as unknown, wrong, disabled (right or wrong password) or with an empty field, then status, header names and body are the same and each costs exactly one argon2 verification", async () => {
    const active = await givenOfficer(world, { login: "mutsu-tanaka" });
    const disabled = await givenOfficer(world, { login: "mutsu-suzuki" });
    world.services.officers.setActive(disabled.login, false, "test");
    const cases: Record<string, { username: string; password: string }> = {
      unknownUser: { username: "mutsu-nobody", password: active.password },
      wrongPassword: { username: active.login, password: "not the right password" },
      disabledWrongPassword: { username: disabled.login, password: "not the right password" },
      disabledRightPassword: { username: disabled.login, password: disabled.password },
      emptyUsername: { username: "", password: active.password },
      emptyPassword: { username: active.login, password: "" },
    };
    const seen: Record<string, unknown> = {};
    for (const [name, { username, password }] of Object.entries(cases)) {
      const { agent, token } = await loginForm(world.app);
      const before = world.hasher.counts.verify;
      const res = await postLogin(agent, token, username, password);
      expect(world.hasher.counts.verify - before, name).to.equal(1);
      seen[name] = { status: res.status, headers: headerNames(res), body: comparable(res.text) };
    }
    const first = seen.unknownUser as { status: number; body: string };
    expect(first.status).to.equal(401);
    expect(first.body).to.contain("ログインIDまたはパスワードが正しくありません。");
    for (const [name, outcome] of Object.entries(seen)) expect(outcome, name).to.deep.equal(first);
    const outcomes = world.db.prepare("SELECT outcome FROM audit_events WHERE event = 'authn_login_fail' ORDER BY id").all().map((r) => (r as { outcome: string }).outcome);
    expect(outcomes).to.deep.equal(["unknown-user", "wrong-password", "wrong-password", "disabled", "unknown-user", "wrong-password"]);
  });

  it("when a verification fails as unknown number, wrong key, or another orderer's guarantee (right or wrong key), then status, header names and body are the same, one argon2 each", async () => {
    const mutsu = await givenGuarantee(world);
    world.services.orderers.add({ code: "022012", name: "青森市" }, "test");
    const [aomori] = await givenGuarantees(world, [sampleCertificate({ contractNumber: "02201-000001", orderer: { code: "022012", title: "青森市長" } })]);
    const officer = await givenOfficer(world);
    const { agent, token } = await officerSession(world.app, officer.login, officer.password);
    const cases: Record<string, [string, string]> = {
      unknownNumber: ["99999-999999", mutsu.authKey],
      wrongKey: [mutsu.contractNumber, "ZZZZZZZZZZZZ"],
      otherOrdererRightKey: [aomori!.contractNumber, aomori!.authKey],
      otherOrdererWrongKey: [aomori!.contractNumber, "ZZZZZZZZZZZZ"],
    };
    const seen: Record<string, unknown> = {};
    for (const [name, [contractNumber, authKey]] of Object.entries(cases)) {
      const before = world.hasher.counts.verify;
      const res = await postVerify(agent, token, contractNumber, authKey);
      expect(world.hasher.counts.verify - before, name).to.equal(1);
      seen[name] = { status: res.status, headers: headerNames(res), body: comparable(res.text) };
    }
    for (const [name, outcome] of Object.entries(seen)) expect(outcome, name).to.deep.equal(seen.unknownNumber);
    expect((seen.unknownNumber as { status: number }).status).to.equal(400);
  });
});
