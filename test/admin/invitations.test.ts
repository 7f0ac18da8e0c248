import { expect } from "chai";
import { createHash } from "node:crypto";
import request from "supertest";
import { logInAgainAsAdministrator, loginAsAdministrator } from "../support/administrator.js";
import { startSmtpServer, type SmtpTestServer } from "../notifications/support.js";
import { buildTestApp, csrfTokenOf, loginAs, postForm, type WebWorld } from "../support/web.js";

const NEW_PASSWORD = "sato hanako sets a long passphrase";

/** The link of the last mail received, as path and token. */
function linkOf(smtp: SmtpTestServer): { path: string; token: string } {
  const text = smtp.received.at(-1)!.parsed.text!;
  const match = /http:\/\/localhost:3000(\/invitations\/([A-Za-z0-9_-]+))/.exec(text);
  if (!match) throw new Error(`no link in: ${text}`);
  return { path: match[1]!, token: match[2]! };
}

/** GET the link, then POST the two fields (with the login page's CSRF token once the link shows no form). */
async function setPassword(path: string, password = NEW_PASSWORD, confirm = password) {
  const agent = request.agent(world.app);
  const form = await agent.get(path);
  const page = form.status === 200 ? form : await agent.get("/login");
  return { form, res: await agent.post(path).type("form").send({ _csrf: csrfTokenOf(page.text), newPassword: password, confirmPassword: confirm }) };
}

let world: WebWorld;

