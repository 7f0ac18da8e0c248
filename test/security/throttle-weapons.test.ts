import { expect } from "chai";
import request from "supertest";
import { addressKey } from "../../src/http/client-address.js";
import { givenGuarantee, givenOfficer } from "../support/given.js";
import { buildTestApp, csrfTokenOf, type WebWorld } from "../support/web.js";
import { count, loginForm, officerSession, postLogin, postVerify, serve, type Agent } from "./helpers.js";

const WRONG_KEY = "ZZZZZZZZZZZZ";
const DAY = 24 * 3600 * 1000;

/** Issue 13, section 1: a stranger's failures must not lock out the rightful officer. */
describe("security: the throttles cannot be turned against officers", () => {
  let world: WebWorld;
  beforeEach(async () => {
    world = await buildTestApp({ limits: { session: { idleMs: 365 * DAY, absoluteMs: 365 * DAY } } });
    world.db.pragma("synchronous = NORMAL"); // hundreds of commits; durability is not what is tested here
  });
  afterEach(() => world.close());

  /** The device cookie a response sets, if any. */
  const deviceCookieOf = (res: { headers: Record<string, unknown> }) =>
    ((res.headers["set-cookie"] as string[] | undefined) ?? []).find((c) => c.startsWith("kakunin-device="));

  /** Fails `username` from fresh browsers until it is locked, waiting out each delay (some 88 hours of test clock). */
  async function lockFromStrangersBrowser(target: Parameters<typeof loginForm>[0], username: string) {
    let form = await loginForm(target);
    for (let failures = 0, turn = 0; failures < 100; turn++) {
      if (turn > 400) throw new Error(`only ${failures} failures after 400 tries`);
      const res = await postLogin(form.agent, form.token, username, "a stranger's guess");
      if (res.status === 401) failures++;
      else if (res.status === 429) world.clock.advance(Number(res.headers["retry-after"]) * 1000);
      else if (res.status === 403) form = await loginForm(target);
      else throw new Error(`unexpected ${res.status} after ${failures} failures`);
    }
  }

  it("when officer X logs in, then the browser gets a signed, HttpOnly, SameSite device cookie naming X and a nonce, never the password", async () => {
    const { login, password } = await givenOfficer(world);
    const { agent, token } = await loginForm(world.app);
    const res = await postLogin(agent, token, login, password);
    expect(res.status).to.equal(303);
    const cookie = deviceCookieOf(res)!;
    expect(cookie).to.match(/; Path=\/; /).and.contain("HttpOnly").and.contain("SameSite=Strict").and.match(/Max-Age=\d+/);
    const [name, nonce, mac] = cookie.split(";")[0]!.slice("kakunin-device=".length).split(".");
    expect(Buffer.from(name!, "base64url").toString()).to.equal(login);
    expect(Buffer.from(nonce!, "base64url")).to.have.length(16);
    expect(Buffer.from(mac!, "base64url")).to.have.length(32);
    expect(cookie).not.to.contain(password).and.not.to.contain(Buffer.from(password).toString("base64url"));

    const secure = await buildTestApp({ env: { COOKIE_SECURE: "true", TRUST_PROXY: "loopback" } });
    try {
      await givenOfficer(secure, { login, password });
      const page = await request.agent(secure.app).get("/login").set("X-Forwarded-Proto", "https");
      const login2 = await request(secure.app).post("/login").set("X-Forwarded-Proto", "https")
        .set("Cookie", String(page.headers["set-cookie"]).split(";")[0]!).type("form")
        .send({ _csrf: csrfTokenOf(page.text), username: login, password });
      const secureCookie = (login2.headers["set-cookie"] as unknown as string[]).find((c) => c.startsWith("__Host-kakunin-device="));
      expect(secureCookie).to.match(/; Path=\/; .*HttpOnly; Secure; SameSite=Strict/);
    } finally {
      secure.close();
    }
  });

  it("when a stranger sprays wrong passwords at X's login id until it is locked (and the address blocked), then X, in the browser holding the device cookie, still logs in", async () => {
    const { login, password } = await givenOfficer(world);
    const desk = await officerSession(world.app, login, password);
    expect((await desk.agent.post("/logout").type("form").send({ _csrf: desk.token })).status).to.equal(303);

    const served = await serve(world.app);
    try {
      await lockFromStrangersBrowser(served.server, login);
    } finally {
      await served.close();
    }
    const stranger = await loginForm(world.app);
    const refused = await postLogin(stranger.agent, stranger.token, login, password);
    expect(refused.status, "the right password from an unknown browser: still locked").to.equal(429);
    expect(refused.text).to.contain("発行会社の担当窓口に解除をご依頼ください");
    for (let i = 0, blocked = false; !blocked; i++) {
      if (i > 100) throw new Error("the address was never blocked");
      const form = await loginForm(world.app);
      blocked = (await postLogin(form.agent, form.token, `sprayed-${i}`, "a guess")).status === 429;
    }
    expect(count(world, "SELECT count(*) AS n FROM audit_events WHERE event = 'address_block'"), "the address is blocked too").to.be.greaterThan(0);

    const page = await desk.agent.get("/login");
    const res = await desk.agent.post("/login").type("form").send({ _csrf: csrfTokenOf(page.text), username: login, password });
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal("/verify");
    expect((await desk.agent.get("/verify")).status).to.equal(200);
    expect(world.db.prepare("SELECT detail FROM audit_events WHERE event = 'authn_login_success' ORDER BY id DESC LIMIT 1").get()).to.deep.equal({ detail: '{"device":true}' });

    const form = await desk.agent.get("/password");
    const next = "a quiet harbour in shimokita at dawn";
    const changed = await desk.agent.post("/password").type("form")
      .send({ _csrf: csrfTokenOf(form.text), currentPassword: password, newPassword: next, confirmPassword: next });
    expect(changed.status, "the password change is not the stranger's to block either").to.equal(303);
  }).timeout(60_000);

  it("when X's browser gets the password wrong 10 times within an hour, then the device is in lockout and its next tries are counted as an unknown browser's", async () => {
    const { login, password } = await givenOfficer(world);
    const desk = await officerSession(world.app, login, password);
    await desk.agent.post("/logout").type("form").send({ _csrf: desk.token });
    const token = csrfTokenOf((await desk.agent.get("/login")).text);
    const loginFailures = () => count(world, "SELECT coalesce(sum(failures), 0) AS n FROM throttle_counters WHERE scope = 'login' AND key = ?", login);
    for (let i = 1; i <= 10; i++) {
      expect((await postLogin(desk.agent, token, login, `wrong ${i}`)).status, `failure ${i}`).to.equal(401);
    }
    expect(loginFailures(), "ten failures on the device's own counter").to.equal(0);
    expect(count(world, "SELECT count(*) AS n FROM audit_events WHERE event = 'authn_device_block'")).to.equal(1);
    expect((await postLogin(desk.agent, token, login, "wrong 11")).status).to.equal(401);
    expect(loginFailures(), "the eleventh counts on the login id, as from any browser").to.equal(1);
  });

  it("when a browser holds X's device cookie, then attempts at another login id, or with a forged cookie, are counted as an unknown browser's", async () => {
    const { login, password } = await givenOfficer(world);
    await givenOfficer(world, { login: "mutsu-sato" });
    const desk = await officerSession(world.app, login, password);
    await desk.agent.post("/logout").type("form").send({ _csrf: desk.token });
    const token = csrfTokenOf((await desk.agent.get("/login")).text);
    expect((await postLogin(desk.agent, token, "mutsu-sato", "a wrong guess")).status).to.equal(401);
    expect(count(world, "SELECT failures AS n FROM throttle_counters WHERE scope = 'login' AND key = 'mutsu-sato'")).to.equal(1);

    const forged = await loginForm(world.app);
    const value = `${Buffer.from(login).toString("base64url")}.${Buffer.alloc(16, 7).toString("base64url")}.${Buffer.alloc(32).toString("base64url")}`;
    const res = await forged.agent.post("/login").set("Cookie", `kakunin-device=${value}`).type("form")
      .send({ _csrf: forged.token, username: login, password: "a forged device's guess" });
    expect(res.status).to.equal(401);
    expect(count(world, "SELECT failures AS n FROM throttle_counters WHERE scope = 'login' AND key = ?", login)).to.equal(1);
  });

  it("when another orderer's officers fail 100 times on a contract number, then the rightful orderer's officer with the right key opens it at once", async () => {
    const issued = await givenGuarantee(world); // むつ市's
    const intruders: Agent[] = [];
    const tokens: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const { login, password } = await givenOfficer(world, { login: `aomori-officer${i}`, orderer: "022012" });
      const s = await officerSession(world.app, login, password);
      intruders.push(s.agent);
      tokens.push(s.token);
    }
    let failures = 0;
    for (let turn = 0; failures < 100; turn++) {
      if (turn > 400) throw new Error(`only ${failures} failures after 400 tries`);
      const res = await postVerify(intruders[turn % 4]!, tokens[turn % 4]!, issued.contractNumber, WRONG_KEY);
      if (res.status === 400) failures++;
      else if (res.status === 429) world.clock.advance(Number(res.headers["retry-after"]) * 1000);
      else throw new Error(`unexpected ${res.status}`);
    }
    const locked = await postVerify(intruders[0]!, tokens[0]!, issued.contractNumber, issued.authKey);
    expect(locked.status, "the intruders' orderer is locked on the number").to.equal(429);
    expect(locked.text).to.contain("確認を停止しています");

    const { login, password } = await givenOfficer(world);
    const rightful = await officerSession(world.app, login, password);
    const res = await postVerify(rightful.agent, rightful.token, issued.contractNumber, issued.authKey);
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal(`/guarantees/${issued.contractNumber}`);

    const unlocked = world.services.lockouts.unlockContract(issued.contractNumber, "admin-sato");
    expect(unlocked.ok && unlocked.value).to.deep.include({ key: issued.contractNumber, locked: true });
    expect(count(world, "SELECT count(*) AS n FROM throttle_counters WHERE key LIKE ?", `${issued.contractNumber}/%`)).to.equal(0);
  }).timeout(60_000);

  it("when an officer of the rightful orderer fails on a number, then they wait from their 10th failure in a row, and a colleague with the right key does not", async () => {
    const issued = await givenGuarantee(world);
    const one = await givenOfficer(world, { login: "mutsu-one" });
    const first = await officerSession(world.app, one.login, one.password);
    for (let i = 1; i <= 10; i++) {
      if (i > 1) world.clock.advance(2 * 60_000); // slower than the officer's window of 10 per 15 minutes
      expect((await postVerify(first.agent, first.token, issued.contractNumber, WRONG_KEY)).status, `failure ${i}`).to.equal(400);
    }
    expect((await postVerify(first.agent, first.token, issued.contractNumber, issued.authKey)).status, "the one who failed waits").to.equal(429);
    const { login, password } = await givenOfficer(world, { login: "mutsu-two" });
    const colleague = await officerSession(world.app, login, password);
    expect((await postVerify(colleague.agent, colleague.token, issued.contractNumber, issued.authKey)).status).to.equal(303);
  });

  it("when anonymous logins fail from many addresses of one IPv6 /64, then they count as one address (LOGIN_FAILURES_PER_ADDRESS_PER_DAY, and new login forms), and an IPv4-mapped address as its IPv4", async () => {
    world.close();
    world = await buildTestApp({ env: { TRUST_PROXY: "1", LOGIN_FAILURES_PER_ADDRESS_PER_DAY: "5" } });
    const attempt = async (address: string, i: number) => {
      const agent = request.agent(world.app);
      const page = await agent.get("/login").set("X-Forwarded-For", address);
      return agent.post("/login").set("X-Forwarded-For", address).type("form")
        .send({ _csrf: csrfTokenOf(page.text), username: `nobody-${i}`, password: "a guess" });
    };
    for (let i = 1; i <= 5; i++) expect((await attempt(`2001:db8:1:2::${i}`, i)).status, `failure ${i}`).to.equal(401);
    expect((await attempt("2001:db8:1:2:ffff:ffff:ffff:ffff", 6)).status, "the same /64").to.equal(429);
    expect((await attempt("2001:db8:1:3::1", 7)).status, "the next /64").to.equal(401);
    expect(count(world, "SELECT count(*) AS n FROM throttle_counters WHERE scope = 'address' AND key = '2001:db8:1:2::/64'")).to.equal(1);
    expect(count(world, "SELECT count(*) AS n FROM sessions WHERE client_address = '2001:db8:1:2::/64'"), "new login forms count by the /64 too (DOS-04)").to.equal(6);

    for (let i = 1; i <= 5; i++) expect((await attempt("203.0.113.9", 10 + i)).status).to.equal(401);
    expect((await attempt("::ffff:203.0.113.9", 20)).status, "IPv4-mapped").to.equal(429);
    expect(world.services.lockouts.unlockAddress("2001:db8:1:2::77", "admin").ok).to.equal(true);
    expect((await attempt("2001:db8:1:2::5", 21)).status, "unlocked by any address of the /64").to.equal(401);
  });

  it("when addresses are written in their many forms, then each is counted under one key", () => {
    expect(addressKey("203.0.113.7")).to.equal("203.0.113.7");
    expect(addressKey("::ffff:203.0.113.7")).to.equal("203.0.113.7");
    expect(addressKey("::ffff:cb00:7107")).to.equal("203.0.113.7");
    expect(addressKey("2001:0DB8:0001:0002:0:0:0:1")).to.equal("2001:db8:1:2::/64");
    expect(addressKey("2001:db8:1:2::")).to.equal("2001:db8:1:2::/64");
    expect(addressKey("fe80::1%eth0")).to.equal("fe80:0:0:0::/64");
    expect(addressKey("unknown")).to.equal("unknown");
  });
});
