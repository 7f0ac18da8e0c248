import { expect } from "chai";
import net from "node:net";
import request from "supertest";
import { createApp } from "../../src/app.js";
import { createLogger } from "../../src/logger.js";
import { createHasher } from "../../src/security/hasher.js";
import { createServices } from "../../src/composition.js";
import { createSessionRepository } from "../../src/sessions/session.repository.js";
import { givenOfficer } from "../support/given.js";
import { buildTestApp, csrfTokenOf, type WebWorld } from "../support/web.js";
import { countCalls } from "../support/world.js";
import { count, HOUR, loginForm, MINUTE, officerSession, postLogin, serve, type Agent } from "./helpers.js";

/** The session cookie a response sets (a login also sets the device cookie). */
const sessionCookieOf = (res: { headers: Record<string, unknown> }) => (res.headers["set-cookie"] as string[]).find((c) => /^(__Host-)?kakunin=/.test(c))!;

/** m, t and p of a PHC string, whatever their order. */
const paramsOf = (phc: string) => Object.fromEntries(phc.split("$")[3]!.split(",").map((kv) => kv.split("=")));

describe("security: sessions and passwords", () => {
  let world: WebWorld;
  beforeEach(async () => { world = await buildTestApp(); });
  afterEach(() => world.close());

  /** Officers' sessions still open on the server (an ended one stays as an empty marker until its expiry). */
  const sessionRows = () => count(world, "SELECT count(*) AS n FROM sessions WHERE officer_id IS NOT NULL AND ended = 0");

  it("when a session has been idle for 30 minutes, then it ends on the server and the officer is sent to log in again", async () => {
    const { login, password } = await givenOfficer(world);
    const { agent } = await officerSession(world.app, login, password);
    world.clock.advance(29 * MINUTE);
    expect((await agent.get("/verify")).status).to.equal(200);
    world.clock.advance(29 * MINUTE);
    expect((await agent.get("/verify")).status, "29 minutes after the last request").to.equal(200);
    world.clock.advance(30 * MINUTE + 1000);
    const res = await agent.get("/verify");
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.match(/^\/login/); // "?expired=1" while the guard still finds the row
    expect(sessionRows()).to.equal(0);
  });

  it("when an officer reads pages, then the session's expiry is pushed forward, at most once a minute", async () => {
    const { login, password } = await givenOfficer(world);
    const { agent } = await officerSession(world.app, login, password);
    const expiry = () => (world.db.prepare("SELECT expires_at AS e FROM sessions").get() as { e: number }).e;
    const first = expiry();
    world.clock.advance(30_000);
    await agent.get("/verify");
    expect(expiry(), "30 s later: not rewritten").to.equal(first);
    world.clock.advance(31_000);
    await agent.get("/verify");
    expect(expiry(), "61 s later: pushed to 30 minutes from now").to.equal(first + 61_000);
  });

  it("when a login form is reloaded again and again, then its session still ends 15 minutes after the first form, and the next reload starts a new one (DOS-04)", async () => {
    const agent = request.agent(world.app);
    const first = csrfTokenOf((await agent.get("/login")).text);
    const expiry = () => (world.db.prepare("SELECT expires_at AS e FROM sessions").get() as { e: number }).e;
    const end = expiry();
    expect(end - world.clock.now().getTime()).to.equal(15 * MINUTE);
    for (let minute = 2; minute <= 14; minute += 2) {
      world.clock.advance(2 * MINUTE);
      expect(csrfTokenOf((await agent.get("/login")).text), `minute ${minute}: the same form session`).to.equal(first);
      expect(expiry(), `minute ${minute}: the expiry has not moved`).to.equal(end);
    }
    world.clock.advance(MINUTE + 1000);
    const later = csrfTokenOf((await agent.get("/login")).text);
    expect(later, "past 15 minutes: a new session with a new token").to.not.equal(first);
    expect(count(world, "SELECT count(*) AS n FROM sessions")).to.equal(1);
  });

  it("when an officer stays active past 8 hours after login, then the session ends anyway (absolute timeout)", async () => {
    const { login, password } = await givenOfficer(world);
    const { agent } = await officerSession(world.app, login, password);
    for (let elapsed = 0; elapsed < 8 * HOUR - 20 * MINUTE; elapsed += 20 * MINUTE) {
      world.clock.advance(20 * MINUTE);
      expect((await agent.get("/verify")).status, `after ${elapsed / MINUTE + 20} minutes`).to.equal(200);
    }
    world.clock.advance(20 * MINUTE + 1000);
    const res = await agent.get("/verify");
    expect(res.headers.location).to.equal("/login?expired=1");
    expect(sessionRows()).to.equal(0);
  });

  it("when /logout is requested with GET or HEAD, then nothing changes: state changes only by POST with a token", async () => {
    const { login, password } = await givenOfficer(world);
    const { agent } = await officerSession(world.app, login, password);
    expect((await agent.get("/logout")).status).to.be.oneOf([303, 404]);
    expect((await agent.head("/logout")).status).to.be.oneOf([303, 404]);
    expect((await agent.post("/logout").type("form").send({})).status).to.equal(403);
    expect((await agent.get("/verify")).status).to.equal(200);
    expect(sessionRows()).to.equal(1);
  });

  it("when an officer is disabled, then every session of theirs ends at once, on the server too", async () => {
    const { login, password } = await givenOfficer(world);
    const first = await officerSession(world.app, login, password);
    const second = await officerSession(world.app, login, password);
    expect(sessionRows()).to.equal(2);
    world.services.officers.setActive(login, false, "admin");
    expect(sessionRows()).to.equal(0);
    for (const { agent } of [first, second]) expect((await agent.get("/verify")).headers.location).to.equal("/login");
  });

  it("when an admin revokes an officer's sessions, then they end and the revocation is audited", async () => {
    const { login, password } = await givenOfficer(world);
    const { agent } = await officerSession(world.app, login, password);
    const revoked = world.services.officers.revokeSessions(login, "admin-sato");
    expect(revoked).to.deep.equal({ ok: true, value: 1 });
    expect((await agent.get("/verify")).headers.location).to.equal("/login");
    expect(count(world, "SELECT count(*) AS n FROM audit_events WHERE event = 'officer_sessions_revoke' AND actor = 'admin-sato'")).to.equal(1);
  });

  it("when an officer's sessions are revoked while one of their requests is still being answered, then that request's save does not bring the session back", async () => {
    const { login, password } = await givenOfficer(world);
    const { agent, token } = await loginForm(world.app);
    const res = await postLogin(agent, token, login, password);
    const cookie = decodeURIComponent(sessionCookieOf(res).split(";")[0]!.split("=")[1]!);
    const sid = /^s:([^.]+)\./.exec(cookie)![1]!;
    expect((await agent.get("/verify")).status).to.equal(200);
    const officer = world.services.officers.findByLogin(login)!;
    expect(world.services.officers.revokeSessions(login, "admin-sato").ok).to.equal(true);
    // What express-session does when a request loaded before the revocation ends having changed the session.
    const now = world.clock.now().getTime();
    createSessionRepository(world.db).set(sid, {
      officerId: officer.id, clientAddress: null, nowMs: now, expiresAt: now + 30 * MINUTE,
      data: JSON.stringify({ cookie: { originalMaxAge: 30 * MINUTE, expires: new Date(now + 30 * MINUTE).toISOString(), httpOnly: true, path: "/" }, passport: { user: { id: officer.id } }, loginAt: now, lastSeenAt: now }),
    });
    const after = await agent.get("/verify");
    expect(after.status).to.equal(303);
    expect(after.headers.location).to.match(/^\/login/);
    expect(count(world, "SELECT count(*) AS n FROM sessions WHERE data <> '{}'"), "the ended session holds nothing").to.equal(0);
  });

  it("when an officer changes their password, then their other sessions end and the current one goes on", async () => {
    const { login, password } = await givenOfficer(world);
    const other = await officerSession(world.app, login, password);
    const current = await officerSession(world.app, login, password);
    const page = await current.agent.get("/password");
    const next = "a quiet harbour in shimokita at dawn";
    const res = await current.agent.post("/password").type("form")
      .send({ _csrf: csrfTokenOf(page.text), currentPassword: password, newPassword: next, confirmPassword: next });
    expect(res.status).to.equal(303);
    expect((await current.agent.get("/verify")).status).to.equal(200);
    expect((await other.agent.get("/verify")).headers.location).to.equal("/login");
    expect(sessionRows()).to.equal(1);
    const { agent, token } = await loginForm(world.app);
    expect((await postLogin(agent, token, login, next)).status).to.equal(303);
  });

  it("when an officer logs in under older argon2 parameters, then the stored hash is upgraded to the live ones, once", async () => {
    const { login, password } = await givenOfficer(world); // hashed with the suite's m=1024, t=1
    const before = world.services.officers.findByLogin(login)!.passwordHash;
    expect(paramsOf(before)).to.deep.equal({ m: "1024", t: "1", p: "1" });
    const stronger = countCalls(await createHasher({ memoryCost: 2048, timeCost: 2, parallelism: 1 }));
    const services = createServices({ db: world.db, clock: world.clock, hasher: stronger, limits: world.config.limits });
    const app = createApp({ config: world.config, services, clock: world.clock, logger: createLogger({ level: "silent" }) });
    try {
      const first = await loginForm(app);
      expect((await postLogin(first.agent, first.token, login, password)).status).to.equal(303);
      const after = world.services.officers.findByLogin(login)!.passwordHash;
      expect(paramsOf(after)).to.deep.equal({ m: "2048", t: "2", p: "1" });
      expect(stronger.counts).to.deep.equal({ hash: 1, verify: 1 });
      const second = await loginForm(app);
      expect((await postLogin(second.agent, second.token, login, password)).status).to.equal(303);
      expect(world.services.officers.findByLogin(login)!.passwordHash).to.equal(after);
      expect(stronger.counts).to.deep.equal({ hash: 1, verify: 2 });
    } finally {
      app.close();
    }
  });

  it("when an anonymous browser asks for something that is not a form (its favicon, a stray path), then no session starts and no cookie is set", async () => {
    for (const path of ["/favicon.ico", "/no-such-page", "/guarantees/02208-000001"]) {
      const res = await request(world.app).get(path);
      expect(res.status, path).to.be.oneOf([301, 303, 404]);
      expect(res.headers["set-cookie"], path).to.equal(undefined);
    }
    expect(count(world, "SELECT count(*) AS n FROM sessions")).to.equal(0);
    expect((await request(world.app).get("/login")).headers["set-cookie"]).to.have.length(1);
  });

  it("when a logged-in browser asks for its favicon late, then the answer carries no session cookie (that could undo a logout or a fresh login form)", async () => {
    const { login, password } = await givenOfficer(world);
    const { agent } = await officerSession(world.app, login, password);
    world.clock.advance(2 * MINUTE);
    const res = await agent.get("/favicon.ico");
    expect(res.status).to.equal(301);
    expect(res.headers.location).to.equal("/static/favicon.svg");
    expect(res.headers["set-cookie"]).to.equal(undefined);
    expect((await agent.get("/static/favicon.svg")).status).to.equal(200);
  });

  it("when a login form is opened, then its anonymous session lives 15 minutes on the server; once logged in, 30", async () => {
    const { login, password } = await givenOfficer(world);
    const { agent, token } = await loginForm(world.app);
    const expiry = () => (world.db.prepare("SELECT expires_at AS e FROM sessions").get() as { e: number }).e;
    expect(expiry() - world.clock.now().getTime()).to.equal(15 * MINUTE);
    expect((await postLogin(agent, token, login, password)).status).to.equal(303);
    expect(expiry() - world.clock.now().getTime()).to.equal(30 * MINUTE);
    world.close();
    world = await buildTestApp();
    const form = await loginForm(world.app);
    world.clock.advance(15 * MINUTE + 1000);
    const late = await postLogin(form.agent, form.token, login, password);
    expect(late.status, "a form left open past 15 minutes is refused and must be reloaded").to.equal(403);
  });

  it("when one address opens login forms without a cookie, then it holds at most 100 new sessions per 10 minutes: the next form gets 429 and writes nothing (DOS-04)", async () => {
    world.close();
    world = await buildTestApp({ env: { TRUST_PROXY: "1" } });
    const rows = () => count(world, "SELECT count(*) AS n FROM sessions");
    const open = (address: string, agent?: Agent) => (agent ?? request(world.app)).get("/login").set("X-Forwarded-For", address);
    const office = "203.0.113.7";
    const kept = request.agent(world.app);
    expect((await open(office, kept)).status).to.equal(200);
    for (let i = 1; i < 100; i++) expect((await open(office)).status, `form ${i + 1}`).to.equal(200);
    expect(rows()).to.equal(100);

    const refused = await open(office);
    expect(refused.status).to.equal(429);
    expect(refused.headers["retry-after"]).to.equal("600");
    expect(refused.headers["set-cookie"], "no session for a refused form").to.equal(undefined);
    expect(refused.text).to.contain("しばらく時間をおいてから");
    expect(rows()).to.equal(100);
    expect(world.logs.some((line) => line.includes('"code":"new-sessions-per-address"')), "the refusal is logged").to.equal(true);

    expect((await open(office, kept)).status, "a browser that has its form already is not refused").to.equal(200);
    expect((await open("198.51.100.20")).status, "another address is not refused").to.equal(200);

    world.clock.advance(10 * MINUTE + 1000);
    expect((await open(office)).status, "10 minutes on, the address may start sessions again").to.equal(200);
    world.clock.advance(5 * MINUTE);
    const live = world.db.prepare("SELECT count(*) AS n FROM sessions WHERE expires_at > ?").get(world.clock.now().getTime()) as { n: number };
    expect(live.n, "15 minutes on, only the form opened at 10 minutes is left").to.equal(1);
  });

  it("when login forms are pipelined on one connection, then the cap still holds: each allowed form is counted before the next is checked", async () => {
    world.close();
    world = await buildTestApp({ limits: { newSessions: { perAddress: 2 } } });
    const served = await serve(world.app);
    try {
      const statuses = await new Promise<string[]>((resolve, reject) => {
        const socket = net.connect({ host: "127.0.0.1", port: Number(new URL(served.url).port) });
        let received = "";
        socket.on("data", (chunk) => {
          received += chunk.toString("latin1");
          const found = [...received.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1]!);
          if (found.length === 5) { socket.destroy(); resolve(found); }
        });
        socket.on("error", reject);
        socket.write("GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(5));
      });
      expect(statuses).to.deep.equal(["200", "200", "429", "429", "429"]);
      expect(count(world, "SELECT count(*) AS n FROM sessions")).to.equal(2);
    } finally {
      await served.close();
    }
  });

  it("when an office's officers each open the form and log in, then their sessions stop counting against the address", async () => {
    world.close();
    world = await buildTestApp({ env: { TRUST_PROXY: "1" }, limits: { newSessions: { perAddress: 3 } } });
    const { login, password } = await givenOfficer(world);
    for (let i = 0; i < 5; i++) {
      const agent = request.agent(world.app);
      const page = await agent.get("/login").set("X-Forwarded-For", "203.0.113.7");
      expect(page.status, `officer ${i + 1}'s form`).to.equal(200);
      const res = await agent.post("/login").set("X-Forwarded-For", "203.0.113.7").type("form").send({ _csrf: csrfTokenOf(page.text), username: login, password });
      expect(res.status).to.equal(303);
    }
  });

  it("when the login cookie is issued, then it is HttpOnly, SameSite=Strict, Path=/ and not the framework's default name", async () => {
    const { login, password } = await givenOfficer(world);
    const { agent, token } = await loginForm(world.app);
    const res = await postLogin(agent, token, login, password);
    const cookie = sessionCookieOf(res);
    expect(cookie).to.match(/^kakunin=/);
    expect(cookie).to.contain("HttpOnly").and.to.contain("SameSite=Strict").and.to.contain("Path=/");
    expect(cookie).not.to.match(/Domain=/i);
    const secure = await buildTestApp({ env: { COOKIE_SECURE: "true", TRUST_PROXY: "loopback" } });
    try {
      await givenOfficer(secure, { login, password });
      const page = await request(secure.app).get("/login").set("X-Forwarded-Proto", "https");
      expect((page.headers["set-cookie"] as unknown as string[])[0]).to.match(/^__Host-kakunin=.*; Path=\/; .*HttpOnly; Secure; SameSite=Strict/);
    } finally {
      secure.close();
    }
  });
});
