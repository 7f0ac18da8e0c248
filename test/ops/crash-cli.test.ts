import Database from "better-sqlite3";
import { expect } from "chai";
import { existsSync, statSync } from "node:fs";
import { buildCliWorld, contractNumbers, givenRegistry, sampleCertificate, type CliWorld } from "../cli/cli-world.js";
import { reap, spawnTs, type Child } from "./support/processes.js";

type State = { guarantees: number; versions: number; audit: number; integrity: string; foreignKeys: unknown[] };

function stateOf(file: string): State {
  // A fresh connection: the first one after a crash runs WAL recovery, as the restarted server would.
  const db = new Database(file, { fileMustExist: true });
  try {
    const count = (table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    return {
      guarantees: count("guarantees"), versions: count("guarantee_versions"), audit: count("audit_events"),
      integrity: db.pragma("integrity_check", { simple: true }) as string,
      foreignKeys: db.pragma("foreign_key_check") as unknown[],
    };
  } finally {
    db.close();
  }
}

/**
 * kill -9 of `issue` (DB-03): whatever the moment, the database holds all of the file or none of
 * it, and passes integrity_check, foreign_key_check and the audit chain (`admin check`).
 */
describe("crash safety: kill -9 during a large issue", function () {
  this.timeout(30_000);
  let world: CliWorld;
  let child: Child | undefined;
  let before: State;

  const issueFile = (rows: number) =>
    world.file(`issue-${rows}.json`, JSON.stringify(contractNumbers(1, rows).map((contractNumber) => sampleCertificate({ contractNumber }))));

  beforeEach(async () => {
    world = await buildCliWorld();
    await givenRegistry(world);
    world.db.close(); // the child is the only process using the file, as an admin at the console
    before = stateOf(world.databasePath);
  });
  afterEach(async () => {
    await reap(child);
    child = undefined;
    world.close();
  });

  const expectSoundAnd = async (expected: Partial<State>) => {
    const after = stateOf(world.databasePath);
    expect(after).to.deep.include({ integrity: "ok", foreignKeys: [], ...expected });
    const check = await world.run(["check"]);
    expect(check.status, check.stderr).to.equal(0);
  };

  it("when it is killed while hashing the keys (OWASP argon2, 300 rows), then nothing of the file is in the database", async () => {
    child = spawnTs("test/ops/fixtures/issue-child.ts", [world.databasePath, issueFile(300), "hashing"], {});
    await child.waitFor(/hashed 60\n/, { stream: "stderr" });
    child.kill("SIGKILL");
    expect(await child.exited).to.equal("SIGKILL");
    expect(child.stdout()).to.equal(""); // no key was handed out
    await expectSoundAnd({ guarantees: 0, versions: 0, audit: before.audit });
  });

  it("when it is killed inside the commit with part of the transaction already in the -wal file (2000 rows), then nothing of it survives", async () => {
    child = spawnTs("test/ops/fixtures/issue-child.ts", [world.databasePath, issueFile(2000), "commit", "1500"], {});
    await child.waitFor(/in transaction\n/, { stream: "stderr" });
    const wal = `${world.databasePath}-wal`;
    const walBytes = existsSync(wal) ? statSync(wal).size : 0;
    child.kill("SIGKILL");
    expect(await child.exited).to.equal("SIGKILL");
    // Uncommitted pages were written out (the tiny cache spilled): recovery must ignore them.
    expect(walBytes).to.be.greaterThan(100 * 1024);
    await expectSoundAnd({ guarantees: 0, versions: 0, audit: before.audit });
  });

  it("when it is killed right after the commit, as it prints the keys (2000 rows), then all of the file is there", async () => {
    child = spawnTs("test/ops/fixtures/issue-child.ts", [world.databasePath, issueFile(2000), "commit-done"], {});
    await child.waitFor(/"authKey"/);
    child.kill("SIGKILL");
    expect(await child.exited).to.be.oneOf(["SIGKILL", 0]); // it may just have finished printing
    await expectSoundAnd({ guarantees: 2000, versions: 2000, audit: before.audit + 2000 });
  });
});
