import { expect } from "chai";
import { createHash } from "node:crypto";
import request from "supertest";
import { givenOfficer } from "../support/given.js";
import { buildTestApp, csrfTokenOf, loginAs, postForm, type WebWorld } from "../support/web.js";

const EXPECTED_CSP =
  "default-src 'none';script-src 'self';style-src 'self';img-src 'self';font-src 'self';connect-src 'self';" +
  "form-action 'self';frame-ancestors 'none';base-uri 'none';object-src 'none'";

function cookieHeader(res: request.Response): string {
  const set = res.headers["set-cookie"] as unknown as string[] | undefined;
  if (!set) throw new Error("no cookie set");
  return set.map((c) => c.split(";")[0]).join("; ");
}

describe("logging in and out", () => {
  let world: WebWorld;
  beforeEach(async () => { world = await buildTestApp(); });
  afterEach(() => world.close());

  it("when the password is wrong or the login unknown, then the same page and status come back, each after one argon2 verification", async () => {
    const { login } = await givenOfficer(world);
    const bodies: string[] = [];
    for (const username of [login, "nobody-here"]) {
      const agent = request.agent(world.app);
      const page = await agent.get("/login");
      const before = world.hasher.counts.verify;
      const res = await agent.post("/login").type("form").send({ _csrf: csrfTokenOf(page.text), username, password: "wrong password for sure" });
      expect(res.status).to.equal(401);
      expect(world.hasher.counts.verify - before).to.equal(1);
      bodies.push(res.text.replace(/name="_csrf" value="[^"]+"/, "").replace(/value="[^"]*" ?>/, ""));
    }
    expect(bodies[0]).to.contain("ログインIDまたはパスワードが正しくありません。");
    expect(bodies[0]).to.equal(bodies[1]);
  });

  it("when the credentials come in the query string with empty form fields, then they are ignored and the login fails", async () => {
    const { login, password } = await givenOfficer(world);
    const agent = request.agent(world.app);
    const page = await agent.get("/login");
    const res = await agent.post(`/login?username=${login}&password=${encodeURIComponent(password)}`).type("form")
      .send({ _csrf: csrfTokenOf(page.text), username: "", password: "" });
    expect(res.status).to.equal(401);
    expect((await agent.get("/verify")).headers.location).to.equal("/login");
  });

  it("when an officer logs in, then the pre-login session cookie no longer opens anything", async () => {
    const { login, password } = await givenOfficer(world);
    const page = await request(world.app).get("/login");
    const preLogin = cookieHeader(page);
    const res = await request(world.app).post("/login").set("Cookie", preLogin).type("form")
      .send({ _csrf: csrfTokenOf(page.text), username: login, password });
    expect(res.status).to.equal(303);
    const postLogin = cookieHeader(res);
    expect(postLogin).not.to.equal(preLogin);
    expect((await request(world.app).get("/verify").set("Cookie", postLogin)).status).to.equal(200);
    const replay = await request(world.app).get("/verify").set("Cookie", preLogin);
    expect(replay.status).to.equal(303);
    expect(replay.headers.location).to.equal("/login");
  });

  it("when an officer is logged in, then the database holds only a hash of the session id", async () => {
    const { login, password } = await givenOfficer(world);
    const page = await request(world.app).get("/login");
    const res = await request(world.app).post("/login").set("Cookie", cookieHeader(page)).type("form")
      .send({ _csrf: csrfTokenOf(page.text), username: login, password });
    const sid = decodeURIComponent(/(?:^|; )kakunin=([^;]+)/.exec(cookieHeader(res))![1]!).replace(/^s:/, "").split(".")[0]!;
    const rows = world.db.prepare("SELECT sid FROM sessions").all() as { sid: string }[];
    expect(rows.length).to.be.greaterThan(0);
    expect(JSON.stringify(rows)).not.to.contain(sid);
    expect(rows.map((r) => r.sid)).to.include(createHash("sha256").update(sid).digest("hex"));
  });

  it("when an officer logs out, then the session is gone on the server and its cookie opens nothing", async () => {
    const { login, password } = await givenOfficer(world);
    const agent = await loginAs(world.app, login, password);
    const verifyPage = await agent.get("/verify");
    const res = await agent.post("/logout").type("form").send({ _csrf: csrfTokenOf(verifyPage.text) });
    expect(res.status).to.equal(303);
    expect(res.headers["clear-site-data"]).to.contain("cache").and.contain("storage");
    expect(String(res.headers["set-cookie"]), "the session cookie is cleared, the device cookie kept").to.match(/^kakunin=;/);
    expect(world.db.prepare("SELECT count(*) AS n FROM sessions WHERE officer_id IS NOT NULL AND ended = 0").get()).to.deep.equal({ n: 0 });
    const after = await agent.get("/verify");
    expect(after.status).to.equal(303);
    expect(after.headers.location).to.equal("/login");
  });

  it("when a POST carries no CSRF token or another session's, then it is refused with 403 and costs no argon2 work", async () => {
    const { login, password } = await givenOfficer(world);
    const before = world.hasher.counts.verify;
    const noToken = await request.agent(world.app).post("/login").type("form").send({ username: login, password });
    expect(noToken.status).to.equal(403);
    const other = await request(world.app).get("/login");
    const agent = request.agent(world.app);
    await agent.get("/login");
    const foreign = await agent.post("/login").type("form").send({ _csrf: csrfTokenOf(other.text), username: login, password });
    expect(foreign.status).to.equal(403);
    expect(world.hasher.counts.verify).to.equal(before);
    expect(world.db.prepare("SELECT count(*) AS n FROM audit_events WHERE event LIKE 'authn%'").get()).to.deep.equal({ n: 0 });
  });

  it("when the login page's token is used after logging in, then it is refused: login issues a new token", async () => {
    const { login, password } = await givenOfficer(world);
    const agent = request.agent(world.app);
    const page = await agent.get("/login");
    const token = csrfTokenOf(page.text);
    await agent.post("/login").type("form").send({ _csrf: token, username: login, password });
    const res = await agent.post("/verify").type("form").send({ _csrf: token, contractNumber: "02208-000001", authKey: "ABCDEFGHJKMN" });
    expect(res.status).to.equal(403);
  });

  it("when the CLI gave a one-time password, then the officer must set a new one before anything else", async () => {
    const { login } = await givenOfficer(world);
    const reset = await world.services.officers.resetPassword(login, "test");
    if (!reset.ok) throw new Error("reset refused");
    const oneTime = reset.value.initialPassword!;
    const agent = request.agent(world.app);
    const page = await agent.get("/login");
    const res = await agent.post("/login").type("form").send({ _csrf: csrfTokenOf(page.text), username: login, password: oneTime });
    expect(res.headers.location).to.equal("/password");
    expect((await agent.get("/verify")).headers.location).to.equal("/password");
    const weak = await postForm(agent, "/password", "/password", { currentPassword: oneTime, newPassword: "password", confirmPassword: "password" });
    expect(weak.status).to.equal(400);
    expect(weak.text).to.contain("15文字以上");
    const ok = await postForm(agent, "/password", "/password", {
      currentPassword: oneTime, newPassword: "moonlit harbour of shimokita", confirmPassword: "moonlit harbour of shimokita",
    });
    expect(ok.status).to.equal(303);
    expect((await agent.get("/verify")).status).to.equal(200);
  });

  it("when an officer is disabled, then their open session stops working at once", async () => {
    const { login, password } = await givenOfficer(world);
    const agent = await loginAs(world.app, login, password);
    expect((await agent.get("/verify")).status).to.equal(200);
    world.services.officers.setActive(login, false, "test");
    const res = await agent.get("/verify");
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal("/login");
  });

  it("when any page is served, then it carries the strict CSP, and logged-in pages are not stored", async () => {
    const { login, password } = await givenOfficer(world);
    const agent = await loginAs(world.app, login, password);
    for (const path of ["/verify", "/verified", "/password", "/no-such-page"]) {
      const res = await agent.get(path);
      expect(res.headers["content-security-policy"], path).to.equal(EXPECTED_CSP);
      if (path !== "/no-such-page") expect(res.headers["cache-control"], path).to.equal("no-store");
    }
    const login404 = await request(world.app).get("/login");
    expect(login404.headers["content-security-policy"]).to.equal(EXPECTED_CSP);
    expect(login404.headers["x-powered-by"]).to.equal(undefined);
  });

  it("when a visitor is not logged in, then officer pages redirect to the login page and the public pages answer", async () => {
    for (const path of ["/verify", "/verified", "/guarantees/02208-000001", "/password"]) {
      const res = await request(world.app).get(path);
      expect(res.status, path).to.equal(303);
      expect(res.headers.location, path).to.equal("/login");
    }
    expect((await request(world.app).get("/orderers")).status).to.equal(200);
    expect((await request(world.app).get("/healthz")).text).to.equal("ok");
  });
});
