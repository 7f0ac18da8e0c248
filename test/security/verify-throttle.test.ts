import { expect } from "chai";
import { VERIFY_FAILED } from "../../src/verification/verification.routes.js";
import { givenGuarantee, givenOfficer } from "../support/given.js";
import { buildTestApp, type WebWorld } from "../support/web.js";
import { comparable, count, headerNames, loginForm, officerSession, postLogin, postVerify, serve } from "./helpers.js";

const WRONG_KEY = "ZZZZZZZZZZZZ";
const DAY = 24 * 3600 * 1000;

describe("security: verification throttling and lockout (production numbers)", () => {
  let world: WebWorld;
  beforeEach(async () => {
    // Sessions outlive the days of test clock these tests wait through; every throttle number is production's.
    world = await buildTestApp({ limits: { session: { idleMs: 365 * DAY, absoluteMs: 365 * DAY } } });
    world.db.pragma("synchronous = NORMAL"); // hundreds of commits; durability is not what is tested here
  });
  afterEach(() => world.close());

  async function officers(n: number) {
    const sessions = [];
    for (let i = 1; i <= n; i++) {
      const { login, password } = await givenOfficer(world, { login: `mutsu-officer${i}` });
      sessions.push(await officerSession(world.app, login, password));
    }
    return sessions;
  }

  it("when ten officers of one office each get five numbers wrong within 15 minutes (50 failures, 10 per number), then none is throttled", async () => {
    const office = await officers(10);
    for (const [o, { agent, token }] of office.entries()) {
      for (let i = 0; i < 5; i++) {
        const res = await postVerify(agent, token, `02208-00010${i}`, WRONG_KEY);
        expect(res.status, `officer ${o + 1}, number ${i}`).to.equal(400);
        world.clock.advance(10_000);
      }
    }
    expect(count(world, "SELECT count(*) AS n FROM audit_events WHERE event = 'key_verify_fail'")).to.equal(50);
  });

  it("when one officer gets one number wrong five times within 15 minutes, then the right key still opens it", async () => {
    const issued = await givenGuarantee(world);
    const { agent, token } = (await officers(1))[0]!;
    for (let i = 0; i < 5; i++) expect((await postVerify(agent, token, issued.contractNumber, WRONG_KEY)).status).to.equal(400);
    expect((await postVerify(agent, token, issued.contractNumber, issued.authKey)).status).to.equal(303);
  });

  it("when an officer of another orderer presents the right key ten times within 15 minutes, then each try fails and counts, and the eleventh is refused with 429 and no argon2 work", async () => {
    const issued = await givenGuarantee(world); // むつ市's guarantee
    const { login, password } = await givenOfficer(world, { login: "aomori-officer", orderer: "022012" });
    const { agent, token } = await officerSession(world.app, login, password);
    for (let i = 1; i <= 10; i++) {
      const res = await postVerify(agent, token, issued.contractNumber, issued.authKey);
      expect(res.status, `try ${i}`).to.equal(400);
      expect(res.text, `try ${i}`).to.contain(VERIFY_FAILED);
      world.clock.advance(30_000);
    }
    expect(world.db.prepare("SELECT failures FROM throttle_counters WHERE scope = 'contract' AND key = ?").get(`${issued.contractNumber}/022012`)).to.deep.equal({ failures: 10 });
    const before = world.hasher.counts.verify;
    const refused = await postVerify(agent, token, issued.contractNumber, issued.authKey);
    expect(refused.status).to.equal(429);
    expect(refused.text).to.contain("以降にもう一度お試しください");
    expect(world.hasher.counts.verify).to.equal(before);
    expect(count(world, "SELECT count(*) AS n FROM audit_events WHERE event = 'authz_fail'")).to.equal(10);
    expect(count(world, "SELECT count(*) AS n FROM orderer_guarantees")).to.equal(0);
  });

  it("when an officer verifies successfully 15 times within 15 minutes (more than the 10 failures the window allows), then none is throttled", async () => {
    const issued = await givenGuarantee(world);
    const { agent, token } = (await officers(1))[0]!;
    for (let i = 1; i <= 15; i++) {
      const res = await postVerify(agent, token, issued.contractNumber, issued.authKey);
      expect(res.status, `verification ${i}`).to.equal(303);
      expect(res.headers.location, `verification ${i}`).to.equal(`/guarantees/${issued.contractNumber}`);
      world.clock.advance(30_000);
    }
    expect(count(world, "SELECT count(*) AS n FROM audit_events WHERE event = 'key_verify_success'")).to.equal(15);
    // And the window is still whole for mistakes: a wrong key afterwards is an ordinary failure.
    expect((await postVerify(agent, token, issued.contractNumber, WRONG_KEY)).status).to.equal(400);
  });

  it("when a contract number fails 20 times in a row across officers, then the next try waits 30 s, with no argon2 work", async () => {
    const issued = await givenGuarantee(world);
    const office = await officers(3);
    for (let i = 0; i < 20; i++) {
      const { agent, token } = office[i % 3]!;
      expect((await postVerify(agent, token, issued.contractNumber, WRONG_KEY)).status, `failure ${i + 1}`).to.equal(400);
    }
    const before = world.hasher.counts.verify;
    const res = await postVerify(office[0]!.agent, office[0]!.token, issued.contractNumber, issued.authKey);
    expect(res.status).to.equal(429);
    expect(res.headers["retry-after"]).to.equal("30");
    expect(res.text).to.contain("以降にもう一度お試しください");
    expect(world.hasher.counts.verify).to.equal(before);
    expect(count(world, "SELECT count(*) AS n FROM audit_events WHERE event = 'key_fail_max' AND contract_number = ?", issued.contractNumber)).to.equal(1);
    world.clock.advance(30_000);
    expect((await postVerify(office[0]!.agent, office[0]!.token, issued.contractNumber, issued.authKey)).status).to.equal(303);
  });

  it("when a contract number (real or not) has failed 100 times, then it is locked for everyone until `key unlock`, and the lock is audited", async () => {
    const issued = await givenGuarantee(world);
    const office = await officers(4);
    const pages = [];
    for (const number of [issued.contractNumber, "99999-999999"]) {
      let failures = 0;
      for (let turn = 0; failures < 100; turn++) {
        if (turn >= 400) throw new Error(`only ${failures} failures of ${number} after 400 tries`);
        const { agent, token } = office[turn % 4]!;
        const res = await postVerify(agent, token, number, WRONG_KEY);
        if (res.status === 400) failures++;
        else if (res.status === 429) world.clock.advance(Number(res.headers["retry-after"]) * 1000);
        else throw new Error(`unexpected ${res.status} after ${failures} failures`);
      }
      world.clock.advance(30 * 24 * 3600 * 1000);
      const before = world.hasher.counts.verify;
      const res = await postVerify(office[0]!.agent, office[0]!.token, number, number === issued.contractNumber ? issued.authKey : WRONG_KEY);
      expect(res.status, number).to.equal(429);
      expect(res.text).to.contain("確認を停止しています");
      expect(world.hasher.counts.verify).to.equal(before);
      expect(count(world, "SELECT count(*) AS n FROM audit_events WHERE event = 'key_lock' AND contract_number = ?", number)).to.equal(1);
      pages.push({ status: res.status, retryAfter: res.headers["retry-after"], headers: headerNames(res), body: comparable(res.text) });
    }
    expect(pages[1]).to.deep.equal(pages[0]);

    const unlocked = world.services.lockouts.unlockContract("０２２０８－０００００１", "admin-sato");
    expect(unlocked.ok && unlocked.value).to.deep.include({ key: issued.contractNumber, locked: true });
    expect(count(world, "SELECT count(*) AS n FROM audit_events WHERE event = 'key_unlock' AND contract_number = ?", issued.contractNumber)).to.equal(1);
    expect((await postVerify(office[0]!.agent, office[0]!.token, issued.contractNumber, issued.authKey)).status).to.equal(303);
  }).timeout(120_000);

  it("when an office's officers fail 100 times in a day, then verifications behind its address go on and so do logins: per-address limits are for anonymous logins only", async () => {
    const issued = await givenGuarantee(world);
    const office = await officers(10);
    let failures = 0;
    for (let round = 0; failures < 120; round++) {
      for (const { agent, token } of office) {
        if (failures === 120) break;
        expect((await postVerify(agent, token, `02208-0002${String(failures).padStart(2, "0")}`, WRONG_KEY)).status).to.equal(400);
        failures++;
      }
      world.clock.advance(20 * 60_000); // past each officer's 15-minute window
    }
    expect((await postVerify(office[0]!.agent, office[0]!.token, issued.contractNumber, issued.authKey)).status).to.equal(303);
    expect(count(world, "SELECT count(*) AS n FROM audit_events WHERE event = 'address_block'")).to.equal(0);
    expect(count(world, "SELECT count(*) AS n FROM throttle_counters WHERE scope = 'address' AND failures > 0")).to.equal(0);
    const { login, password } = await givenOfficer(world, { login: "mutsu-newcomer" });
    const { agent, token } = await loginForm(world.app);
    expect((await postLogin(agent, token, login, password)).status).to.equal(303);
  });

  it("when 50 verifications of one officer arrive at once, then at most 10 reach argon2 and the rest get 429", async () => {
    const { login, password } = await givenOfficer(world);
    const served = await serve(world.app);
    try {
      const { agent, token } = await officerSession(served.server, login, password);
      const before = world.hasher.counts.verify;
      const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => postVerify(agent, token, `02208-0005${String(i).padStart(2, "0")}`, WRONG_KEY)));
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 400)).to.have.length(10);
      expect(statuses.filter((s) => s === 429)).to.have.length(40);
      expect(world.hasher.counts.verify - before).to.equal(10);
    } finally {
      await served.close();
    }
  });
});
