import { expect } from "chai";
import request from "supertest";
import { outranks } from "../../src/officers/officer-administration.service.js";
import { loginAsAdministrator } from "../support/administrator.js";
import { enrol, submitPassword, totpCode } from "../support/mfa.js";
import { givenOfficer } from "../support/given.js";
import { buildTestApp, csrfTokenOf, loginAs, postForm, type WebWorld } from "../support/web.js";

type Agent = ReturnType<typeof request.agent>;

const auditRows = (world: WebWorld, event: string) =>
  world.db.prepare("SELECT event, outcome, actor_kind, actor, officer_id, orderer_code, detail FROM audit_events WHERE event = ? ORDER BY id").all(event) as Array<Record<string, unknown>>;
const auditCount = (world: WebWorld) => (world.db.prepare("SELECT count(*) AS n FROM audit_events").get() as { n: number }).n;

/** Every /admin route, as [method, path, fields], acting on `login`. */
const adminRoutes = (login: string): [string, string, Record<string, string>][] => [
  ["get", "/admin/officers", {}],
  ["post", "/admin/officers", { login: "someone-new", displayName: "新規 職員", email: "" }],
  ["post", `/admin/officers/${login}/disable`, {}],
  ["post", `/admin/officers/${login}/enable`, {}],
  ["post", `/admin/officers/${login}/reset-password`, {}],
  ["post", `/admin/officers/${login}/revoke-sessions`, {}],
  ["post", `/admin/officers/${login}/role`, { role: "admin" }],
  ["post", `/admin/officers/${login}/invitation`, {}],
  ["post", `/admin/officers/${login}/reset-second-factor`, {}],
  ["post", `/admin/officers/${login}/invitation/withdraw`, {}],
  ["post", `/admin/officers/${login}/sso-unlink`, {}],
  ["get", "/admin/audit", {}],
];

const act = (agent: Agent, login: string, action: string, fields: Record<string, string> = {}) =>
  postForm(agent, "/admin/officers", `/admin/officers/${login}/${action}`, fields);

/** The page with its per-request parts (CSRF token, request id) taken out, to compare two 404s. */
const stable = (html: string) => html.replace(/name="_csrf" value="[^"]+"/g, "").replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "");

