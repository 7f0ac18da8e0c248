import { expect } from "chai";
import request from "supertest";
import { createApp } from "../../src/app.js";
import { createLogger } from "../../src/logger.js";
import { createLoginNameHash } from "../../src/security/keyed-hash.js";
import { givenOfficer } from "../support/given.js";
import { buildTestApp, csrfTokenOf, type WebWorld } from "../support/web.js";
import { comparable, count, headerNames, loginForm, postLogin, serve } from "./helpers.js";

describe("security: login throttling and lockout (production numbers)", () => {
  let world: WebWorld;
  beforeEach(async () => { world = await buildTestApp(); });
  afterEach(() => world.close());

  async function failTimes(username: string, times: number) {
    const { agent, token } = await loginForm(world.app);
    for (let i = 0; i < times; i++) {
      const res = await postLogin(agent, token, username, "not the password at all");
      expect(res.status, `failure ${i + 1} of ${username}`).to.equal(401);
    }
    return { agent, token };
  }

  /**
   * 100 failures, each waiting out its delay (some 88 hours of the test clock). A fresh login page
   * whenever the anonymous session has idled out; no fsync per commit (durability is not the point).
   */
  async function failHundredTimes(username: string) {
    world.db.pragma("synchronous = NORMAL");
    const served = await serve(world.app);
    try {
      let form = await loginForm(served.server);
      let failures = 0;
      for (let turn = 1; failures < 100; turn++) {
        if (turn > 400) throw new Error(`only ${failures} failures after 400 tries`);
        const res = await postLogin(form.agent, form.token, username, "still guessing");
        if (res.status === 401) failures++;
        else if (res.status === 429) world.clock.advance(Number(res.headers["retry-after"]) * 1000);
        else if (res.status === 403) form = await loginForm(served.server);
        else throw new Error(`unexpected ${res.status} after ${failures} failures`);
      }
    } finally {
      await served.close();
    }
  }

  it("when a username has failed five times, then the sixth try within 30 s gets 429, Retry-After and a Japanese time to retry, with no argon2 work", async () => {
    const { login, password } = await givenOfficer(world);
    const { agent, token } = await failTimes(login, 5);
    const before = world.hasher.counts.verify;
    const res = await postLogin(agent, token, login, password);
    expect(res.status).to.equal(429);
    expect(res.headers["retry-after"]).to.equal("30");
    expect(res.text).to.contain("ログインの失敗が続いたため");
    expect(res.text).to.contain("令和8年11月25日 10:00以降にもう一度お試しください"); // 01:00:30Z is 10:00:30 in Tokyo
    expect(world.hasher.counts.verify).to.equal(before);
    world.clock.advance(30_000);
    const later = await postLogin(agent, token, login, password);
    expect(later.status).to.equal(303);
  });

  it("when a real and an unknown username are throttled alike, then their 429 pages are the same but for the echoed name", async () => {
    const { login } = await givenOfficer(world);
    const pages = [];
    for (const username of [login, "nobody-at-all"]) {
      const { agent, token } = await failTimes(username, 5);
      const res = await postLogin(agent, token, username, "not the password at all");
      pages.push({ status: res.status, retryAfter: res.headers["retry-after"], headers: headerNames(res), body: comparable(res.text) });
    }
    expect(pages[0]!.status).to.equal(429);
    expect(pages[1]).to.deep.equal(pages[0]);
  });

  it("when the username is typed in another case, width or with spaces, then it is the same counter (NFKC, lower case)", async () => {
    const { login } = await givenOfficer(world);
    const { agent, token } = await loginForm(world.app);
    for (const typed of ["Mutsu-Tanaka", "ｍｕｔｓｕ－ｔａｎａｋａ", " mutsu-tanaka ", "MUTSU-TANAKA", login]) {
      expect((await postLogin(agent, token, typed, "wrong wrong wrong")).status, typed).to.equal(401);
    }
    expect((await postLogin(agent, token, "ＭＵＴＳＵ-tanaka", "wrong wrong wrong")).status).to.equal(429);
  });

  it("when 50 tries for one username arrive at once, then at most 5 reach argon2 and the rest get 429", async () => {
    const { login } = await givenOfficer(world);
    const served = await serve(world.app);
    try {
      const { agent, token } = await loginForm(served.server);
      const before = world.hasher.counts.verify;
      const responses = await Promise.all(Array.from({ length: 50 }, () => postLogin(agent, token, login, "a wrong guess, in parallel")));
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 401)).to.have.length(5);
      expect(statuses.filter((s) => s === 429)).to.have.length(45);
      expect(world.hasher.counts.verify - before).to.equal(5);
    } finally {
      await served.close();
    }
  });

  it("when a username has failed 100 times, then it is locked (the right password fails too, audited once) until an admin unlocks it", async () => {
    const { login, password } = await givenOfficer(world);
    await failHundredTimes(login);
    world.clock.advance(7 * 24 * 3600 * 1000);
    const { agent, token } = await loginForm(world.app);
    const before = world.hasher.counts.verify;
    const locked = await postLogin(agent, token, login, password);
    expect(locked.status).to.equal(429);
    expect(locked.text).to.contain("発行会社の担当窓口に解除をご依頼ください");
    expect(world.hasher.counts.verify).to.equal(before);
    expect(count(world, "SELECT count(*) AS n FROM audit_events WHERE event = 'authn_login_lock' AND actor = ?", login)).to.equal(1);
    expect(count(world, "SELECT count(*) AS n FROM audit_events WHERE event = 'authn_login_fail_max' AND actor = ?", login)).to.equal(1);

    const unlocked = world.services.lockouts.unlockLogin("MUTSU-TANAKA", "admin-sato");
    expect(unlocked).to.deep.equal({ ok: true, value: { key: login, wasThrottled: true, failures: 100, locked: true } });
    expect(count(world, "SELECT count(*) AS n FROM audit_events WHERE event = 'authn_login_unlock' AND actor = 'admin-sato'")).to.equal(1);
    expect((await postLogin(agent, token, login, password)).status).to.equal(303);
  });

  it("when an unknown username has failed 100 times, then it is locked just like a real one, kept only as a keyed hash, and `officer unlock` finds it", async () => {
    await failHundredTimes("no-such-officer");
    world.clock.advance(7 * 24 * 3600 * 1000);
    const { agent, token } = await loginForm(world.app);
    const res = await postLogin(agent, token, "no-such-officer", "still guessing");
    expect(res.status).to.equal(429);
    expect(res.text).to.contain("発行会社の担当窓口に解除をご依頼ください");
    const hashed = createLoginNameHash(world.config.sessionSecrets[0]!)("no-such-officer");
    expect(hashed).to.match(/^h:[0-9a-f]{32}$/);
    expect(count(world, "SELECT count(*) AS n FROM audit_events WHERE event = 'authn_login_lock' AND actor = ?", hashed)).to.equal(1);
    expect(count(world, "SELECT count(*) AS n FROM throttle_counters WHERE scope = 'login' AND key = ? AND locked = 1", hashed)).to.equal(1);
    const everything = JSON.stringify([world.db.prepare("SELECT * FROM audit_events").all(), world.db.prepare("SELECT * FROM throttle_counters").all()]);
    expect(everything).not.to.contain("no-such-officer");

    const unlocked = world.services.lockouts.unlockLogin("No-Such-Officer", "admin-sato");
    expect(unlocked).to.deep.equal({ ok: true, value: { key: "no-such-officer", wasThrottled: true, failures: 100, locked: true } });
    expect(JSON.stringify(world.db.prepare("SELECT * FROM audit_events").all()), "the unlock's audit row too").not.to.contain("no-such-officer");
    expect((await postLogin(agent, token, "no-such-officer", "still guessing")).status).to.equal(401);
  });

  it("when someone types a password into the login id box, then the audit trail and the counters hold only its keyed hash; a real login id stays readable", async () => {
    const { login, password } = await givenOfficer(world);
    const { agent, token } = await loginForm(world.app);
    expect((await postLogin(agent, token, password, password)).status).to.equal(401);
    expect((await postLogin(agent, token, login, "a wrong password here")).status).to.equal(401);
    const rows = world.db.prepare("SELECT actor, outcome FROM audit_events WHERE event = 'authn_login_fail' ORDER BY id").all() as { actor: string; outcome: string }[];
    expect(rows).to.deep.equal([
      { actor: createLoginNameHash(world.config.sessionSecrets[0]!)(password), outcome: "unknown-user" },
      { actor: login, outcome: "wrong-password" },
    ]);
    const everything = JSON.stringify([world.db.prepare("SELECT * FROM audit_events").all(), world.db.prepare("SELECT * FROM throttle_counters").all()]);
    expect(everything).not.to.contain(password);
  });

  it("when an unknown username's counter has not been touched for 30 days, then it is forgotten at the next reservation (a locked one too); a real officer's lock stays", async () => {
    const { login } = await givenOfficer(world);
    const stored = (key: string) => count(world, "SELECT count(*) AS n FROM throttle_counters WHERE scope = 'login' AND key = ?", key);
    const hashed = createLoginNameHash(world.config.sessionSecrets[0]!)("nobody-at-all");
    const policy = world.config.limits.login;
    for (const key of [login, hashed]) { // the unknown one last: its 30 days run from its last failure
      for (let failures = 0; failures < policy.lockAt;) {
        const attempt = world.services.attempts.reserve([{ scope: "login", key, policy }]);
        if (attempt.allowed) { attempt.failed(); failures++; } else world.clock.advance(attempt.retryAfterSeconds * 1000);
      }
    }
    world.clock.advance(29 * 24 * 3600 * 1000);
    await failTimes("someone-else", 1);
    expect(stored(hashed), "29 days on").to.equal(1);
    world.clock.advance(2 * 24 * 3600 * 1000);
    await failTimes("someone-else-again", 1);
    expect(stored(hashed), "31 days on").to.equal(0);
    expect(stored(login), "an officer's lock waits for an admin").to.equal(1);
  });

  it("when the officer logs in after four failures, then the count starts again", async () => {
    const { login, password } = await givenOfficer(world);
    await failTimes(login, 4);
    const { agent, token } = await loginForm(world.app);
    expect((await postLogin(agent, token, login, password)).status).to.equal(303);
    await failTimes(login, 4);
    const { agent: again, token: token2 } = await loginForm(world.app);
    expect((await postLogin(again, token2, login, "wrong once more")).status).to.equal(401);
  });

  it("when the server restarts, then the counters are still there (SQLite)", async () => {
    const { login, password } = await givenOfficer(world);
    await failTimes(login, 5);
    world.app.close();
    const restarted = createApp({
      config: world.config, services: world.services, clock: world.clock, logger: createLogger({ level: "silent" }),
    });
    try {
      const agent = request.agent(restarted);
      const page = await agent.get("/login");
      const res = await agent.post("/login").type("form").send({ _csrf: csrfTokenOf(page.text), username: login, password });
      expect(res.status).to.equal(429);
    } finally {
      restarted.close();
    }
  });

  it("when a logged-in officer guesses the current password on the change form, then the login's counters throttle it: the device's 10, then the login id's", async () => {
    const { login, password } = await givenOfficer(world);
    const { agent, token } = await loginForm(world.app);
    expect((await postLogin(agent, token, login, password)).status).to.equal(303);
    const page = await agent.get("/password");
    const csrf = csrfTokenOf(page.text);
    const change = (current: string) => agent.post("/password").type("form")
      .send({ _csrf: csrf, currentPassword: current, newPassword: "a brand new passphrase here", confirmPassword: "a brand new passphrase here" });
    // The browser holds the device cookie from its login: 10 an hour on it, then as an unknown browser.
    for (let i = 0; i < 15; i++) expect((await change(`guess number ${i}`)).status, `guess ${i + 1}`).to.equal(400);
    const before = world.hasher.counts.verify;
    const res = await change(password);
    expect(res.status).to.equal(429);
    expect(res.headers["retry-after"]).to.equal("30");
    expect(world.hasher.counts.verify).to.equal(before);
  });
});
