import { expect } from "chai";
import request from "supertest";
import { givenGuarantees, givenOfficer, sampleCertificate } from "../support/given.js";
import { buildTestApp, csrfTokenOf, loginAs, type WebWorld } from "../support/web.js";
import { textOf } from "../web/guarantees.helpers.js";
import { contractForm } from "../contracts/fixtures.js";
import { actorOf, verifyAs } from "../contracts/support.js";

describe("notifications: the notices pages (/notifications)", () => {
  let world: WebWorld;
  beforeEach(async () => { world = await buildTestApp(); });
  afterEach(() => world.close());

  /** Two officers of むつ市 holding the sample; it is then amended and cancelled (two notices). */
  async function givenTwoNotices() {
    const tanaka = await givenOfficer(world);
    const sato = await givenOfficer(world, { login: "mutsu-sato", password: "another officer password 9" });
    const [issued] = await givenGuarantees(world, [sampleCertificate()]);
    await verifyAs(world, tanaka.officer, issued!);
    world.services.guarantees.change(issued!.contractNumber, "amendment", { guaranteeAmount: 25000000 }, "test");
    world.services.guarantees.cancel(issued!.contractNumber, "契約解除のため", "test");
    return { tanaka, sato, issued: issued! };
  }

  const unreadCountOf = (html: string) => /data-unread-count>(\d+)</.exec(html)?.[1];

  it("when two notices were recorded, then every page's header shows 2 unread and the list shows them newest first with the change", async () => {
    const { tanaka, issued } = await givenTwoNotices();
    const agent = await loginAs(world.app, tanaka.login, tanaka.password);
    expect(unreadCountOf((await agent.get("/verify")).text)).to.equal("2");
    const page = await agent.get("/notifications");
    expect(page.status).to.equal(200);
    expect(unreadCountOf(page.text)).to.equal("2");
    const text = textOf(page.text);
    const cancelled = text.indexOf(`${issued.contractNumber} の保証が取消されました`);
    const amended = text.indexOf(`${issued.contractNumber} 変更-1 が登録されました`);
    expect(cancelled).to.be.greaterThan(-1);
    expect(amended).to.be.greaterThan(cancelled);
    expect(text).to.include("保証金額: 20,000,000 円 → 25,000,000 円");
    expect(page.text.match(/data-unread(?!-)/g)).to.have.length(2);
  });

  it("when an officer opens a notice, then it leads to the guarantee and is read for that officer only", async () => {
    const { tanaka, sato, issued } = await givenTwoNotices();
    const agent = await loginAs(world.app, tanaka.login, tanaka.password);
    const page = await agent.get("/notifications");
    const first = /href="(\/notifications\/\d+)"/.exec(page.text)![1]!;
    const opened = await agent.get(first);
    expect(opened.status).to.equal(303);
    expect(opened.headers.location).to.equal(`/guarantees/${issued.contractNumber}`);
    expect((await agent.get(opened.headers.location!)).status).to.equal(200);
    expect(unreadCountOf((await agent.get("/notifications")).text)).to.equal("1");
    const colleague = await loginAs(world.app, sato.login, sato.password);
    expect(unreadCountOf((await colleague.get("/verify")).text), "the colleague has read nothing").to.equal("2");
  });

  it("when the officer reads a notice in another browser, then the header of this one follows at its next page", async () => {
    const { tanaka } = await givenTwoNotices();
    const here = await loginAs(world.app, tanaka.login, tanaka.password);
    const there = await loginAs(world.app, tanaka.login, tanaka.password);
    expect(unreadCountOf((await here.get("/verify")).text)).to.equal("2");
    const first = /href="(\/notifications\/\d+)"/.exec((await there.get("/notifications")).text)![1]!;
    expect((await there.get(first)).status).to.equal(303);
    expect(unreadCountOf((await here.get("/verify")).text), "one opened elsewhere").to.equal("1");
    const token = csrfTokenOf((await there.get("/notifications")).text);
    expect((await there.post("/notifications/read").type("form").send({ _csrf: token })).status).to.equal(303);
    expect(unreadCountOf((await here.get("/verify")).text), "all marked read elsewhere").to.equal(undefined);
  });

  it("when 'mark all read' is posted, then the count disappears and later notices count again", async () => {
    const { tanaka, issued } = await givenTwoNotices();
    const agent = await loginAs(world.app, tanaka.login, tanaka.password);
    const page = await agent.get("/notifications");
    const res = await agent.post("/notifications/read").type("form").send({ _csrf: csrfTokenOf(page.text) });
    expect(res.status).to.equal(303);
    expect(world.db.prepare("SELECT actor FROM audit_events WHERE event = 'notices_mark_read'").all()).to.deep.equal([{ actor: tanaka.login }]);
    const after = await agent.get("/notifications");
    expect(unreadCountOf(after.text)).to.equal(undefined);
    expect(after.text).not.to.match(/data-unread(?!-)/);
    // A new guarantee verified and amended: one unread again.
    const [second] = await givenGuarantees(world, [sampleCertificate({ contractNumber: "02208-000002" })]);
    await verifyAs(world, tanaka.officer, second!);
    world.services.guarantees.change(second!.contractNumber, "amendment", { guaranteeAmount: 25000000 }, "test");
    expect(unreadCountOf((await agent.get("/verify")).text)).to.equal("1");
    expect(textOf((await agent.get("/notifications")).text)).to.include(`${issued.contractNumber} の保証が取消されました`);
  });

  it("when more than 99 notices are unread, then the header says 99+", async () => {
    world.clock.set("2027-04-12T01:00:00.000Z");
    const tanaka = await givenOfficer(world);
    const rows = Array.from({ length: 101 }, (_, i) => sampleCertificate({ contractNumber: `02208-${String(i + 1).padStart(6, "0")}` }));
    for (const g of await givenGuarantees(world, rows)) await verifyAs(world, tanaka.officer, g);
    expect(world.services.notifications.scan().events).to.equal(101);
    const agent = await loginAs(world.app, tanaka.login, tanaka.password);
    expect(unreadCountOf((await agent.get("/verify")).text)).to.equal(undefined);
    expect((await agent.get("/verify")).text).to.match(/data-unread-count>99\+</);
  });

  it("when 'mark all read' comes without the CSRF token, then it is refused and nothing is marked", async () => {
    const { tanaka } = await givenTwoNotices();
    const agent = await loginAs(world.app, tanaka.login, tanaka.password);
    const res = await agent.post("/notifications/read").type("form").send({});
    expect(res.status).to.equal(403);
    expect(unreadCountOf((await agent.get("/verify")).text)).to.equal("2");
  });

  it("when another orderer's officer asks for the notices or opens one by id, then they see none and get the 404 page", async () => {
    await givenTwoNotices();
    const stranger = await givenOfficer(world, { login: "other-sato", orderer: "022012", password: "other officer password 2" });
    const agent = await loginAs(world.app, stranger.login, stranger.password);
    const page = await agent.get("/notifications");
    expect(textOf(page.text)).to.include("お知らせはありません。");
    expect(unreadCountOf(page.text)).to.equal(undefined);
    const id = (world.db.prepare("SELECT max(id) AS id FROM events").get() as { id: number }).id;
    expect((await agent.get(`/notifications/${id}`)).status).to.equal(404);
    expect((await agent.get("/notifications/abc")).status).to.equal(404);
  });

  it("when a contract's notice (未提出) is opened, then it leads to the contract in the register", async () => {
    world.clock.set("2026-11-16T01:00:00.000Z");
    const tanaka = await givenOfficer(world);
    expect(world.services.contracts.save(actorOf(tanaka.officer), contractForm({ reference: "R8/001 第2号" }), null).ok).to.equal(true);
    expect(world.services.notifications.scan().events).to.equal(1);
    const agent = await loginAs(world.app, tanaka.login, tanaka.password);
    const page = await agent.get("/notifications");
    expect(textOf(page.text)).to.include("契約 R8/001 第2号 の前払金保証が未提出です");
    const opened = await agent.get(/href="(\/notifications\/\d+)"/.exec(page.text)![1]!);
    expect(opened.headers.location).to.equal(`/contracts/${encodeURIComponent("R8/001 第2号")}`);
  });

  it("when nobody is logged in, then /notifications sends to the login page", async () => {
    const res = await request(world.app).get("/notifications");
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.match(/^\/login/);
  });

  it("when there are more notices than a page, then the next page continues below the last one shown", async () => {
    const tanaka = await givenOfficer(world);
    const rows = Array.from({ length: 16 }, (_, i) => sampleCertificate({ contractNumber: `02208-${String(i + 1).padStart(6, "0")}` }));
    const issued = await givenGuarantees(world, rows);
    for (const g of issued) {
      await verifyAs(world, tanaka.officer, g);
      world.services.guarantees.change(g.contractNumber, "amendment", { guaranteeAmount: 25000000 }, "test");
      world.services.guarantees.cancel(g.contractNumber, "契約解除のため", "test");
    }
    const agent = await loginAs(world.app, tanaka.login, tanaka.password);
    const first = await agent.get("/notifications");
    expect(first.text.match(/data-notice/g)).to.have.length(30);
    const next = /href="\/notifications\?before(?:=|&#x3D;)(\d+)"/.exec(first.text)![1]!;
    const second = await agent.get(`/notifications?before=${next}`);
    expect(second.text.match(/data-notice/g)).to.have.length(2);
    expect(textOf(second.text)).to.include("02208-000001 変更-1 が登録されました");
    expect(second.text).not.to.include("?before");
  });
});
