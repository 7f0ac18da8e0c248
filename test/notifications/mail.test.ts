import { expect } from "chai";
import { createLogger } from "../../src/logger.js";
import { createSmtpTransport } from "../../src/notifications/mailer.js";
import { createOutboxSender, type OutboxSender } from "../../src/notifications/outbox-sender.js";
import { verifyAs } from "../contracts/support.js";
import { givenGuarantees, givenOfficer, givenOrderer, sampleCertificate } from "../support/given.js";
import { buildWorld, type World } from "../support/world.js";
import { outboxRows, startSmtpServer, type SmtpTestServer } from "./support.js";

const BASE = "https://kakunin.example.lg.jp";
const FROM = "Kakunin <noreply@kakunin.example.lg.jp>";

describe("notifications: mail through a real SMTP server on loopback", () => {
  let world: World;
  let smtp: SmtpTestServer;
  let sender: OutboxSender;
  const logs: string[] = [];

  beforeEach(async () => {
    world = await buildWorld({ notifications: { publicBaseUrl: BASE, smtpConfigured: true } });
    smtp = await startSmtpServer();
    const logger = createLogger({ level: "info", destination: { write: (line: string) => void logs.push(line) } });
    sender = createOutboxSender({ mail: world.services.mail, transport: createSmtpTransport(smtp.url), from: FROM, logger });
  });
  afterEach(async () => {
    await sender.stop();
    await smtp.close();
    world.close();
    logs.length = 0;
  });

  /** むつ市 (two mailboxes) and 発注者022012 (one) each hold a guarantee of their own. */
  async function givenTwoOrderers() {
    const mutsu = await givenOfficer(world, { password: "mutsu officer password 1" });
    const other = await givenOfficer(world, { login: "other-sato", orderer: "022012", password: "other officer password 2" });
    givenOrderer(world, "022012");
    const [mine, theirs] = await givenGuarantees(world, [
      sampleCertificate(),
      sampleCertificate({ contractNumber: "02201-000009", orderer: { code: "022012", title: "市長" }, projectName: "他市の工事" }),
    ]);
    await verifyAs(world, mutsu.officer, mine!);
    await verifyAs(world, other.officer, theirs!);
    const n = world.services.mail;
    n.addMailbox("022080", "keiyaku@city.mutsu.lg.jp", "test");
    n.addMailbox("022080", "doboku@city.mutsu.lg.jp", "test");
    n.addMailbox("022012", "keiyaku@city.other.lg.jp", "test");
    return { mutsu, other, mine: mine!, theirs: theirs! };
  }

  it("when a held guarantee is amended, then each of its orderer's mailboxes gets the mail, with number, 工事名, the change and the link, and no one else does", async () => {
    const { mine, mutsu } = await givenTwoOrderers();
    expect(world.services.guarantees.change(mine.contractNumber, "amendment", { guaranteeAmount: 25000000 }, "test").ok).to.equal(true);
    expect(await sender.deliverDue()).to.equal(2);

    expect(smtp.received.map((m) => m.envelopeTo[0]).sort()).to.deep.equal(["doboku@city.mutsu.lg.jp", "keiyaku@city.mutsu.lg.jp"]);
    const mail = smtp.received[0]!.parsed;
    expect(mail.subject).to.equal(`【電子保証】${mine.contractNumber} 変更-1 が登録されました`);
    expect(mail.from?.value[0]).to.deep.include({ name: "Kakunin", address: "noreply@kakunin.example.lg.jp" });
    const text = mail.text!;
    expect(text).to.include(`保証契約番号: ${mine.contractNumber}`);
    expect(text).to.include("工事名: むつ市道大畑線道路改良工事");
    expect(text).to.include("・保証金額: 20,000,000 円 → 25,000,000 円");
    expect(text).to.include(`詳細: ${BASE}/guarantees/${mine.contractNumber}`);
    // Nothing secret: not the key, not an officer's password, not a session or CSRF value.
    for (const m of smtp.received) {
      expect(m.raw).not.to.include(mine.authKey);
      expect(m.raw).not.to.include(mutsu.password);
      expect(m.raw).not.to.match(/auth_?key|password|session|csrf/i);
    }
    const rows = outboxRows(world);
    expect(rows.every((r) => r.sentAt !== null && r.attempts === 1)).to.equal(true);
    expect(smtp.received.map((m) => m.parsed.messageId).sort()).to.deep.equal(rows.map((r) => r.messageId).sort());
  });

  it("when a guarantee is corrected, withdrawn and cancelled, then one mail each says which, the cancellation with its reason", async () => {
    const { theirs } = await givenTwoOrderers();
    const g = world.services.guarantees;
    g.change(theirs.contractNumber, "amendment", { guaranteeAmount: 15000000 }, "test");
    g.change(theirs.contractNumber, "correction", { guaranteeAmount: 16000000 }, "test");
    g.withdraw(theirs.contractNumber, "test");
    g.cancel(theirs.contractNumber, "契約解除のため", "test");
    expect(await sender.deliverDue()).to.equal(4);
    expect(smtp.received.every((m) => m.envelopeTo[0] === "keiyaku@city.other.lg.jp")).to.equal(true);
    expect(smtp.received.map((m) => m.parsed.subject)).to.deep.equal([
      "【電子保証】02201-000009 変更-1 が登録されました",
      "【電子保証】02201-000009 変更-1 の訂正が登録されました",
      "【電子保証】02201-000009 変更-1 が取り消されました（変更取消）",
      "【電子保証】02201-000009 の保証が取消されました",
    ]);
    expect(smtp.received[3]!.parsed.text).to.include("取消理由: 契約解除のため");
  });

  it("when the scan finds warnings for an orderer, then its mailboxes get one digest listing each with its link", async () => {
    world.clock.set("2027-04-12T01:00:00.000Z");
    const { mine } = await givenTwoOrderers();
    const result = world.services.notifications.scan();
    expect(result.events).to.equal(2);
    expect(await sender.deliverDue()).to.equal(3);
    const mutsuMail = smtp.received.find((m) => m.envelopeTo[0] === "keiyaku@city.mutsu.lg.jp")!.parsed;
    expect(mutsuMail.subject).to.equal("【電子保証】保証期限・未提出のお知らせ（令和9年4月12日、1件）");
    expect(mutsuMail.text).to.include(`1. ${mine.contractNumber} の保証期限（令和9年4月18日）まで7日以内です`);
    expect(mutsuMail.text).to.include(`詳細: ${BASE}/guarantees/${mine.contractNumber}`);
    expect(mutsuMail.text).not.to.include("02201-000009");
  });

  it("when the scan finds more than 50 warnings for an orderer, then the digest lists 50 and points to the notices page for the rest", async () => {
    world.clock.set("2027-04-12T01:00:00.000Z");
    const { officer } = await givenOfficer(world);
    const rows = Array.from({ length: 53 }, (_, i) => sampleCertificate({ contractNumber: `02208-${String(i + 1).padStart(6, "0")}` }));
    for (const g of await givenGuarantees(world, rows)) await verifyAs(world, officer, g);
    world.services.mail.addMailbox("022080", "keiyaku@city.mutsu.lg.jp", "test");
    world.services.notifications.scan();
    expect(await sender.deliverDue()).to.equal(1);
    const text = smtp.received[0]!.parsed.text!;
    expect(smtp.received[0]!.parsed.subject).to.include("53件");
    expect(text).to.include("50. 02208-000050");
    expect(text).not.to.include("51. ");
    expect(text).to.include(`ほか3件は、Kakunin の「お知らせ」でご確認ください: ${BASE}/notifications`);
  });

  it("when the server answers 4xx, then goes down, then comes back, then every mail arrives exactly once", async () => {
    const { mine } = await givenTwoOrderers();
    world.services.guarantees.change(mine.contractNumber, "amendment", { guaranteeAmount: 25000000 }, "test");
    world.services.guarantees.cancel(mine.contractNumber, "契約解除のため", "test");

    smtp.setMode("tempfail");
    expect(await sender.deliverDue()).to.equal(0);
    expect(outboxRows(world).map((r) => [r.attempts, r.sentAt, r.failedAt])).to.deep.equal(Array(4).fill([1, null, null]));
    expect(outboxRows(world)[0]!.lastError).to.match(/451/);
    expect(await sender.deliverDue(), "not due again before the back-off").to.equal(0);

    await smtp.down();
    world.clock.advance(61_000);
    expect(await sender.deliverDue()).to.equal(0);
    // No connection: the pass ends at the first mail; the others wait for the next pass.
    expect(outboxRows(world).map((r) => r.attempts)).to.deep.equal([2, 1, 1, 1]);
    expect(outboxRows(world)[0]!.lastError).to.match(/ECONNECTION|ECONNREFUSED/);
    expect(await sender.deliverDue()).to.equal(0);
    expect(outboxRows(world).map((r) => r.attempts)).to.deep.equal([2, 2, 1, 1]);

    await smtp.up();
    smtp.setMode("accept");
    world.clock.advance(121_000);
    expect(await sender.deliverDue()).to.equal(4);
    world.clock.advance(24 * 3600_000);
    expect(await sender.deliverDue()).to.equal(0);

    const ids = smtp.received.map((m) => m.parsed.messageId);
    expect(ids).to.have.length(4);
    expect(new Set(ids).size).to.equal(4);
    expect(outboxRows(world).every((r) => r.sentAt !== null && r.lastError === null)).to.equal(true);
    expect(logs.join("\n")).to.include("mail not delivered");
  });

  it("when retries run past 24 hours, then the mail is given up, and `mail retry` queues it again", async () => {
    const { mine } = await givenTwoOrderers();
    world.services.guarantees.cancel(mine.contractNumber, "契約解除のため", "test");
    await smtp.down();
    let passes = 0;
    const waits: number[] = [];
    while (outboxRows(world).some((r) => r.failedAt === null) && passes++ < 60) {
      await sender.deliverDue();
      const next = outboxRows(world).filter((r) => r.failedAt === null).map((r) => r.nextAttemptAt).sort()[0];
      if (next === undefined || next <= world.clock.now().toISOString()) continue;
      waits.push((new Date(next).getTime() - world.clock.now().getTime()) / 60_000);
      world.clock.set(next);
    }
    const given = outboxRows(world);
    expect(given.every((r) => r.failedAt !== null && r.sentAt === null)).to.equal(true);
    // Waits of 1, 2, 4 … 512 minutes (1,023 in all); the next, 1,024, would end past 24 hours.
    expect(waits).to.deep.equal([1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
    expect(given[0]!.attempts).to.equal(11);

    await smtp.up();
    expect(world.services.mail.retryFailed("test")).to.equal(2);
    expect(await sender.deliverDue()).to.equal(2);
    expect(smtp.received).to.have.length(2);
  });

  it("when the server refuses a mailbox for good (5xx), then that mail is given up at once and the others go", async () => {
    const { mine } = await givenTwoOrderers();
    world.services.guarantees.cancel(mine.contractNumber, "契約解除のため", "test");
    // The first row's mailbox is refused by a transport that answers 550 for it alone.
    const real = createSmtpTransport(smtp.url);
    const refusing = createOutboxSender({
      mail: world.services.mail, from: FROM, logger: createLogger({ level: "silent" }),
      transport: {
        send: (mail) => (mail.to === "doboku@city.mutsu.lg.jp" ? Promise.reject(Object.assign(new Error("550 no such user"), { responseCode: 550 })) : real.send(mail)),
        close: () => real.close(),
      },
    });
    expect(await refusing.deliverDue()).to.equal(1);
    await refusing.stop();
    const rows = outboxRows(world);
    expect(rows.find((r) => r.recipient === "doboku@city.mutsu.lg.jp")).to.deep.include({ attempts: 1, sentAt: null });
    expect(rows.find((r) => r.recipient === "doboku@city.mutsu.lg.jp")!.failedAt).to.be.a("string");
  });
});
