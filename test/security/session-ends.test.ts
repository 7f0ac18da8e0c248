import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import request from "supertest";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { projectRoot } from "../../src/paths.js";
import { createSessionRepository } from "../../src/sessions/session.repository.js";
import { buildCliWorld } from "../cli/cli-world.js";
import { givenOfficer } from "../support/given.js";
import { buildTestApp, csrfTokenOf, type WebWorld } from "../support/web.js";
import { count, HOUR, loginForm, MINUTE, officerSession, postLogin } from "./helpers.js";

/** The session cookie ("kakunin=…") a response sets, as a Cookie header value. */
const sessionCookieOf = (res: { headers: Record<string, unknown> }) =>
  (res.headers["set-cookie"] as string[]).find((c) => c.startsWith("kakunin="))!.split(";")[0]!;

const auditRows = (world: WebWorld, event: string) =>
  world.db.prepare("SELECT outcome, actor_kind AS actorKind, actor, detail FROM audit_events WHERE event = ? ORDER BY id").all(event);

/** Issue 13, section 4: how sessions end, and what the audit trail says about it. */
describe("security: the ends of sessions", () => {
  let world: WebWorld;
  beforeEach(async () => { world = await buildTestApp(); });
  afterEach(() => world.close());

  it("when an officer logs out while one of their requests is still being answered, then that request's save does not bring the session back", async () => {
    const { login, password } = await givenOfficer(world);
    const { agent, token } = await loginForm(world.app);
    const cookie = sessionCookieOf(await postLogin(agent, token, login, password));
    const sid = /^kakunin=s%3A([^.]+)\./.exec(cookie)![1]!;
    const page = await agent.get("/verify");
    expect((await agent.post("/logout").type("form").send({ _csrf: csrfTokenOf(page.text) })).status).to.equal(303);
    expect(count(world, "SELECT count(*) AS n FROM sessions WHERE officer_id IS NOT NULL AND ended = 1"), "an ended marker, as a revocation leaves").to.equal(1);
    // What express-session does when a request loaded before the logout ends having changed the session.
    const officer = world.services.officers.findByLogin(login)!;
    const now = world.clock.now().getTime();
    createSessionRepository(world.db).set(sid, {
      officerId: officer.id, clientAddress: null, nowMs: now, expiresAt: now + 30 * MINUTE,
      data: JSON.stringify({ cookie: { originalMaxAge: 30 * MINUTE, expires: new Date(now + 30 * MINUTE).toISOString(), httpOnly: true, path: "/" }, passport: { user: { id: officer.id } }, loginAt: now, lastSeenAt: now }),
    });
    const after = await request(world.app).get("/verify").set("Cookie", cookie);
    expect(after.status).to.equal(303);
    expect(after.headers.location).to.match(/^\/login/);
    expect(count(world, "SELECT count(*) AS n FROM sessions WHERE data <> '{}' AND officer_id IS NOT NULL"), "the ended session holds nothing").to.equal(0);
  });

  it("when an officer logs out, then it is audited under the officer", async () => {
    const { login, password } = await givenOfficer(world);
    const { agent, token } = await officerSession(world.app, login, password);
    await agent.post("/logout").type("form").send({ _csrf: token });
    expect(auditRows(world, "authn_logout")).to.deep.equal([{ outcome: "ok", actorKind: "officer", actor: login, detail: null }]);
  });

  it("when a session passes its idle or its absolute timeout, then its end is audited with which one", async () => {
    const { login, password } = await givenOfficer(world);
    const idle = await officerSession(world.app, login, password);
    world.clock.advance(30 * MINUTE + 1000);
    expect((await idle.agent.get("/verify")).headers.location).to.match(/^\/login/);
    const busy = await officerSession(world.app, login, password);
    for (let elapsed = 0; elapsed <= 8 * HOUR; elapsed += 20 * MINUTE) {
      world.clock.advance(20 * MINUTE);
      await busy.agent.get("/verify");
    }
    expect(auditRows(world, "session_expired").map((r) => (r as { outcome: string }).outcome)).to.deep.equal(["idle", "absolute"]);
    expect(count(world, "SELECT count(*) AS n FROM sessions WHERE ended = 0 AND officer_id IS NOT NULL")).to.equal(0);
  });

  it("when a logged-in officer's POST carries a wrong CSRF token or comes from another site, then it is refused and audited, without the token; an anonymous one is only logged", async () => {
    const { login, password } = await givenOfficer(world);
    const { agent, token } = await officerSession(world.app, login, password);
    const forged = "forged-token-value-0123456789abcdef";
    expect((await agent.post("/verify").type("form").send({ _csrf: forged, contractNumber: "02208-000001", authKey: "Z28YUE4J3BUX" })).status).to.equal(403);
    expect((await agent.post("/verify").set("Sec-Fetch-Site", "cross-site").type("form").send({ _csrf: token, contractNumber: "02208-000001", authKey: "x" })).status).to.equal(403);
    expect(auditRows(world, "csrf_refused")).to.deep.equal([
      { outcome: "bad-token", actorKind: "officer", actor: login, detail: '{"path":"/verify"}' },
      { outcome: "cross-site", actorKind: "officer", actor: login, detail: '{"path":"/verify"}' },
    ]);
    expect(JSON.stringify(world.db.prepare("SELECT * FROM audit_events").all())).not.to.contain(forged).and.not.to.contain(token);

    const before = count(world, "SELECT count(*) AS n FROM audit_events");
    const anonymous = await loginForm(world.app);
    for (let i = 0; i < 5; i++) expect((await postLogin(anonymous.agent, "not-the-token", login, password)).status).to.equal(403);
    expect(count(world, "SELECT count(*) AS n FROM audit_events"), "an anonymous flood writes no rows").to.equal(before);
    expect(world.logs.filter((l) => l.includes('"code":"ebadcsrftoken"')).length).to.be.at.least(5);
  });

  it("when SESSION_SECRET is rotated to \"new,old\", then sessions and device cookies signed with the old secret still work, new ones are signed with the new, and dropping the old ends them", async () => {
    const [oldSecret, newSecret] = ["an-old-secret-of-at-least-32-bytes-aaaa", "the-new-secret-of-at-least-32-bytes-bbbb"];
    const { login, password } = await givenOfficer(world);
    const appWith = (secret: string) => createApp({
      config: loadConfig({ NODE_ENV: "test", SESSION_SECRET: secret }), services: world.services, clock: world.clock, logger: createLogger({ level: "silent" }),
    });
    const before = appWith(oldSecret);
    const rotated = appWith(`${newSecret},${oldSecret}`);
    const after = appWith(newSecret);
    try {
      const form = await request(before).get("/login");
      const res = await request(before).post("/login").set("Cookie", sessionCookieOf(form)).type("form").send({ _csrf: csrfTokenOf(form.text), username: login, password });
      const cookies = (res.headers["set-cookie"] as unknown as string[]).map((c) => c.split(";")[0]!).join("; ");
      expect((await request(rotated).get("/verify").set("Cookie", cookies)).status, "old session under new,old").to.equal(200);
      expect((await request(after).get("/verify").set("Cookie", cookies)).status, "old session under new alone").to.equal(303);

      const device = cookies.split("; ").find((c) => c.startsWith("kakunin-device="))!;
      const page = await request(rotated).get("/login");
      const again = await request(rotated).post("/login").set("Cookie", `${sessionCookieOf(page)}; ${device}`).type("form")
        .send({ _csrf: csrfTokenOf(page.text), username: login, password: "one wrong try" });
      expect(again.status).to.equal(401);
      expect(count(world, "SELECT count(*) AS n FROM throttle_counters WHERE scope = 'device' AND failures = 1"), "the old device cookie still counts as the device").to.equal(1);
      const fresh = await request(rotated).get("/login");
      const signed = decodeURIComponent(sessionCookieOf(fresh).split("=")[1]!);
      expect((await request(after).get("/login").set("Cookie", sessionCookieOf(fresh))).text, "a new session is signed with the new secret").to.contain(csrfTokenOf(fresh.text));
      expect(signed).to.match(/^s:/);
    } finally {
      before.close();
      rotated.close();
      after.close();
    }
  });

  it("when NODE_ENV is unset, then the session cookie is Secure and __Host-; npm run dev and demo say development themselves", async () => {
    world.close();
    world = await buildTestApp({ env: { NODE_ENV: "", TRUST_PROXY: "loopback" } });
    const page = await request(world.app).get("/login").set("X-Forwarded-Proto", "https");
    expect(String(page.headers["set-cookie"])).to.match(/^__Host-kakunin=.*; Secure; SameSite=Strict/);
    const scripts = (JSON.parse(readFileSync(path.join(projectRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.dev).to.match(/^NODE_ENV=development /);
    expect(scripts.demo!.split("&&").map((s) => s.trim())).to.satisfy((parts: string[]) => parts.every((p) => p.startsWith("NODE_ENV=development ")));
  });
});

describe("admin CLI: sessions revoke --all", () => {
  it("when every session is revoked, then every officer's sessions end at once, the revocation is audited, and without --all nothing happens", async () => {
    const world = await buildCliWorld();
    try {
      const sessions = world.repositories.sessions;
      const now = world.clock.now().getTime();
      for (const [i, login] of ["mutsu-tanaka", "aomori-sato"].entries()) {
        const { officer } = await givenOfficer(world, { login, orderer: i === 0 ? "022080" : "022012" });
        sessions.set(`sid-${i}`, { officerId: officer.id, data: JSON.stringify({ cookie: {}, passport: { user: { id: officer.id } } }), expiresAt: now + HOUR, clientAddress: null, nowMs: now });
      }
      const live = () => (world.db.prepare("SELECT count(*) AS n FROM sessions WHERE ended = 0").get() as { n: number }).n;
      const usage = await world.run(["sessions", "revoke"]);
      expect(usage.status).to.equal(2);
      expect(usage.stderr).to.contain("--all");
      expect(live()).to.equal(2);
      const res = await world.run(["sessions", "revoke", "--all"]);
      expect(res).to.deep.include({ status: 0, stdout: "2 session(s) ended; every officer must log in again\n" });
      expect(live()).to.equal(0);
      expect(world.db.prepare("SELECT actor_kind AS kind, actor, detail FROM audit_events WHERE event = 'sessions_revoke_all'").all()).to.deep.equal([
        { kind: "admin", actor: "test-admin", detail: '{"ended":2}' },
      ]);
    } finally {
      world.close();
    }
  });
});
