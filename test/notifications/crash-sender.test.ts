import { expect } from "chai";
import { reap } from "../ops/support/processes.js";
import { startServer, type ServerChild } from "../ops/support/server.js";
import { verifyAs } from "../contracts/support.js";
import { givenGuarantees, givenOfficer, sampleCertificate } from "../support/given.js";
import { buildWorld, type World } from "../support/world.js";
import { outboxRows, startSmtpServer, type SmtpTestServer } from "./support.js";

describe("notifications: the sender killed mid-burst (kill -9 of the service)", () => {
  let world: World;
  let smtp: SmtpTestServer;
  const servers: ServerChild[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(reap));
    await smtp?.close();
    world?.close();
  });

  async function until(condition: () => boolean, what: string, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it("when the service is killed while sending and started again, then every mail arrives at least once, a repeat only under its own Message-ID, and all rows end sent", async function () {
    this.timeout(90_000);
    world = await buildWorld();
    const { officer } = await givenOfficer(world);
    const rows = Array.from({ length: 10 }, (_, i) => sampleCertificate({ contractNumber: `02208-${String(i + 1).padStart(6, "0")}` }));
    const issued = await givenGuarantees(world, rows);
    for (const g of issued) await verifyAs(world, officer, g);
    for (const box of ["keiyaku", "doboku", "zaisei", "kanri"]) world.services.mail.addMailbox("022080", `${box}@city.mutsu.lg.jp`, "test");
    for (const g of issued) world.services.guarantees.change(g.contractNumber, "amendment", { guaranteeAmount: 25000000 }, "test");
    expect(outboxRows(world)).to.have.length(40);

    // Each DATA takes 40 ms to be accepted, so the burst lasts long enough to be cut.
    smtp = await startSmtpServer({ delayMs: 40 });
    const env = { SMTP_URL: smtp.url, MAIL_FROM: "kakunin@city.mutsu.lg.jp", PUBLIC_BASE_URL: "https://kakunin.example.lg.jp" };
    const first = await startServer(world.databasePath, env);
    servers.push(first);
    await until(() => smtp.received.length >= 12, "12 mails arrived");
    first.kill("SIGKILL");
    expect(await first.exited).to.equal("SIGKILL");
    const sentBeforeCrash = outboxRows(world).filter((r) => r.sentAt !== null).length;
    expect(sentBeforeCrash, "the burst was cut before its end").to.be.lessThan(40);

    servers.push(await startServer(world.databasePath, env));
    await until(() => outboxRows(world).every((r) => r.sentAt !== null), "every outbox row is marked sent");

    const arrivals = new Map<string, number>();
    for (const m of smtp.received) arrivals.set(m.parsed.messageId!, (arrivals.get(m.parsed.messageId!) ?? 0) + 1);
    for (const row of outboxRows(world)) expect(arrivals.get(row.messageId), `${row.messageId} arrived`).to.be.at.least(1);
    // The worst case: the one mail in hand when the process died, accepted but not yet marked.
    const repeated = [...arrivals.values()].filter((n) => n > 1);
    expect(repeated.length, "at most the mail in hand is repeated").to.be.at.most(1);
    expect(arrivals.size).to.equal(40);
  });
});
