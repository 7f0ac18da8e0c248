import { expect } from "chai";
import request from "supertest";
import { givenOfficer, givenOrderer } from "../support/given.js";
import { totpCode } from "../support/mfa.js";
import { signInAtProvider, startTestProvider, type TestProvider } from "../support/oidc-provider.js";
import { buildTestApp, csrfTokenOf, type WebWorld } from "../support/web.js";

const CALLBACK = "http://localhost:3000/login/sso/callback";
const KAKUNIN = { clientId: "kakunin", clientSecret: "kakunin-client-secret-0123456789", redirectUri: CALLBACK };
const OTHER_RP = { clientId: "other-rp", clientSecret: "other-rp-client-secret-0123456789", redirectUri: "http://localhost:4000/cb" };
const TANAKA = "tanaka@city.mutsu.lg.jp";

describe("sign-in through the orderer's identity provider (OpenID Connect)", () => {
  let provider: TestProvider;
  let world: WebWorld;

  before(async () => { provider = await startTestProvider({ clients: [KAKUNIN, OTHER_RP] }); });
  after(() => provider.close());
  beforeEach(async () => {
    world = await buildTestApp();
    givenOrderer(world);
    const set = world.services.ssoSettings.configure("022080", {
      issuer: provider.issuer, clientId: KAKUNIN.clientId, clientSecret: KAKUNIN.clientSecret, domains: ["city.mutsu.lg.jp"],
    }, "test");
    if (!set.ok) throw new Error(JSON.stringify(set.problems));
    await givenOfficer(world, { login: TANAKA });
    provider.accounts.clear();
    provider.accounts.set(TANAKA, { claims: { email: TANAKA, email_verified: true, name: "田中 一郎" }, amr: ["pwd"] });
  });
  afterEach(() => world.close());

  /** GET /login, then POST /login/sso with `fields`: the agent, Kakunin's answer and the provider's URL it continues to. */
  async function start(fields: Record<string, string>, agent = request.agent(world.app)) {
    const form = await agent.get("/login");
    const res = await agent.post("/login/sso").type("form").send({ _csrf: csrfTokenOf(form.text), ...fields });
    const link = /href="([^"]+)" data-sso-continue/.exec(res.text)?.[1]?.replace(/&amp;/g, "&").replace(/&#x3D;/g, "=");
    return { agent, res, next: link ?? "" };
  }

  /** The whole way: start by login id, sign in at the provider as `login`, come back. */
  async function signIn(login = TANAKA) {
    const { agent, res, next } = await start({ login: TANAKA });
    expect(res.status).to.equal(200);
    const back = await signInAtProvider(next, login);
    const landed = await agent.get(`${back.pathname}${back.search}`);
    return { agent, back, landed };
  }

  const auditRows = (event: string) => world.db.prepare("SELECT * FROM audit_events WHERE event = ? ORDER BY id").all(event) as Record<string, unknown>[];

  it("when the orderer has a provider, then the login page offers 所属の認証基盤でログイン with the orderer to choose", async () => {
    const page = await request(world.app).get("/login");
    expect(page.text).to.include("所属の認証基盤でログイン").and.include("むつ市(022080)");
  });

  it("when an officer signs in at the provider, then they continue to /verify logged in, with no second factor counted, and it is audited", async () => {
    const { agent, landed, back } = await signIn();
    expect(back.origin + back.pathname).to.equal(CALLBACK);
    expect(landed.status).to.equal(200);
    expect(landed.text).to.include('http-equiv="refresh"').and.include("url=/verify");
    expect(String(landed.headers["set-cookie"])).to.match(/kakunin-sso=;/);
    const verify = await agent.get("/verify");
    expect(verify.status).to.equal(200);
    expect(verify.text).to.include("田中 一郎");
    const [row] = auditRows("authn_sso_success");
    expect(row).to.include({ outcome: "ok", actor: TANAKA, orderer_code: "022080" });
    expect(JSON.parse(row!.detail as string)).to.include({ providerMfa: false });
    expect(world.services.officers.findByLogin(TANAKA)!.lastLoginAt).to.be.a("string");
    const session = world.db.prepare("SELECT data FROM sessions WHERE officer_id IS NOT NULL").get() as { data: string };
    expect(JSON.parse(session.data)).not.to.have.property("secondFactorByIdentityProvider");
    expect(JSON.stringify(world.db.prepare("SELECT * FROM audit_events").all())).not.to.include(KAKUNIN.clientSecret);
    expect(world.logs.join("\n")).not.to.include(KAKUNIN.clientSecret);
  });

  it("when the orderer lets the provider's second factor count and the provider used one, then the session says so", async () => {
    world.services.ssoSettings.configure("022080", { providerMfa: true }, "test");
    provider.accounts.set(TANAKA, { claims: { email: TANAKA, email_verified: true }, amr: ["pwd", "otp"] });
    await signIn();
    const session = world.db.prepare("SELECT data FROM sessions WHERE officer_id IS NOT NULL").get() as { data: string };
    expect(JSON.parse(session.data)).to.include({ secondFactorByIdentityProvider: true });
  });

  it("when the provider used only a password though the orderer lets its second factor count, then the session has none", async () => {
    world.services.ssoSettings.configure("022080", { providerMfa: true }, "test");
    await signIn();
    const session = world.db.prepare("SELECT data FROM sessions WHERE officer_id IS NOT NULL").get() as { data: string };
    expect(JSON.parse(session.data)).not.to.have.property("secondFactorByIdentityProvider");
  });

  it("when the officer has a second factor and the provider's does not count, then the callback continues to /login/mfa and only the code logs them in", async () => {
    const { secret } = world.services.secondFactors.provision(world.services.officers.findByLogin(TANAKA)!, "test");
    const { agent, landed } = await signIn();
    expect(landed.status).to.equal(200);
    expect(landed.text).to.include("url=/login/mfa");
    expect((await agent.get("/verify")).status, "not logged in before the code").to.equal(303);
    const step = await agent.get("/login/mfa");
    expect(step.status).to.equal(200);
    const done = await agent.post("/login/mfa").type("form").send({ _csrf: csrfTokenOf(step.text), code: totpCode(secret, world.clock) });
    expect(done.status).to.equal(303);
    expect(done.headers.location).to.equal("/verify");
    expect((await agent.get("/verify")).status).to.equal(200);
  });

  it("when the officer has a second factor and the provider's counts, then the callback logs them in without a code", async () => {
    world.services.secondFactors.provision(world.services.officers.findByLogin(TANAKA)!, "test");
    world.services.ssoSettings.configure("022080", { providerMfa: true }, "test");
    provider.accounts.set(TANAKA, { claims: { email: TANAKA, email_verified: true }, amr: ["pwd", "otp"] });
    const { agent, landed } = await signIn();
    expect(landed.text).to.include("url=/verify");
    expect((await agent.get("/verify")).status).to.equal(200);
  });

  it("when the answer's state is not the pending sign-in's, then nobody is logged in and the cause is audited", async () => {
    const { agent, next } = await start({ orderer: "022080" });
    const back = await signInAtProvider(next, TANAKA);
    back.searchParams.set("state", "forged-state-value");
    const landed = await agent.get(`${back.pathname}${back.search}`);
    expect(landed.status).to.equal(401);
    expect(landed.text).to.include("所属の認証基盤でのログインを受け付けられませんでした");
    expect((await agent.get("/verify")).status).to.equal(303);
    expect(auditRows("authn_sso_fail").map((r) => r.outcome)).to.deep.equal(["wrong-state"]);
  });

  it("when the provider's answer comes back a second time, then it is refused: the pending sign-in works once, and a replayed code is refused by the provider", async () => {
    const { back, agent } = await signIn();
    // The same answer again, in the same browser: its pending sign-in is gone.
    const again = await agent.get(`${back.pathname}${back.search}`);
    expect(again.status).to.equal(400);
    expect(again.text).to.include("最初からもう一度お試しください");
    // A stranger with their own pending sign-in sends the victim's code under their own state.
    const stranger = await start({ orderer: "022080" });
    const strangerState = new URL(stranger.next).searchParams.get("state")!;
    const replay = new URL(back);
    replay.searchParams.set("state", strangerState);
    const replayed = await stranger.agent.get(`${replay.pathname}${replay.search}`);
    expect(replayed.status).to.equal(401);
    expect((await stranger.agent.get("/verify")).status).to.equal(303);
    expect(auditRows("authn_sso_fail").map((r) => r.outcome)).to.deep.equal(["code-refused"]);
  });

  it("when the token endpoint answers with an ID token issued to another client, then it is refused for its audience", async () => {
    const { agent, next } = await start({ login: TANAKA });
    const ours = new URL(next);
    // Another relying party of the same provider gets an ID token with our sign-in's nonce.
    const verifier = "another-relying-partys-pkce-code-verifier-0123456789";
    const { calculatePKCECodeChallenge } = await import("openid-client");
    const theirs = new URL(`${provider.issuer}/auth`);
    theirs.search = new URLSearchParams({
      client_id: OTHER_RP.clientId, redirect_uri: OTHER_RP.redirectUri, response_type: "code", scope: "openid email", state: "s",
      nonce: ours.searchParams.get("nonce")!, code_challenge: await calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
    }).toString();
    const theirBack = await signInAtProvider(theirs.href, TANAKA);
    const token = await fetch(`${provider.issuer}/token`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`${OTHER_RP.clientId}:${OTHER_RP.clientSecret}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", code: theirBack.searchParams.get("code")!, redirect_uri: OTHER_RP.redirectUri, code_verifier: verifier }),
    });
    expect(token.status).to.equal(200);
    provider.replaceNextTokenResponse(await token.text());
    const back = await signInAtProvider(ours.href, TANAKA);
    const landed = await agent.get(`${back.pathname}${back.search}`);
    expect(landed.status).to.equal(401);
    expect((await agent.get("/verify")).status).to.equal(303);
    expect(auditRows("authn_sso_fail").map((r) => r.outcome)).to.deep.equal(["wrong-audience"]);
  });

  it("when the claim names an officer of another orderer, then nobody is logged in and the audit names no login", async () => {
    await givenOfficer(world, { login: "sato@city.hachinohe.lg.jp", orderer: "022039" });
    provider.accounts.set("sato", { claims: { email: "sato@city.hachinohe.lg.jp", email_verified: true } });
    const { agent, landed } = await signIn("sato");
    expect(landed.status).to.equal(401);
    expect((await agent.get("/verify")).status).to.equal(303);
    const [row] = auditRows("authn_sso_fail");
    expect(row).to.include({ outcome: "other-orderer", orderer_code: "022080", officer_id: null });
    expect(row!.actor).not.to.include("sato");
  });

  it("when the officer is disabled, then nobody is logged in and it is audited", async () => {
    world.services.officers.setActive(TANAKA, false, "test");
    const { agent, landed } = await signIn();
    expect(landed.status).to.equal(401);
    expect((await agent.get("/verify")).status).to.equal(303);
    expect(auditRows("authn_sso_fail").map((r) => r.outcome)).to.deep.equal(["disabled"]);
  });

  it("when the claim names nobody, then no account is created unless the orderer allows it", async () => {
    provider.accounts.set("suzuki", { claims: { email: "suzuki@city.mutsu.lg.jp", email_verified: true, name: "鈴木 花子" } });
    const refused = await signIn("suzuki");
    expect(refused.landed.status).to.equal(401);
    expect(world.services.officers.findByLogin("suzuki@city.mutsu.lg.jp")).to.equal(undefined);
    expect(auditRows("authn_sso_fail").map((r) => r.outcome)).to.deep.equal(["unknown-user"]);

    world.services.ssoSettings.configure("022080", { createAccounts: true }, "test");
    const created = await signIn("suzuki");
    expect(created.landed.status).to.equal(200);
    const officer = world.services.officers.findByLogin("suzuki@city.mutsu.lg.jp")!;
    expect(officer).to.include({ ordererCode: "022080", displayName: "鈴木 花子", role: "officer", active: true });
  });

  it("when a login id's domain has no provider, or an unknown one, then the answer is the same and nothing is looked up or stored", async () => {
    for (const login of ["mutsu-tanaka", "nobody@example.com", "tanaka@city.hachinohe.lg.jp"]) {
      const { res } = await start({ login });
      expect(res.status, login).to.equal(400);
      expect(res.text).to.include("所属の認証基盤でのログインを利用できません");
    }
    expect(world.db.prepare("SELECT count(*) AS n FROM sso_pending").get()).to.deep.equal({ n: 0 });
    const { res } = await start({ login: "", orderer: "" });
    expect(res.status).to.equal(400);
    expect(res.text).to.include("ログインID(メールアドレス)を入力するか、所属を選んでください");
  });

  it("when the callback comes without a pending sign-in, then the login form says to start again and nothing is audited", async () => {
    const res = await request(world.app).get("/login/sso/callback?code=abc&state=def");
    expect(res.status).to.equal(400);
    expect(auditRows("authn_sso_fail")).to.have.length(0);
  });

  it("when the sign-in starts, then the provider gets PKCE S256, a state and a nonce, and the browser a Lax, HttpOnly cookie whose value is stored only hashed", async () => {
    const { res, next } = await start({ orderer: "022080" });
    expect(res.text).to.include('http-equiv="refresh"');
    const url = new URL(next);
    expect(url.origin).to.equal(provider.issuer);
    expect(url.searchParams.get("code_challenge_method")).to.equal("S256");
    expect(url.searchParams.get("state")).to.have.length.greaterThan(20);
    expect(url.searchParams.get("nonce")).to.have.length.greaterThan(20);
    const cookie = ([] as string[]).concat(res.headers["set-cookie"] ?? []).find((c) => c.startsWith("kakunin-sso="))!;
    expect(cookie).to.match(/HttpOnly/).and.match(/SameSite=Lax/).and.match(/Max-Age=600/);
    const handle = /^kakunin-sso=([^;]+)/.exec(cookie)![1]!;
    expect(JSON.stringify(world.db.prepare("SELECT * FROM sso_pending").all())).not.to.include(handle);
  });
});