describe("orderer administrators: invitations by mail", () => {
  let smtp: SmtpTestServer;
  beforeEach(async () => {
    smtp = await startSmtpServer();
    world = await buildTestApp({ env: { SMTP_URL: smtp.url, MAIL_FROM: "Kakunin <noreply@kakunin.example.jp>" } });
  });
  afterEach(async () => {
    world.close();
    await smtp.close();
  });

  const invite = async (agent: ReturnType<typeof request.agent>, email = "sato@city.mutsu.lg.jp") =>
    postForm(agent, "/admin/officers", "/admin/officers", { login: "mutsu-sato", displayName: "佐藤 花子", email });

  it("when the orderer has no mailbox, then the form offers no invitation and an address is refused (400) with nothing added", async () => {
    const { agent } = await loginAsAdministrator(world);
    const page = await agent.get("/admin/officers");
    expect(page.text).not.to.contain('name="email"');
    const res = await invite(agent);
    expect(res.status).to.equal(400);
    expect(res.text).to.contain('href="#email"').and.to.contain("招待メールは送れません");
    expect(world.services.officers.findByLogin("mutsu-sato")).to.equal(undefined);
    expect(smtp.received).to.have.length(0);
  });

  it("when an administrator invites an officer, then a mail with a single-use link goes to the address, the officer cannot log in until they set a password through it, and the link then works no more", async () => {
    const { agent } = await loginAsAdministrator(world);
    world.services.mail.addMailbox("022080", "keiyaku@city.mutsu.lg.jp", "test");
    expect((await agent.get("/admin/officers")).text).to.contain("city.mutsu.lg.jp");
    const res = await invite(agent);
    expect(res.status).to.equal(303);
    expect((await agent.get("/admin/officers")).text).to.contain("招待メールを送りました（sato@city.mutsu.lg.jp）").and.to.match(/data-officer="mutsu-sato"[\s\S]*?招待中/);
    expect(smtp.received).to.have.length(1);
    expect(smtp.received[0]!.envelopeTo).to.deep.equal(["sato@city.mutsu.lg.jp"]);
    expect(smtp.received[0]!.parsed.subject).to.contain("パスワードの設定");
    const { path, token } = linkOf(smtp);

    const invited = world.services.officers.findByLogin("mutsu-sato")!;
    expect(invited).to.include({ active: false, ordererCode: "022080" });
    // The token is only in the mail: the database holds its hash, the log a placeholder.
    const dump = JSON.stringify([world.db.prepare("SELECT * FROM officer_invitations").all(), world.db.prepare("SELECT * FROM audit_events").all(), world.db.prepare("SELECT * FROM outbox").all()]);
    expect(dump).not.to.contain(token);
    expect(dump).to.contain(createHash("sha256").update(token).digest("hex"));
    const refused = request.agent(world.app);
    const login = await refused.get("/login");
    expect((await refused.post("/login").type("form").send({ _csrf: csrfTokenOf(login.text), username: "mutsu-sato", password: NEW_PASSWORD })).status).to.equal(401);

    const mismatch = await setPassword(path, NEW_PASSWORD, "something else entirely here");
    expect(mismatch.form.headers["referrer-policy"]).to.equal("no-referrer");
    expect(mismatch.form.headers["cache-control"]).to.equal("no-store");
    expect(mismatch.form.text).to.contain("mutsu-sato").and.to.contain("15文字以上");
    expect(mismatch.res.status).to.equal(400);
    const weak = await setPassword(path, "short");
    expect(weak.res.status).to.equal(400);
    expect(weak.res.text).to.contain("パスワードは15文字以上にしてください。");

    const done = await setPassword(path);
    expect(done.res.status).to.equal(200);
    expect(done.res.text).to.contain("パスワードを設定しました");
    await loginAs(world.app, "mutsu-sato", NEW_PASSWORD);
    expect(world.services.officers.findByLogin("mutsu-sato")).to.include({ active: true, mustChangePassword: false });

    const again = await request(world.app).get(path);
    expect(again.status).to.equal(404);
    expect(again.text).to.contain("このリンクは使えません");
    expect((await setPassword(path, "another long passphrase for sato")).res.status).to.equal(404);
    expect(world.logs.join("\n")).not.to.contain(token);
    expect(world.db.prepare("SELECT event, actor_kind, actor FROM audit_events WHERE event IN ('officer_invite', 'officer_invitation_accept') ORDER BY id").all()).to.deep.equal([
      { event: "officer_invite", actor_kind: "officer", actor: "mutsu-kanri" },
      { event: "officer_invitation_accept", actor_kind: "officer", actor: "mutsu-sato" },
    ]);
  });

  it("when 72 hours have passed, then the link has expired and sets nothing", async () => {
    const administrator = await loginAsAdministrator(world);
    world.services.mail.addMailbox("022080", "keiyaku@city.mutsu.lg.jp", "test");
    await invite(administrator.agent);
    const { path } = linkOf(smtp);
    world.clock.advance(72 * 60 * 60 * 1000 - 60_000);
    expect((await request(world.app).get(path)).status).to.equal(200);
    world.clock.advance(60_000);
    const expired = await request(world.app).get(path);
    expect(expired.status).to.equal(404);
    expect(expired.text).to.contain("有効期限（72時間）が切れています");
    expect((await setPassword(path)).res.status).to.equal(404);
    expect(world.services.officers.findByLogin("mutsu-sato")!.active).to.equal(false);
    const agent = await logInAgainAsAdministrator(world, administrator);
    expect((await agent.get("/admin/officers")).text).to.contain("招待中（期限切れ）");

    // A new link to the same address, valid 72 hours from now; the old one stays dead.
    const resent = await postForm(agent, "/admin/officers", "/admin/officers/mutsu-sato/invitation", {});
    expect(resent.status).to.equal(303);
    expect(smtp.received).to.have.length(2);
    expect(smtp.received[1]!.envelopeTo).to.deep.equal(["sato@city.mutsu.lg.jp"]);
    const fresh = linkOf(smtp);
    expect(fresh.path).not.to.equal(path);
    expect((await setPassword(path)).res.status).to.equal(404);
    expect((await setPassword(fresh.path)).res.status).to.equal(200);
    expect(world.services.officers.findByLogin("mutsu-sato")!.active).to.equal(true);
    expect(world.db.prepare("SELECT outcome FROM audit_events WHERE event = 'officer_invite' ORDER BY id").all()).to.deep.equal([{ outcome: "sent" }, { outcome: "resent" }]);
    expect((await postForm(agent, "/admin/officers", "/admin/officers/mutsu-sato/invitation", {})).status).to.equal(400);
  });

  it("when the address is outside the orderer's mailbox domains, then it is refused (400) naming the field, and nothing is mailed or added", async () => {
    const { agent } = await loginAsAdministrator(world);
    world.services.mail.addMailbox("022080", "keiyaku@city.mutsu.lg.jp", "test");
    for (const email of ["sato@gmail.com", "sato@evil.city.mutsu.lg.jp.example", "not an address"]) {
      const res = await invite(agent, email);
      expect(res.status, email).to.equal(400);
      expect(res.text).to.contain('href="#email"');
    }
    expect(smtp.received).to.have.length(0);
    expect(world.services.officers.findByLogin("mutsu-sato")).to.equal(undefined);
  });

  it("when the relay refuses the mail, then the administrator is told and nothing is added", async () => {
    const { agent } = await loginAsAdministrator(world);
    world.services.mail.addMailbox("022080", "keiyaku@city.mutsu.lg.jp", "test");
    smtp.setMode("tempfail");
    const res = await invite(agent);
    expect(res.status).to.equal(400);
    expect(res.text).to.contain("招待メールを送信できませんでした");
    expect(world.services.officers.findByLogin("mutsu-sato")).to.equal(undefined);
    expect(world.db.prepare("SELECT count(*) AS n FROM officer_invitations").get()).to.deep.equal({ n: 0 });
  });

  it("when an invited officer's link is unknown or malformed, then the same 404 comes back", async () => {
    for (const token of ["A".repeat(43), "short", "x".repeat(300)]) {
      const res = await request(world.app).get(`/invitations/${token}`);
      expect(res.status, token).to.equal(404);
    }
  });

  it("when an administrator would enable an invited officer or reset their password, then it is refused: only the link enables the account", async () => {
    const { agent } = await loginAsAdministrator(world);
    world.services.mail.addMailbox("022080", "keiyaku@city.mutsu.lg.jp", "test");
    await invite(agent);
    expect((await postForm(agent, "/admin/officers", "/admin/officers/mutsu-sato/enable", {})).status).to.equal(400);
    expect((await postForm(agent, "/admin/officers", "/admin/officers/mutsu-sato/reset-password", {})).status).to.equal(400);
    expect(world.services.officers.findByLogin("mutsu-sato")!.active).to.equal(false);
  });

  it("when an administrator withdraws an invitation, then its link stops working, the account stays disabled, and the withdrawal is audited", async () => {
    const { agent } = await loginAsAdministrator(world);
    world.services.mail.addMailbox("022080", "keiyaku@city.mutsu.lg.jp", "test");
    await invite(agent);
    const { path } = linkOf(smtp);
    const withdrawn = await postForm(agent, "/admin/officers", "/admin/officers/mutsu-sato/invitation/withdraw", {});
    expect(withdrawn.status).to.equal(303);
    expect((await request(world.app).get(path)).status).to.equal(404);
    expect((await setPassword(path)).res.status).to.equal(404);
    expect(world.services.officers.findByLogin("mutsu-sato")!.active).to.equal(false);
    expect(world.db.prepare("SELECT actor FROM audit_events WHERE event = 'officer_invitation_withdraw'").all()).to.deep.equal([{ actor: "mutsu-kanri" }]);
    const again = await postForm(agent, "/admin/officers", "/admin/officers/mutsu-sato/invitation/withdraw", {});
    expect(again.status).to.equal(400);
    expect(again.text).to.contain("この職員への招待はありません。");
  });

  it("when a set-password form is refused (its session ran out, a forged origin), then the log names the path without the token", async () => {
    const { agent } = await loginAsAdministrator(world);
    world.services.mail.addMailbox("022080", "keiyaku@city.mutsu.lg.jp", "test");
    await invite(agent);
    const { path, token } = linkOf(smtp);
    const stale = await request(world.app).post(path).type("form").send({ _csrf: "a-token-of-a-session-long-gone", newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
    expect(stale.status).to.equal(403);
    const forged = await request(world.app).post(path).set("Origin", "https://evil.example").type("form").send({ newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
    expect(forged.status).to.equal(403);
    expect(world.logs.join("\n")).to.contain("/invitations/…").and.not.to.contain(token);
  });

  it("when an officer's invitation is pending, then neither 有効にする nor パスワード再発行 can open the account: only the link can", async () => {
    const { agent } = await loginAsAdministrator(world);
    world.services.mail.addMailbox("022080", "keiyaku@city.mutsu.lg.jp", "test");
    await invite(agent);
    const enabled = await postForm(agent, "/admin/officers", "/admin/officers/mutsu-sato/enable", {});
    expect(enabled.status).to.equal(400);
    expect(enabled.text).to.contain("招待中の職員は、招待メールのリンクからパスワードを設定すると有効になります。");
    const reset = await postForm(agent, "/admin/officers", "/admin/officers/mutsu-sato/reset-password", {});
    expect(reset.status).to.equal(400);
    expect(reset.text).to.contain("招待中の職員のパスワードは、招待メールのリンクから設定されます。").and.not.to.contain("data-one-time-password");
    expect(world.services.officers.findByLogin("mutsu-sato")!.active).to.equal(false);
  });
});
