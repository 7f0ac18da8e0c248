import { expect } from "chai";
import { readFileSync, existsSync } from "node:fs";
import request from "supertest";
import { givenOfficer } from "../support/given.js";
import { enrol, recoveryCodesOf, submitCode, submitPassword, totpCode, totpSecretOf } from "../support/mfa.js";
import { buildTestApp, csrfTokenOf, loginAs, postForm, type WebWorld } from "../support/web.js";

const auditRows = (world: WebWorld, event: string) =>
  world.db.prepare("SELECT event, outcome, actor, actor_kind AS actorKind, detail FROM audit_events WHERE event = ? ORDER BY id").all(event) as Array<Record<string, string>>;

describe("the second factor (TOTP)", () => {
  let world: WebWorld;
  beforeEach(async () => { world = await buildTestApp(); });
  afterEach(() => world.close());

  /** An officer who has enrolled, logged out again. */
  async function enrolledOfficer(options: { login?: string } = {}) {
    const given = await givenOfficer(world, options);
    const agent = await loginAs(world.app, given.login, given.password);
    const enrolled = await enrol(agent, world.clock);
    await postForm(agent, "/verify", "/logout", {});
    // The next code belongs to the next time step: the enrolment's code is spent.
    world.clock.advance(30_000);
    return { ...given, ...enrolled };
  }

  describe("enrolment", () => {
    it("when an officer opens /account/mfa, then the page draws the QR code as inline SVG and shows the secret in data-totp-secret; nothing is enrolled until a code confirms it", async () => {
      const { login, password } = await givenOfficer(world);
      const agent = await loginAs(world.app, login, password);
      const page = await agent.get("/account/mfa");
      expect(page.status).to.equal(200);
      expect(page.text).to.match(/<svg class="qr-code"[^>]*viewBox="0 0 \d+ \d+"[^>]*role="img"/);
      const secret = totpSecretOf(page.text);
      expect(secret).to.have.length(32);
      expect((await agent.get("/account/mfa")).text, "a reload shows the same secret").to.contain(`data-totp-secret="${secret}"`);
      expect(world.services.officers.findByLogin(login)!.secondFactorEnrolled).to.equal(false);
      expect(auditRows(world, "mfa_enrol_start")).to.have.length(1);
      expect((await agent.get("/password")).text).to.contain('href="/account/mfa"');
    });

    it("when the code is wrong or missing, then the page comes back (400) with the message and nothing is confirmed", async () => {
      const { login, password } = await givenOfficer(world);
      const agent = await loginAs(world.app, login, password);
      const page = await agent.get("/account/mfa");
      const secret = totpSecretOf(page.text);
      const wrong = String((Number(totpCode(secret, world.clock)) + 1) % 1_000_000).padStart(6, "0");
      const res = await agent.post("/account/mfa").type("form").send({ _csrf: csrfTokenOf(page.text), code: wrong });
      expect(res.status).to.equal(400);
      expect(res.text).to.contain("確認コードが正しくありません。");
      expect(res.text).to.contain(`data-totp-secret="${secret}"`);
      const empty = await agent.post("/account/mfa").type("form").send({ _csrf: csrfTokenOf(page.text), code: "" });
      expect(empty.status).to.equal(400);
      expect(empty.text).to.contain("確認コード（6桁の数字）を入力してください。");
      expect(world.services.officers.findByLogin(login)!.secondFactorEnrolled).to.equal(false);
      expect(auditRows(world, "mfa_enrol_fail").map((r) => r.outcome)).to.deep.equal(["wrong-code"]);
    });

    it("when the right code is sent, then the factor is confirmed and ten different recovery codes are shown once", async () => {
      const { login, password } = await givenOfficer(world);
      const agent = await loginAs(world.app, login, password);
      const { recoveryCodes } = await enrol(agent, world.clock);
      expect(recoveryCodes).to.have.length(10);
      expect(new Set(recoveryCodes).size).to.equal(10);
      expect(recoveryCodes[0]).to.match(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
      expect(world.services.officers.findByLogin(login)!.secondFactorEnrolled).to.equal(true);
      const after = await agent.get("/account/mfa");
      expect(after.text).to.contain("未使用のリカバリーコードは残り10個です。");
      expect(after.text).not.to.contain("data-totp-secret");
      expect(auditRows(world, "mfa_enrol").map((r) => r.outcome)).to.deep.equal(["enrolled"]);
    });
  });

  describe("the login's second step", () => {
    it("when an enrolled officer gives the password, then they are not logged in until the code: /login/mfa, then /verify", async () => {
      const { login, password, secret } = await enrolledOfficer();
      const agent = request.agent(world.app);
      const first = await submitPassword(agent, login, password);
      expect(first.status).to.equal(303);
      expect(first.headers.location).to.equal("/login/mfa");
      expect((await agent.get("/verify")).headers.location, "the password alone opens nothing").to.equal("/login");
      const form = await agent.get("/login/mfa");
      expect(form.status).to.equal(200);
      expect(form.text).to.contain('name="code"');
      const res = await submitCode(agent, totpCode(secret, world.clock));
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal("/verify");
      expect((await agent.get("/verify")).status).to.equal(200);
      expect(auditRows(world, "authn_login_password_ok")).to.have.length(1);
      expect(auditRows(world, "authn_login_success").at(-1)!.outcome).to.equal("totp");
    });

    it("when the codes are wrong, then each is refused with 401 and audited, and after the login's limit the code form answers 429 with Retry-After", async () => {
      const { login, password, secret } = await enrolledOfficer();
      const agent = request.agent(world.app);
      await submitPassword(agent, login, password);
      const right = totpCode(secret, world.clock);
      const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, "0");
      for (let i = 0; i < 5; i++) {
        const res = await submitCode(agent, wrong);
        expect(res.status, `attempt ${i + 1}`).to.equal(401);
        expect(res.text).to.contain("確認コードが正しくありません。");
      }
      const throttled = await submitCode(agent, right);
      expect(throttled.status).to.equal(429);
      expect(Number(throttled.headers["retry-after"])).to.be.greaterThan(0);
      expect(auditRows(world, "authn_mfa_fail")).to.have.length(5);
      expect(auditRows(world, "authn_login_fail_max")).to.have.length(1);
      // The right password again does not clear the count the codes earned: no fresh guesses.
      world.clock.advance(31_000);
      expect((await submitPassword(agent, login, password)).headers.location).to.equal("/login/mfa");
      expect((await submitCode(agent, totpCode(secret, world.clock))).status).to.equal(429);
      expect(world.db.prepare("SELECT failures FROM throttle_counters WHERE scope = 'login' AND key = ?").get(login)).to.deep.equal({ failures: 5 });
    });

    it("when a code already accepted is sent again, or a code of an earlier step, then it is refused as a replay", async () => {
      const { login, password, secret } = await enrolledOfficer();
      const code = totpCode(secret, world.clock);
      const first = request.agent(world.app);
      await submitPassword(first, login, password);
      expect((await submitCode(first, code)).headers.location).to.equal("/verify");

      const second = request.agent(world.app);
      await submitPassword(second, login, password);
      expect((await submitCode(second, code)).status, "the same code").to.equal(401);
      expect((await submitCode(second, totpCode(secret, world.clock, -1))).status, "the step before").to.equal(401);
      expect(auditRows(world, "authn_mfa_fail").map((r) => r.outcome)).to.deep.equal(["replayed", "replayed"]);
      expect((await submitCode(second, totpCode(secret, world.clock, 1))).headers.location, "the next step's code").to.equal("/verify");
    });

    it("when a recovery code is used, then it logs in once and never again", async () => {
      const { login, password, recoveryCodes } = await enrolledOfficer();
      const first = request.agent(world.app);
      await submitPassword(first, login, password);
      const res = await submitCode(first, recoveryCodes[3]!.toLowerCase().replace(/-/g, " "));
      expect(res.headers.location).to.equal("/verify");
      expect(auditRows(world, "authn_login_success").at(-1)!.outcome).to.equal("recovery");

      const second = request.agent(world.app);
      await submitPassword(second, login, password);
      expect((await submitCode(second, recoveryCodes[3]!)).status).to.equal(401);
      const page = await (await loginWithRecovery(second, recoveryCodes[4]!)).get("/account/mfa");
      expect(page.text).to.contain("未使用のリカバリーコードは残り8個です。");
    });

    it("when the code comes more than five minutes after the password, then the login starts again", async () => {
      const { login, password, secret } = await enrolledOfficer();
      const agent = request.agent(world.app);
      await submitPassword(agent, login, password);
      const form = await agent.get("/login/mfa");
      world.clock.advance(5 * 60_000 + 1000);
      const res = await agent.post("/login/mfa").type("form").send({ _csrf: csrfTokenOf(form.text), code: totpCode(secret, world.clock) });
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal("/login?again=1");
      expect((await agent.get("/login?again=1")).text).to.contain("確認コードの入力期限（5分）が過ぎました。");
      expect((await agent.get("/login/mfa")).headers.location, "nobody gave a password in this session").to.equal("/login");
    });
  });

  async function loginWithRecovery(agent: ReturnType<typeof request.agent>, code: string) {
    const res = await submitCode(agent, code);
    if (res.headers.location !== "/verify") throw new Error(`recovery code refused: ${res.status}`);
    return agent;
  }

  describe("the policy", () => {
    it("when the orderer requires a second factor, then its officer without one is sent to /account/mfa from every officer page until enrolled", async () => {
      const { login, password } = await givenOfficer(world);
      world.services.orderers.setMfaRequired("022080", true, "test");
      const agent = await loginAs(world.app, login, password);
      for (const path of ["/verify", "/verified", "/contracts", "/notifications"]) {
        const res = await agent.get(path);
        expect(res.status, path).to.equal(303);
        expect(res.headers.location, path).to.equal("/account/mfa");
      }
      const page = await agent.get("/account/mfa");
      expect(page.text).to.contain("2段階認証の登録が必要です。");
      expect((await agent.get("/password")).status, "the password page stays open").to.equal(200);
      await enrol(agent, world.clock);
      expect((await agent.get("/verify")).status).to.equal(200);
    });

    it("when an administrator has no second factor, then requireSecondFactor sends them to /account/mfa (303)", async () => {
      const { login, password } = await givenOfficer(world);
      world.services.officers.setRole(login, "admin", "test");
      const agent = await loginAs(world.app, login, password);
      const res = await agent.get("/verify");
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal("/account/mfa");
    });

    it("when a factor is required, then the officer cannot remove it (400) but may re-enrol; the old factor works until the new one is confirmed", async () => {
      const { login, password, secret } = await enrolledOfficer();
      world.services.orderers.setMfaRequired("022080", true, "test");
      const agent = request.agent(world.app);
      await submitPassword(agent, login, password);
      await submitCode(agent, totpCode(secret, world.clock));
      const page = await agent.get("/account/mfa");
      expect(page.text).not.to.contain("/account/mfa/remove");
      const removed = await agent.post("/account/mfa/remove").type("form").send({ _csrf: csrfTokenOf(page.text) });
      expect(removed.status).to.equal(400);
      expect(removed.text).to.contain("解除できません");
      expect(world.services.officers.findByLogin(login)!.secondFactorEnrolled).to.equal(true);

      expect((await agent.post("/account/mfa/renew").type("form").send({ _csrf: csrfTokenOf(page.text) })).headers.location).to.equal("/account/mfa");
      const renewal = await agent.get("/account/mfa");
      const newSecret = totpSecretOf(renewal.text);
      expect(newSecret).not.to.equal(secret);
      world.clock.advance(30_000);
      const confirmed = await agent.post("/account/mfa").type("form").send({ _csrf: csrfTokenOf(renewal.text), code: totpCode(newSecret, world.clock) });
      expect(confirmed.status).to.equal(200);
      expect(recoveryCodesOf(confirmed.text)).to.have.length(10);
      expect(auditRows(world, "mfa_enrol").map((r) => r.outcome)).to.deep.equal(["enrolled", "re-enrolled"]);

      world.clock.advance(30_000);
      const next = request.agent(world.app);
      await submitPassword(next, login, password);
      expect((await submitCode(next, totpCode(secret, world.clock))).status, "the old phone's code").to.equal(401);
      expect((await submitCode(next, totpCode(newSecret, world.clock))).headers.location).to.equal("/verify");
    });

    it("when a factor is not required, then the officer may remove it, and then logs in with the password alone", async () => {
      const { login, password, secret } = await enrolledOfficer();
      const agent = request.agent(world.app);
      await submitPassword(agent, login, password);
      await submitCode(agent, totpCode(secret, world.clock));
      const res = await postForm(agent, "/account/mfa", "/account/mfa/remove", {});
      expect(res.headers.location).to.equal("/account/mfa");
      expect((await agent.get("/account/mfa")).text).to.contain("2段階認証を解除しました。");
      expect(world.db.prepare("SELECT count(*) AS n FROM recovery_codes").get()).to.deep.equal({ n: 0 });
      expect(auditRows(world, "mfa_remove")).to.have.length(1);
      expect((await submitPassword(request.agent(world.app), login, password)).headers.location).to.equal("/verify");
    });
  });

  describe("step-up", () => {
    it("when an enrolled officer's last proof is older than five minutes, then the enrolment page (which would show a new secret) and its confirmation wait for 本人確認", async () => {
      const { login, password, secret } = await enrolledOfficer();
      const agent = request.agent(world.app);
      await submitPassword(agent, login, password);
      await submitCode(agent, totpCode(secret, world.clock));
      world.clock.advance(6 * 60_000);
      const shown = await agent.get("/account/mfa");
      expect(shown.status).to.equal(303);
      expect(shown.headers.location).to.equal("/account/confirm?next=%2Faccount%2Fmfa");
      const page = await agent.get("/verify");
      const confirmed = await agent.post("/account/mfa").type("form").send({ _csrf: csrfTokenOf(page.text), code: totpCode(secret, world.clock) });
      expect(confirmed.status).to.equal(303);
      expect(confirmed.headers.location).to.equal("/account/confirm?next=%2Faccount%2Fmfa");
      expect(auditRows(world, "mfa_enrol")).to.have.length(1);
    });

    it("when the last proof is older than five minutes, then new recovery codes wait for the confirm page, which takes the password and goes back", async () => {
      const { login, password, secret } = await enrolledOfficer();
      const agent = request.agent(world.app);
      await submitPassword(agent, login, password);
      await submitCode(agent, totpCode(secret, world.clock));
      world.clock.advance(6 * 60_000);
      const page = await agent.get("/verify");
      const refused = await agent.post("/account/mfa/recovery-codes").type("form").send({ _csrf: csrfTokenOf(page.text) });
      expect(refused.status).to.equal(303);
      expect(refused.headers.location).to.equal("/account/confirm?next=%2Faccount%2Fmfa");
      expect(auditRows(world, "mfa_recovery_codes_regenerate")).to.have.length(0);

      const confirm = await agent.get(refused.headers.location!);
      expect(confirm.text).to.contain("本人確認");
      expect(confirm.text).to.contain('name="code"');
      const wrong = await agent.post("/account/confirm").type("form").send({ _csrf: csrfTokenOf(confirm.text), password: "not the password at all", code: "", next: "/account/mfa" });
      expect(wrong.status).to.equal(401);
      expect(wrong.text).to.contain("パスワードが正しくありません。");
      const back = await agent.post("/account/confirm").type("form").send({ _csrf: csrfTokenOf(confirm.text), password, code: "", next: "/account/mfa" });
      expect(back.status).to.equal(303);
      expect(back.headers.location).to.equal("/account/mfa");
      expect(auditRows(world, "authn_reauth_fail").map((r) => r.outcome)).to.deep.equal(["wrong-password"]);
      expect(auditRows(world, "authn_reauth_success").map((r) => r.outcome)).to.deep.equal(["password"]);

      const again = await postForm(agent, "/account/mfa", "/account/mfa/recovery-codes", {});
      expect(again.status).to.equal(200);
      expect(recoveryCodesOf(again.text)).to.have.length(10);
      expect(auditRows(world, "mfa_recovery_codes_regenerate")).to.have.length(1);
    });

    it("when the confirm page gets a code, then it accepts it once; a next parameter to another site leads to /verify instead", async () => {
      const { login, password, secret } = await enrolledOfficer();
      const agent = request.agent(world.app);
      await submitPassword(agent, login, password);
      await submitCode(agent, totpCode(secret, world.clock));
      world.clock.advance(6 * 60_000);
      const confirm = await agent.get("/account/confirm?next=//evil.example/x");
      expect(confirm.text).to.contain('name="next" value="/verify"');
      const code = totpCode(secret, world.clock);
      const res = await agent.post("/account/confirm").type("form").send({ _csrf: csrfTokenOf(confirm.text), password: "", code, next: "https://evil.example/" });
      expect(res.headers.location).to.equal("/verify");
      world.clock.advance(6 * 60_000);
      const replay = await agent.post("/account/confirm").type("form").send({ _csrf: csrfTokenOf(confirm.text), password: "", code, next: "/account/mfa" });
      expect(replay.status).to.equal(401);
    });
  });

  it("when an officer enrols and logs in, then neither the secret nor a recovery code is in the database file, the audit trail or the log", async () => {
    const { login, password, secret, recoveryCodes } = await enrolledOfficer();
    const agent = request.agent(world.app);
    await submitPassword(agent, login, password);
    await submitCode(agent, recoveryCodes[0]!);
    world.db.pragma("wal_checkpoint(TRUNCATE)");
    const files = [world.databasePath, `${world.databasePath}-wal`].filter(existsSync).map((f) => readFileSync(f));
    const needles = [secret, ...recoveryCodes, ...recoveryCodes.map((c) => c.replace(/-/g, ""))];
    for (const bytes of files) {
      for (const needle of needles) expect(bytes.includes(Buffer.from(needle)), needle).to.equal(false);
    }
    const trail = JSON.stringify(world.db.prepare("SELECT * FROM audit_events").all());
    const logs = world.logs.join("\n");
    for (const needle of needles) {
      expect(trail).not.to.contain(needle);
      expect(logs).not.to.contain(needle);
    }
  });
});
