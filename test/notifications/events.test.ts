import { expect } from "chai";
import { contractForm } from "../contracts/fixtures.js";
import { actorOf, verifyAs } from "../contracts/support.js";
import { givenGuarantees, givenOfficer, sampleCertificate } from "../support/given.js";
import { buildWorld, createTestClock, type World } from "../support/world.js";
import { eventsOf, outboxRows } from "./support.js";

describe("notifications: the orderer's event stream", () => {
  let world: World;
  afterEach(() => world?.close());

  async function givenHeldSample(overrides: Record<string, unknown> = {}) {
    const { officer } = await givenOfficer(world);
    const [issued] = await givenGuarantees(world, [sampleCertificate(overrides)]);
    await verifyAs(world, officer, issued!);
    return { officer, issued: issued! };
  }

  describe("changes of a held guarantee", () => {
    beforeEach(async () => { world = await buildWorld(); });

    it("when a held guarantee is amended, then the orderer gets one 変更-1 event naming each changed field before and after, and one mail per mailbox", async () => {
      const { officer, issued } = await givenHeldSample();
      world.services.mail.addMailbox("022080", "keiyaku@city.mutsu.lg.jp", "test");
      world.services.mail.addMailbox("022080", "zaisei@city.mutsu.lg.jp", "test");
      const changed = world.services.guarantees.change(issued.contractNumber, "amendment", { guaranteeAmount: 25000000, contractAmount: 60000000 }, "test");
      expect(changed.ok).to.equal(true);

      const events = eventsOf(world, officer.ordererId);
      expect(events.map((e) => e.kind)).to.deep.equal(["version_amended"]);
      expect(events[0]!.payload.label).to.equal("変更-1");
      expect(events[0]!.payload.changes).to.deep.include({ label: "保証金額", before: "20,000,000 円", after: "25,000,000 円" });
      expect(events[0]!.payload.changes).to.deep.include({ label: "請負金額", before: "50,000,000 円", after: "60,000,000 円" });
      const mails = outboxRows(world);
      expect(mails.map((m) => m.recipient).sort()).to.deep.equal(["keiyaku@city.mutsu.lg.jp", "zaisei@city.mutsu.lg.jp"]);
      expect(mails[0]!.content.subject).to.equal(`【電子保証】${issued.contractNumber} 変更-1 が登録されました`);
      expect(mails[0]!.lastError, "no SMTP_URL in this world").to.equal("no SMTP configured");
      expect(new Set(mails.map((m) => m.messageId)).size).to.equal(2);
    });

    it("when a change is refused, then no event and no mail is recorded", async () => {
      const { officer, issued } = await givenHeldSample();
      world.services.mail.addMailbox("022080", "keiyaku@city.mutsu.lg.jp", "test");
      const refused = world.services.guarantees.change(issued.contractNumber, "amendment", { guaranteeAmount: 90000000 }, "test");
      expect(refused.ok).to.equal(false);
      expect(eventsOf(world, officer.ordererId)).to.deep.equal([]);
      expect(outboxRows(world)).to.deep.equal([]);
    });

    it("when corrected, withdrawn and cancelled, then each is one event of its kind, the cancellation with its reason", async () => {
      const { officer, issued } = await givenHeldSample();
      const n = issued.contractNumber;
      expect(world.services.guarantees.change(n, "amendment", { guaranteeAmount: 25000000 }, "test").ok).to.equal(true);
      expect(world.services.guarantees.change(n, "correction", { guaranteeAmount: 24000000 }, "test").ok).to.equal(true);
      expect(world.services.guarantees.withdraw(n, "test").ok).to.equal(true);
      expect(world.services.guarantees.cancel(n, "契約解除のため", "test").ok).to.equal(true);
      const events = eventsOf(world, officer.ordererId);
      expect(events.map((e) => [e.kind, e.payload.label])).to.deep.equal([
        ["version_amended", "変更-1"], ["version_corrected", "変更-1"], ["version_withdrawn", "変更-1"], ["guarantee_cancelled", "新規"],
      ]);
      // The withdrawn 変更-1 (as corrected) against the 新規 in force again, its issue date included.
      expect(events[2]!.payload.changes).to.deep.equal([
        { label: "発行日", before: "令和8年11月25日", after: "令和8年11月5日" },
        { label: "保証金額", before: "24,000,000 円", after: "20,000,000 円" },
      ]);
      expect(events[3]!.payload.reason).to.equal("契約解除のため");
    });

    it("when a guarantee nobody holds is amended, then no orderer gets an event", async () => {
      await givenOfficer(world);
      const [issued] = await givenGuarantees(world, [sampleCertificate()]);
      world.services.guarantees.change(issued!.contractNumber, "amendment", { guaranteeAmount: 25000000 }, "test");
      expect(world.db.prepare("SELECT count(*) AS n FROM events").get()).to.deep.equal({ n: 0 });
    });
  });

  describe("the daily scan", () => {
    // 2027-03-19 10:00 in Tokyo: the sample's 保証期限 2027-04-18 is 30 days away.
    const at = (tokyoDate: string) => `${tokyoDate}T01:00:00.000Z`;

    it("when the 保証期限 comes within 30 days, then within 7, then passes, then each is one event, and re-runs add nothing", async () => {
      world = await buildWorld({ clock: createTestClock(at("2027-03-18")) });
      const { officer } = await givenHeldSample();
      world.services.mail.addMailbox("022080", "keiyaku@city.mutsu.lg.jp", "test");
      expect(world.services.notifications.scan().events, "31 days before").to.equal(0);
      world.clock.set(at("2027-03-19"));
      expect(world.services.notifications.scan()).to.deep.include({ events: 1, mails: 1 });
      expect(world.services.notifications.scan()).to.deep.include({ events: 0, mails: 0 });
      world.clock.set(at("2027-04-11"));
      expect(world.services.notifications.scan().events).to.equal(1);
      world.clock.set(at("2027-04-18"));
      expect(world.services.notifications.scan().events, "the last day still holds").to.equal(0);
      world.clock.set(at("2027-04-19"));
      expect(world.services.notifications.scan().events).to.equal(1);
      world.clock.set(at("2027-04-25"));
      expect(world.services.notifications.scan().events).to.equal(0);
      expect(eventsOf(world, officer.ordererId).map((e) => e.kind)).to.deep.equal(["expiry_within_30", "expiry_within_7", "expiry_passed"]);
      expect(outboxRows(world).map((m) => m.content.subject)).to.have.length(3);
      expect(outboxRows(world)[0]!.content.subject).to.match(/^【電子保証】保証期限・未提出のお知らせ（令和9年3月19日、1件）$/);
    });

    it("when the Tokyo date turns at 15:00 UTC, then the 30-day warning comes with it", async () => {
      world = await buildWorld({ clock: createTestClock("2027-03-18T14:59:00.000Z") });
      await givenHeldSample();
      expect(world.services.notifications.scan().events).to.equal(0);
      world.clock.set("2027-03-18T15:00:00.000Z");
      expect(world.services.notifications.scan().events).to.equal(1);
    });

    it("when the orderer keeps a register, then only guarantees a contract that has not ended relies on are warned about", async () => {
      world = await buildWorld({ clock: createTestClock(at("2027-03-19")) });
      const { officer } = await givenOfficer(world);
      const issued = await givenGuarantees(world, [sampleCertificate(), sampleCertificate({ contractNumber: "02208-000002" })]);
      for (const g of issued) await verifyAs(world, officer, g);
      // R8-001 relies on 000001 and runs on; R8-002 relied on 000002 and ended yesterday.
      expect(world.services.contracts.save(actorOf(officer), contractForm(), null).ok).to.equal(true);
      expect(world.services.contracts.save(actorOf(officer), contractForm({ reference: "R8-002", guaranteeNumbers: "02208-000002", periodTo: "2027-03-18" }), null).ok).to.equal(true);
      world.services.notifications.scan();
      const expiry = eventsOf(world, officer.ordererId).filter((e) => e.kind.startsWith("expiry"));
      expect(expiry.map((e) => e.payload.contractNumber)).to.deep.equal(["02208-000001"]);
    });

    it("when a contract still lacks a required guarantee 14 days after its 契約日, then one 未提出 event names the missing product", async () => {
      world = await buildWorld({ clock: createTestClock(at("2026-11-15")) });
      const { officer } = await givenOfficer(world);
      // 契約日 2026-11-02; 前払金 and 契約保証 required; the orderer holds neither.
      expect(world.services.contracts.save(actorOf(officer), contractForm({ guaranteeRatio: "1/10" }), null).ok).to.equal(true);
      expect(world.services.notifications.scan().events, "13 days after").to.equal(0);
      world.clock.set(at("2026-11-16"));
      expect(world.services.notifications.scan().events).to.equal(1);
      world.clock.set(at("2026-11-17"));
      expect(world.services.notifications.scan().events).to.equal(0);
      const [missing] = eventsOf(world, officer.ordererId);
      expect(missing!.kind).to.equal("guarantee_missing");
      expect(missing!.payload).to.deep.include({ reference: "R8-001", missingProducts: ["前払金保証", "契約保証"] });
    });

    it("when a historical ledger is imported or a guarantee expired long ago, then the first scan brings no stale 未提出 or 期限切れ notices", async () => {
      // The sample's 保証期限 is 2027-04-18; its contract R8-001 ran until 2027-03-19.
      world = await buildWorld({ clock: createTestClock(at("2027-06-01")) });
      const { officer } = await givenHeldSample();
      // An old contract, ended years ago, whose guarantees were never held here.
      expect(world.services.contracts.save(actorOf(officer), contractForm({
        reference: "H30-001", contractDate: "2018-04-02", periodFrom: "2018-04-03", periodTo: "2018-12-20", guaranteeNumbers: "",
      }), null).ok).to.equal(true);
      expect(world.services.notifications.scan().events, "44 days after the 保証期限, with no running contract").to.equal(0);
      expect(eventsOf(world, officer.ordererId)).to.deep.equal([]);
    });

    it("when the 保証期限 passed within the last 30 days and no register is kept, then one 期限切れ notice; one passed 31 days ago is not news", async () => {
      world = await buildWorld({ clock: createTestClock(at("2027-05-19")) });
      const { officer } = await givenOfficer(world);
      const issued = await givenGuarantees(world, [sampleCertificate(), sampleCertificate({ contractNumber: "02208-000002", guaranteeExpiry: "2027-04-19" })]);
      for (const g of issued) await verifyAs(world, officer, g);
      expect(world.services.notifications.scan().events).to.equal(1);
      expect(eventsOf(world, officer.ordererId).map((e) => [e.kind, e.payload.contractNumber])).to.deep.equal([["expiry_passed", "02208-000002"]]);
    });

    it("when every required guarantee is held, then no 未提出 event is recorded", async () => {
      world = await buildWorld({ clock: createTestClock(at("2026-11-20")) });
      const { officer, issued } = await givenHeldSample();
      expect(world.services.contracts.save(actorOf(officer), contractForm({ guaranteeNumbers: issued.contractNumber }), null).ok).to.equal(true);
      world.services.notifications.scan();
      expect(eventsOf(world, officer.ordererId).filter((e) => e.kind === "guarantee_missing")).to.deep.equal([]);
    });
  });
});
