import { expect } from "chai";
import { openMigratedDatabase } from "../../src/db/database.js";
import { addDays, tokyoDate } from "../../src/format/era-date.js";
import { verifyAs } from "../contracts/support.js";
import { reap, spawnTs, type Child } from "../ops/support/processes.js";
import { givenGuarantees, givenOfficer, sampleCertificate } from "../support/given.js";
import { buildWorld, createTestClock, type World } from "../support/world.js";

describe("notifications: two processes scanning at once", () => {
  let world: World;
  const children: Child[] = [];
  afterEach(async () => {
    await Promise.all(children.splice(0).map(reap));
    world?.close();
  });

  it("when two `notify scan` processes run on the same database together, then every warning is recorded once and one digest is queued", async function () {
    this.timeout(60_000);
    // The children scan on the real clock: 20 guarantees expiring in 10 days from the real today.
    const today = tokyoDate(new Date());
    world = await buildWorld({ clock: createTestClock(new Date().toISOString()) });
    const { officer } = await givenOfficer(world);
    const rows = Array.from({ length: 20 }, (_, i) => sampleCertificate({
      contractNumber: `02208-${String(i + 1).padStart(6, "0")}`,
      contractDate: addDays(today, -30), periodFrom: addDays(today, -28), periodTo: addDays(today, 5),
      guaranteeExpiry: addDays(today, 10), issuedOn: addDays(today, -27),
    }));
    for (const issued of await givenGuarantees(world, rows)) await verifyAs(world, officer, issued);
    world.services.mail.addMailbox("022080", "keiyaku@city.mutsu.lg.jp", "test");
    world.db.close();

    const scans = [0, 1].map(() => spawnTs("scripts/admin.ts", ["--db", world.databasePath, "notify", "scan"], { NODE_ENV: "test" }));
    children.push(...scans);
    expect(await Promise.all(scans.map((c) => c.exited))).to.deep.equal([0, 0]);
    const counts = scans.map((c) => Number(/(\d+) new notices?/.exec(c.stdout())?.[1]));
    expect(counts.sort(), "one process recorded all, the other found them recorded").to.deep.equal([0, 20]);

    const db = openMigratedDatabase(world.databasePath);
    try {
      expect(db.prepare("SELECT kind, count(*) AS n FROM events GROUP BY kind").all()).to.deep.equal([{ kind: "expiry_within_30", n: 20 }]);
      expect(db.prepare("SELECT recipient FROM outbox").all()).to.deep.equal([{ recipient: "keiyaku@city.mutsu.lg.jp" }]);
    } finally {
      db.close();
    }
  });
});