describe("orderer administrators: /admin/officers", () => {
  let world: WebWorld;
  beforeEach(async () => { world = await buildTestApp(); });
  afterEach(() => world.close());

  it("when an officer who is not an administrator asks for any /admin page, then the same 404 as an unknown page comes back and the header has no 職員の管理 link", async () => {
    const { login, password } = await givenOfficer(world, { login: "mutsu-ippan" });
    await givenOfficer(world, { login: "mutsu-other" });
    const agent = await loginAs(world.app, login, password);
    const verify = await agent.get("/verify");
    expect(verify.text).not.to.contain("職員の管理");
    const unknown = await agent.get("/no-such-page");
    expect(unknown.status).to.equal(404);
    const before = auditCount(world);
    for (const [method, path, fields] of adminRoutes("mutsu-other")) {
      const res = method === "get" ? await agent.get(path) : await agent.post(path).type("form").send({ _csrf: csrfTokenOf(verify.text), ...fields });
      expect(res.status, path).to.equal(404);
      expect(stable(res.text), path).to.equal(stable(unknown.text));
    }
    expect(world.services.officers.findByLogin("mutsu-other")!.active).to.equal(true);
    expect(world.services.officers.findByLogin("someone-new")).to.equal(undefined);
    expect(auditCount(world)).to.equal(before);
  });

  it("when an administrator opens the list, then the header links to it and it shows the orderer's officers with role, state and last login, and no other orderer's", async () => {
    const { agent } = await loginAsAdministrator(world);
    await givenOfficer(world, { login: "mutsu-new", mustChange: true });
    await givenOfficer(world, { login: "mutsu-gone" });
    world.services.officers.setActive("mutsu-gone", false, "test");
    await givenOfficer(world, { login: "aomori-tanaka", orderer: "022012" });
    const page = await agent.get("/admin/officers");
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('href="/admin/officers" data-admin-link>職員の管理');
    const row = (login: string) => new RegExp(`data-officer="${login}"[\\s\\S]*?</tr>`).exec(page.text)?.[0] ?? "";
    expect(row("mutsu-kanri")).to.contain("所属管理者").and.to.contain("有効").and.to.contain("令和8年11月25日 10:00");
    expect(row("mutsu-new")).to.contain("職員").and.to.contain("初回パスワード未変更").and.to.contain("なし");
    expect(row("mutsu-gone")).to.contain("停止");
    expect(page.text).not.to.contain("aomori-tanaka");
  });

  it("when an administrator adds an officer, then the one-time password is shown once, works at login (which demands a change) and the addition is audited as theirs", async () => {
    const { agent } = await loginAsAdministrator(world);
    const res = await postForm(agent, "/admin/officers", "/admin/officers", { login: "Mutsu-Sato", displayName: "佐藤 花子", email: "" });
    expect(res.status).to.equal(200);
    expect(res.headers["cache-control"]).to.equal("no-store");
    expect(res.text).to.contain("対面または電話");
    const password = /data-one-time-password>([^<]+)</.exec(res.text)![1]!;
    const added = world.services.officers.findByLogin("mutsu-sato")!;
    expect(added).to.include({ ordererCode: "022080", role: "officer", active: true, mustChangePassword: true, displayName: "佐藤 花子" });
    expect(added.passwordHash).not.to.contain(password);
    const officer = request.agent(world.app);
    const form = await officer.get("/login");
    const login = await officer.post("/login").type("form").send({ _csrf: csrfTokenOf(form.text), username: "mutsu-sato", password });
    expect(login.headers.location).to.equal("/password");
    const [row] = auditRows(world, "officer_add").filter((r) => r.actor === "mutsu-kanri");
    expect(row).to.include({ actor_kind: "officer", orderer_code: "022080", officer_id: added.id, outcome: "ok" });
    expect(JSON.stringify(world.db.prepare("SELECT * FROM audit_events").all())).not.to.contain(password);
    expect(world.logs.join("\n")).not.to.contain(password);
  });

  it("when the new officer's fields are bad or the login is taken, then the form comes back (400) naming the field, with nothing added", async () => {
    const { agent } = await loginAsAdministrator(world);
    await givenOfficer(world, { login: "mutsu-taken", orderer: "022012" });
    const before = auditCount(world);
    const bad = await postForm(agent, "/admin/officers", "/admin/officers", { login: "x", displayName: "", email: "" });
    expect(bad.status).to.equal(400);
    expect(bad.text).to.contain('href="#login"').and.to.contain("ログインIDは3〜64文字").and.to.contain('href="#displayName"').and.to.contain("氏名は1〜100文字");
    const taken = await postForm(agent, "/admin/officers", "/admin/officers", { login: "mutsu-taken", displayName: "佐藤 花子", email: "" });
    expect(taken.status).to.equal(400);
    expect(taken.text).to.contain("ログインID「mutsu-taken」は既に使われています。").and.to.contain('value="佐藤 花子"');
    expect(world.services.officers.list("022080").map((o) => o.login)).to.deep.equal(["mutsu-kanri"]);
    expect(auditCount(world)).to.equal(before);
  });

  it("when an administrator disables and enables an officer, then the officer's session ends, login is refused, then works again; both audited with who did it", async () => {
    const { agent } = await loginAsAdministrator(world);
    const { login, password, officer } = await givenOfficer(world, { login: "mutsu-sato" });
    const officerAgent = await loginAs(world.app, login, password);
    const disabled = await act(agent, login, "disable");
    expect(disabled.status).to.equal(303);
    expect((await agent.get("/admin/officers")).text).to.contain("田中 一郎（mutsu-sato）さんを停止しました。");
    expect((await officerAgent.get("/verify")).headers.location).to.equal("/login");
    expect(world.services.officers.findByLogin(login)!.active).to.equal(false);
    expect(await act(agent, login, "enable")).to.have.property("status", 303);
    await loginAs(world.app, login, password);
    for (const event of ["officer_disable", "officer_enable"]) {
      expect(auditRows(world, event)).to.deep.equal([{
        event, outcome: "ok", actor_kind: "officer", actor: "mutsu-kanri", officer_id: officer.id, orderer_code: "022080", detail: JSON.stringify({ login }),
      }]);
    }
  });

  it("when an administrator resets a password, then a new one-time password is shown once, the old one and the officer's sessions stop working", async () => {
    const { agent } = await loginAsAdministrator(world);
    const { login, password } = await givenOfficer(world, { login: "mutsu-sato" });
    const officerAgent = await loginAs(world.app, login, password);
    const res = await act(agent, login, "reset-password");
    expect(res.status).to.equal(200);
    expect(res.text).to.contain("パスワードを再発行しました").and.to.contain("ログイン中のセッションはすべて終了しました");
    const fresh = /data-one-time-password>([^<]+)</.exec(res.text)![1]!;
    expect((await officerAgent.get("/verify")).headers.location).to.equal("/login");
    const again = request.agent(world.app);
    const form = await again.get("/login");
    expect((await again.post("/login").type("form").send({ _csrf: csrfTokenOf(form.text), username: login, password })).status).to.equal(401);
    await loginAs(world.app, login, fresh);
    expect(auditRows(world, "officer_password_reset").map((r) => [r.actor_kind, r.actor])).to.deep.equal([["officer", "mutsu-kanri"]]);
  });

  it("when an administrator ends an officer's sessions, then the officer is logged out and the count is said and audited", async () => {
    const { agent } = await loginAsAdministrator(world);
    const { login, password } = await givenOfficer(world, { login: "mutsu-sato" });
    const officerAgent = await loginAs(world.app, login, password);
    expect(await act(agent, login, "revoke-sessions")).to.have.property("status", 303);
    expect((await agent.get("/admin/officers")).text).to.contain("セッションを1件終了しました");
    expect((await officerAgent.get("/verify")).headers.location).to.equal("/login");
    expect(auditRows(world, "officer_sessions_revoke")).to.have.length(1).and.to.have.nested.property("[0].outcome", "1 ended");
  });

  it("when an administrator makes an officer an administrator and unmakes them, then the role changes each time, audited as theirs; a bad role is refused", async () => {
    const { agent } = await loginAsAdministrator(world);
    const { login } = await givenOfficer(world, { login: "mutsu-sato" });
    expect(await act(agent, login, "role", { role: "admin" })).to.have.property("status", 303);
    expect(world.services.officers.findByLogin(login)!.role).to.equal("admin");
    expect(await act(agent, login, "role", { role: "officer" })).to.have.property("status", 303);
    expect(world.services.officers.findByLogin(login)!.role).to.equal("officer");
    const bad = await act(agent, login, "role", { role: "root" });
    expect(bad.status).to.equal(400);
    expect(bad.text).to.contain("役割は「職員」か「所属管理者」を選んでください。");
    expect(auditRows(world, "officer_role_change").filter((r) => r.actor === "mutsu-kanri").map((r) => [r.actor_kind, r.outcome])).to.deep.equal([["officer", "admin"], ["officer", "officer"]]);
  });

  it("when an administrator would disable or unmake themselves or reset their own password, then it is refused (400) and nothing changes: the orderer keeps its administrator", async () => {
    const { agent, login } = await loginAsAdministrator(world);
    const before = auditCount(world);
    const disabled = await act(agent, login, "disable");
    expect(disabled.status).to.equal(400);
    expect(disabled.text).to.contain("自分自身を停止することはできません。");
    const unmade = await act(agent, login, "role", { role: "officer" });
    expect(unmade.status).to.equal(400);
    expect(unmade.text).to.contain("自分自身の所属管理者の役割は外せません。");
    expect((await act(agent, login, "reset-password")).status).to.equal(400);
    expect(world.services.officers.findByLogin(login)).to.include({ active: true, role: "admin" });
    expect(auditCount(world)).to.equal(before);
  });

  it("when two administrators remain and one unmakes the other, then the last one cannot be unmade, by themselves or through the shared rule", async () => {
    const { agent } = await loginAsAdministrator(world);
    const second = await loginAsAdministrator(world, { login: "mutsu-kanri2" });
    expect(await act(second.agent, "mutsu-kanri", "role", { role: "officer" })).to.have.property("status", 303);
    const refused = await act(agent, "mutsu-kanri", "role", { role: "admin" });
    // mutsu-kanri is an officer now: /admin is gone for them.
    expect(refused.status).to.equal(404);
    expect(world.services.officers.setRole("mutsu-kanri2", "officer", "test").ok).to.equal(false);
    expect((await act(second.agent, "mutsu-kanri2", "role", { role: "officer" })).status).to.equal(400);
    expect(world.repositories.officers.countActiveAdmins(second.officer.ordererId)).to.equal(1);
  });

  it("when roles are ranked, then an administrator outranks an officer and nobody outranks their own rank", () => {
    expect(outranks("admin", "officer")).to.equal(true);
    expect(outranks("admin", "admin")).to.equal(false);
    expect(outranks("officer", "admin")).to.equal(false);
  });

  it("when an administrator of one orderer tries every /admin route on another orderer's officer, then each is the same 404 as an unknown login, nothing changes and nothing is audited", async () => {
    const { agent } = await loginAsAdministrator(world);
    const other = await givenOfficer(world, { login: "aomori-sato", orderer: "022012" });
    world.services.officers.setRole("aomori-sato", "admin", "test");
    const otherAgent = await loginAs(world.app, other.login, other.password);
    const before = auditCount(world);
    const stateOf = () => {
      const o = world.services.officers.findByLogin("aomori-sato")!;
      return { active: o.active, role: o.role, hash: o.passwordHash, mustChange: o.mustChangePassword };
    };
    const state = stateOf();
    for (const action of ["disable", "enable", "reset-password", "reset-second-factor", "revoke-sessions", "role", "invitation", "invitation/withdraw", "sso-unlink"]) {
      const fields: Record<string, string> = action === "role" ? { role: "officer" } : {};
      const foreign = await act(agent, "aomori-sato", action, fields);
      const unknown = await act(agent, "nobody-at-all", action, fields);
      expect(foreign.status, action).to.equal(404);
      expect(stable(foreign.text), action).to.equal(stable(unknown.text));
      expect(foreign.text).not.to.contain("aomori-sato");
    }
    expect(stateOf()).to.deep.equal(state);
    expect(auditCount(world)).to.equal(before);
    // Still logged in (an administrator without a second factor may reach only its enrolment).
    expect((await otherAgent.get("/account/mfa")).status).to.equal(200);
    const list = await agent.get("/admin/officers");
    expect(list.text).not.to.contain("aomori-sato");
    const audit = await agent.get("/admin/audit?officer=aomori-sato");
    expect(audit.status).to.equal(400);
    expect(audit.text).to.contain('href="#officer"');
    expect((await agent.get("/admin/audit")).text).not.to.contain("aomori-sato");
  });

  describe("with the second factor and step-up", () => {
    it("when an administrator has not enrolled a second factor, then every /admin page sends them to /account/mfa (303) first", async () => {
      const { login, password } = await givenOfficer(world, { login: "mutsu-kanri" });
      world.services.officers.setRole(login, "admin", "test");
      const agent = await loginAs(world.app, login, password);
      for (const path of ["/admin/officers", "/admin/audit"]) {
        const res = await agent.get(path);
        expect(res.status, path).to.equal(303);
        expect(res.headers.location, path).to.equal("/account/mfa");
      }
      await enrol(agent, world.clock);
      expect((await agent.get("/admin/officers")).status).to.equal(200);
    });

    it("when the administrator's last proof is older than five minutes, then an action waits for 本人確認 and changes nothing until the code is given", async () => {
      const administrator = await loginAsAdministrator(world);
      await givenOfficer(world, { login: "mutsu-sato" });
      world.clock.advance(6 * 60_000);
      const refused = await act(administrator.agent, "mutsu-sato", "disable");
      expect(refused.status).to.equal(303);
      expect(refused.headers.location).to.equal("/account/confirm?next=%2Fadmin%2Fofficers");
      expect(world.services.officers.findByLogin("mutsu-sato")!.active).to.equal(true);
      expect(auditRows(world, "officer_disable")).to.have.length(0);

      const confirm = await administrator.agent.get(refused.headers.location!);
      const back = await administrator.agent.post("/account/confirm").type("form")
        .send({ _csrf: csrfTokenOf(confirm.text), password: "", code: totpCode(administrator.totpSecret, world.clock, 1), next: "/admin/officers" });
      expect(back.status).to.equal(303);
      expect(back.headers.location).to.equal("/admin/officers");
      expect((await act(administrator.agent, "mutsu-sato", "disable")).status).to.equal(303);
      expect(world.services.officers.findByLogin("mutsu-sato")!.active).to.equal(false);
    });

    it("when an administrator resets an officer's lost second factor, then it is gone, the officer's sessions end, the row names the administrator, and the officer enrols again after the password", async () => {
      const administrator = await loginAsAdministrator(world);
      const sato = await givenOfficer(world, { login: "mutsu-sato" });
      const satoAgent = await loginAs(world.app, sato.login, sato.password);
      await enrol(satoAgent, world.clock);
      expect((await administrator.agent.get("/admin/officers")).text).to.match(/data-officer="mutsu-sato"[\s\S]*?data-second-factor>登録済み/);

      const reset = await act(administrator.agent, "mutsu-sato", "reset-second-factor");
      expect(reset.status).to.equal(303);
      expect(world.services.officers.findByLogin("mutsu-sato")!.secondFactorEnrolled).to.equal(false);
      expect((await satoAgent.get("/verify")).status, "the officer's session ended").to.equal(303);
      const [row] = auditRows(world, "mfa_reset");
      expect(row).to.include({ actor_kind: "officer", actor: "mutsu-kanri", officer_id: world.services.officers.findByLogin("mutsu-sato")!.id, orderer_code: "022080" });
      expect(JSON.parse(row!.detail as string)).to.include({ login: "mutsu-sato", byOfficerId: administrator.officer.id });
      const again = request.agent(world.app);
      expect((await submitPassword(again, sato.login, sato.password)).headers.location, "the password alone logs in again").to.equal("/verify");

      const own = await act(administrator.agent, "mutsu-kanri", "reset-second-factor");
      expect(own.status).to.equal(400);
      expect(own.text).to.contain("自分の2段階認証は「2段階認証」の画面から再登録してください。");
      const none = await act(administrator.agent, "mutsu-sato", "reset-second-factor");
      expect(none.status).to.equal(400);
      expect(none.text).to.contain("2段階認証を登録していません");
    });
  });

  it("when an officer's identity provider account was recreated, then an administrator unties them (audited as the administrator) and the button goes", async () => {
    const administrator = await loginAsAdministrator(world);
    await givenOfficer(world, { login: "sato@city.mutsu.lg.jp" });
    const configured = world.services.ssoSettings.configure("022080", { issuer: "http://127.0.0.1:9/realms/staff", clientId: "kakunin", clientSecret: "kakunin-client-secret-0123456789" }, "test");
    expect(configured.ok).to.equal(true);
    const sato = world.services.officers.findByLogin("sato@city.mutsu.lg.jp")!;
    world.repositories.sso.linkSubject({ officerId: sato.id, ordererId: sato.ordererId, issuer: "http://127.0.0.1:9/realms/staff", subject: "old-subject", now: "2026-04-01T00:00:00Z" });
    const login = encodeURIComponent(sato.login);
    expect((await administrator.agent.get("/admin/officers")).text).to.contain(`action="/admin/officers/${login}/sso-unlink"`);

    const unlinked = await postForm(administrator.agent, "/admin/officers", `/admin/officers/${login}/sso-unlink`, {});
    expect(unlinked.status).to.equal(303);
    expect(world.repositories.sso.findSubject(sato.id)).to.equal(undefined);
    expect(auditRows(world, "officer_sso_unlink")).to.deep.include.members([
      { event: "officer_sso_unlink", outcome: "ok", actor_kind: "officer", actor: "mutsu-kanri", officer_id: sato.id, orderer_code: "022080", detail: JSON.stringify({ login: sato.login, subject: "old-subject" }) },
    ]);
    const list = await administrator.agent.get("/admin/officers");
    expect(list.text).to.contain("連携を解除しました").and.not.to.contain(`action="/admin/officers/${login}/sso-unlink"`);
    const again = await postForm(administrator.agent, "/admin/officers", `/admin/officers/${login}/sso-unlink`, {});
    expect(again.status).to.equal(400);
    expect(again.text).to.contain("連携していません");
  });
});
