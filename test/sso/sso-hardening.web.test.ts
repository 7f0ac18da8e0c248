import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import request from "supertest";
import type { LimitOverrides } from "../../src/config.js";
import { givenOfficer, givenOrderer } from "../support/given.js";
import { totpCode } from "../support/mfa.js";
import { signInAtProvider, startTestProvider, type TestProvider } from "../support/oidc-provider.js";
import { buildTestApp, csrfTokenOf, type WebWorld } from "../support/web.js";

const KAKUNIN = { clientId: "kakunin", clientSecret: "kakunin-client-secret-0123456789", redirectUri: "http://localhost:3000/login/sso/callback" };
const TANAKA = "tanaka@city.mutsu.lg.jp";
const SUZUKI = "suzuki@city.mutsu.lg.jp";

describe("sign-in through the orderer's identity provider: the review's findings", () => {
  let provider: TestProvider;
  let world: WebWorld;

  before(async () => { provider = await startTestProvider({ clients: [KAKUNIN] }); });
  after(() => provider.close());
  afterEach(() => world.close());

  /** A fresh app whose orderer 022080 signs in at the test provider; Tanaka is its officer and the provider's "tanaka". */
  async function setUp(limits?: LimitOverrides) {
    world = await buildTestApp({ limits });
    givenOrderer(world);
    configure("022080", { issuer: provider.issuer, clientId: KAKUNIN.clientId, clientSecret: KAKUNIN.clientSecret, domains: ["city.mutsu.lg.jp"] });
    await givenOfficer(world, { login: TANAKA });
    provider.accounts.clear();
    provider.accounts.set("tanaka", { claims: { email: TANAKA, email_verified: true, name: "田中 一郎" } });
  }
  beforeEach(() => setUp());
  /** The same world again, with some limits lowered. */
  async function rebuild(limits: LimitOverrides) {
    world.close();
    await setUp(limits);
  }

  function configure(code: string, input: Parameters<WebWorld["services"]["ssoSettings"]["configure"]>[1]) {
    const set = world.services.ssoSettings.configure(code, input, "test");
    if (!set.ok) throw new Error(JSON.stringify(set.problems));
  }

  /** GET /login, then POST /login/sso with `fields`: the agent, the answer and the provider's URL it continues to. */
  async function start(fields: Record<string, string>, agent = request.agent(world.app)) {
    const form = await agent.get("/login");
    const res = await agent.post("/login/sso").type("form").send({ _csrf: csrfTokenOf(form.text), ...fields });
    const link = /href="([^"]+)" data-sso-continue/.exec(res.text)?.[1]?.replace(/&amp;/g, "&").replace(/&#x3D;/g, "=");
    return { agent, res, next: link ?? "" };
  }

  /** Starts at 022080, signs in at the provider as its account `account`, and comes back. */
  async function signIn(account: string) {
    const { agent, next } = await start({ orderer: "022080" });
    const back = await signInAtProvider(next, account);
    const landed = await agent.get(`${back.pathname}${back.search}`);
    return { agent, landed, loggedIn: (await agent.get("/verify")).status === 200 };
  }

  const auditRows = (event: string) => world.db.prepare("SELECT * FROM audit_events WHERE event = ? ORDER BY id").all(event) as Record<string, unknown>[];
  const links = () => world.db.prepare("SELECT o.login, s.subject FROM sso_subjects s JOIN officers o ON o.id = s.officer_id ORDER BY o.login").all();
  const pending = () => (world.db.prepare("SELECT count(*) AS n FROM sso_pending").get() as { n: number }).n;

  describe("an e-mail address the provider does not vouch for (nOAuth)", () => {
    it("when the provider's ID token carries no email_verified (as Entra ID's), then the e-mail is not trusted and nobody is logged in", async () => {
      provider.accounts.set("tanaka", { claims: { email: TANAKA } });
      const { landed, loggedIn } = await signIn("tanaka");
      expect(landed.status).to.equal(401);
      expect(loggedIn).to.equal(false);
      expect(auditRows("authn_sso_fail").map((r) => r.outcome)).to.deep.equal(["unverified-email"]);
      expect(links()).to.deep.equal([]);
    });

    it("when an officer first signs in, then their account is tied to the provider's subject, and another subject claiming their address is refused and audited", async () => {
      expect((await signIn("tanaka")).loggedIn).to.equal(true);
      expect(links()).to.deep.equal([{ login: TANAKA, subject: "tanaka" }]);
      expect(JSON.parse(auditRows("authn_sso_success")[0]!.detail as string)).to.include({ subjectLinked: "tanaka" });

      // Another user of the tenant sets their (editable) address to Tanaka's; the provider even calls it verified.
      provider.accounts.set("mallory", { claims: { email: TANAKA, email_verified: true } });
      const { landed, loggedIn } = await signIn("mallory");
      expect(landed.status).to.equal(401);
      expect(loggedIn).to.equal(false);
      const [row] = auditRows("authn_sso_fail");
      expect(row).to.include({ outcome: "subject-mismatch", actor: TANAKA, orderer_code: "022080" });
      expect(JSON.parse(row!.detail as string)).to.include({ subject: "mallory", linked: true });
      expect(links()).to.deep.equal([{ login: TANAKA, subject: "tanaka" }]);
      expect((await signIn("tanaka")).loggedIn, "Tanaka still signs in").to.equal(true);
    });

    it("when a subject already tied to one officer claims another officer's address, then it is refused and neither link changes", async () => {
      await givenOfficer(world, { login: SUZUKI });
      provider.accounts.set("suzuki", { claims: { email: SUZUKI, email_verified: true } });
      expect((await signIn("suzuki")).loggedIn).to.equal(true);
      provider.accounts.set("suzuki", { claims: { email: TANAKA, email_verified: true } });
      const { loggedIn } = await signIn("suzuki");
      expect(loggedIn).to.equal(false);
      expect(auditRows("authn_sso_fail").map((r) => r.outcome)).to.deep.equal(["subject-mismatch"]);
      expect(links()).to.deep.equal([{ login: SUZUKI, subject: "suzuki" }]);
    });

    it("when the orderer's provider or client changes, or its setting is removed, then the links are forgotten (each officer is tied again at the next sign-in)", async () => {
      await signIn("tanaka");
      configure("022080", { clientId: "kakunin-2" });
      expect(links()).to.deep.equal([]);
      expect(JSON.parse(auditRows("orderer_sso_set").at(-1)!.detail as string)).to.include({ subjectsUnlinked: 1 });
      configure("022080", { clientId: KAKUNIN.clientId });
      await signIn("tanaka");
      expect(links()).to.have.length(1);
      configure("022080", { loginClaim: "email", providerMfa: false });
      expect(links(), "other changes keep the links").to.have.length(1);
      expect(world.services.ssoSettings.remove("022080", "test").ok).to.equal(true);
      expect(links()).to.deep.equal([]);
    });

    it("when accounts may be created, then not for an address outside the orderer's domains, nor for a subject already tied to an officer", async () => {
      configure("022080", { createAccounts: true });
      provider.accounts.set("outsider", { claims: { email: "outsider@gmail.example", email_verified: true } });
      expect((await signIn("outsider")).loggedIn).to.equal(false);
      expect(world.services.officers.findByLogin("outsider@gmail.example")).to.equal(undefined);

      await signIn("tanaka");
      provider.accounts.set("tanaka", { claims: { email: SUZUKI, email_verified: true } });
      expect((await signIn("tanaka")).loggedIn).to.equal(false);
      expect(world.services.officers.findByLogin(SUZUKI)).to.equal(undefined);
      expect(auditRows("authn_sso_fail").map((r) => r.outcome)).to.deep.equal(["domain-not-allowed", "subject-mismatch"]);

      provider.accounts.set("suzuki", { claims: { email: SUZUKI, email_verified: true } });
      expect((await signIn("suzuki")).loggedIn, "an address of its domain is still created").to.equal(true);
    });
  });

  describe("starting sign-ins cannot block the service", () => {
    it("when one address starts more sign-ins than its budget, then it gets 429 with Retry-After, nothing more is stored, and the block is audited", async () => {
      await rebuild({ ssoAddress: { limit: 2 } });
      for (let i = 0; i < 2; i++) expect((await start({ orderer: "022080" })).res.status).to.equal(200);
      const { res } = await start({ orderer: "022080" });
      expect(res.status).to.equal(429);
      expect(res.headers["retry-after"]).to.equal("600");
      expect(res.text).to.include("一時的に受け付けていません");
      expect(pending()).to.equal(2);
      expect(auditRows("authn_sso_address_block")).to.have.length(1);
    });

    it("when one orderer's sign-ins waiting reach its cap, then only that orderer answers 503, and another orderer's provider still starts", async () => {
      await rebuild({ ssoPending: { perOrderer: 2 } });
      givenOrderer(world, "022039", "八戸市");
      configure("022039", { issuer: provider.issuer, clientId: KAKUNIN.clientId, clientSecret: KAKUNIN.clientSecret });
      for (let i = 0; i < 2; i++) expect((await start({ orderer: "022080" })).res.status).to.equal(200);
      expect((await start({ orderer: "022080" })).res.status).to.equal(503);
      expect((await start({ orderer: "022039" })).res.status).to.equal(200);
      expect(pending()).to.equal(3);
    });

    it("when the provider cannot be reached, then the next clicks are answered without asking it again for a while", async () => {
      let asked = 0;
      const dead: Server = createServer((_req, res) => { asked += 1; res.statusCode = 503; res.end(); });
      await new Promise<void>((resolve) => dead.listen(0, "127.0.0.1", resolve));
      try {
        configure("022080", { issuer: `http://127.0.0.1:${(dead.address() as AddressInfo).port}` });
        for (let i = 0; i < 3; i++) {
          const { res } = await start({ orderer: "022080" });
          expect(res.status).to.equal(503);
          expect(res.text).to.include("所属の認証基盤に接続できませんでした");
        }
        expect(asked).to.equal(1);
        expect(pending()).to.equal(0);
      } finally {
        dead.closeAllConnections();
        await new Promise<void>((resolve) => dead.close(() => resolve()));
      }
    });
  });

  describe("the last login", () => {
    it("when a code is still owed after the provider's sign-in, then the last login is recorded only once the code is given", async () => {
      const { secret } = world.services.secondFactors.provision(world.services.officers.findByLogin(TANAKA)!, "test");
      const { agent, landed } = await signIn("tanaka");
      expect(landed.text).to.include("url=/login/mfa");
      expect(world.services.officers.findByLogin(TANAKA)!.lastLoginAt).to.equal(null);
      expect(auditRows("authn_sso_success").map((r) => r.outcome)).to.deep.equal(["second-factor-next"]);
      const step = await agent.get("/login/mfa");
      await agent.post("/login/mfa").type("form").send({ _csrf: csrfTokenOf(step.text), code: totpCode(secret, world.clock) });
      expect(world.services.officers.findByLogin(TANAKA)!.lastLoginAt).to.be.a("string");
      expect(auditRows("authn_login_success")).to.have.length(1);
    });
  });
});
