import Database from "better-sqlite3";
import { expect } from "chai";
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { buildCliWorld, givenIssued, givenRegistry, sampleCertificate, type CliWorld } from "../cli/cli-world.js";
import { givenOfficer } from "../support/given.js";
import { reap, spawnTs, type Child } from "./support/processes.js";

type Snapshot = { integrity: string; rows: number; lastHash: string | undefined; guarantees: number };

/** What a database file holds, read through a connection of its own. */
function snapshot(file: string): Snapshot {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const last = db.prepare("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1").get() as { hash: string } | undefined;
    return {
      integrity: db.pragma("integrity_check", { simple: true }) as string,
      rows: (db.prepare("SELECT count(*) AS n FROM audit_events").get() as { n: number }).n,
      lastHash: last?.hash,
      guarantees: (db.prepare("SELECT count(*) AS n FROM guarantees").get() as { n: number }).n,
    };
  } finally {
    db.close();
  }
}

/** Rewrites a file the way a user with shell access would. */
function tamper(file: string, sql: string): void {
  const db = new Database(file);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

describe("admin backup, restore and check", () => {
  let world: CliWorld;
  let writer: Child | undefined;
  const backupFile = () => path.join(world.dir, "backup.sqlite");

  beforeEach(async () => {
    world = await buildCliWorld();
    await givenRegistry(world);
    await givenIssued(world);
  });
  afterEach(async () => {
    await reap(writer);
    writer = undefined;
    world.close();
  });

  describe("backup", () => {
    it("when FILE is new, then it is a single, checked, complete copy and the backup is audited", async () => {
      const result = await world.run(["backup", backupFile()]);
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stdout).to.match(/^backup written to .*backup\.sqlite \(\d+ bytes\): integrity ok, audit trail 3 row\(s\), chain intact, 0 signed checkpoint\(s\), last row 3 sha256 [0-9a-f]{64}\n$/);
      expect(readdirSync(world.dir).filter((f) => f.startsWith("backup.sqlite"))).to.deep.equal(["backup.sqlite"]);
      expect(snapshot(backupFile())).to.deep.include({ integrity: "ok", rows: 3, guarantees: 1 });
      const audited = world.db.prepare("SELECT event, detail FROM audit_events ORDER BY id DESC LIMIT 1").get() as { event: string; detail: string };
      expect(audited.event).to.equal("db_backup");
      expect(JSON.parse(audited.detail)).to.include({ file: backupFile(), auditRows: 3 });
    });

    it("when the umask would let anyone read it, then the backup is still readable by its owner only", async () => {
      const umask = process.umask(0o000);
      try {
        expect((await world.run(["backup", backupFile()])).status).to.equal(0);
        writeFileSync(path.join(world.dir, "other.sqlite"), "old", { mode: 0o666 });
        expect((await world.run(["backup", path.join(world.dir, "other.sqlite"), "--force"])).status).to.equal(0);
      } finally {
        process.umask(umask);
      }
      expect(statSync(backupFile()).mode & 0o777).to.equal(0o600);
      expect(statSync(path.join(world.dir, "other.sqlite")).mode & 0o777).to.equal(0o600);
    });

    it("when FILE exists, then it is kept unless --force", async () => {
      writeFileSync(backupFile(), "precious");
      const refused = await world.run(["backup", backupFile()]);
      expect(refused).to.deep.include({ status: 1, stderr: `error: ${backupFile()} exists already (add --force to replace it)\n` });
      expect(readFileSync(backupFile(), "utf8")).to.equal("precious");
      const forced = await world.run(["backup", backupFile(), "--force"]);
      expect(forced.status, forced.stderr).to.equal(0);
      expect(snapshot(backupFile()).integrity).to.equal("ok");
    });

    it("when the folder is missing or the live database is named, then nothing is written", async () => {
      expect((await world.run(["backup", path.join(world.dir, "no", "b.sqlite")])).stderr).to.contain("does not exist");
      expect((await world.run(["backup", world.databasePath, "--force"])).stderr).to.contain("is the live database itself");
      expect((await world.run(["--db", path.join(world.dir, "typo.sqlite"), "backup", backupFile()])).stderr).to.contain("there is no database at");
      expect(existsSync(path.join(world.dir, "typo.sqlite"))).to.equal(false);
    });

    it("when another process keeps writing during the backup, then the copy is a consistent prefix of the live trail", async function () {
      // Enough rows that copying is not instantaneous.
      const seed = world.db.transaction(() => {
        for (let i = 0; i < 20_000; i++) {
          world.services.audit.appendInTransaction({ event: "certificate_view", outcome: "ok", actorKind: "officer", actor: "seed", ordererCode: "022080" });
        }
      });
      seed();
      const seeded = snapshot(world.databasePath).rows;
      writer = spawnTs("test/ops/fixtures/audit-writer.ts", [world.databasePath], { NODE_ENV: "test" });
      await writer.waitFor(/writing/);

      const result = await world.run(["backup", backupFile()]);
      writer.kill("SIGTERM");
      const wrote = Number((await writer.waitFor(/wrote (\d+)/))[1]);
      await writer.exited;

      expect(result.status, result.stderr).to.equal(0);
      const copy = snapshot(backupFile());
      const live = snapshot(world.databasePath);
      expect(copy.integrity).to.equal("ok");
      expect(copy.rows).to.be.greaterThan(seeded).and.lessThan(live.rows);
      expect(live.rows).to.equal(seeded + wrote + 1); // + the db_backup row
      // The copy's last row is the live trail's row with the same id: nothing in between went missing.
      expect(world.db.prepare("SELECT hash FROM audit_events WHERE id = ?").pluck().get(copy.rows)).to.equal(copy.lastHash);
      expect((await world.run(["--db", backupFile(), "audit", "verify"])).status).to.equal(0);
      expect((await world.run(["audit", "verify"])).status).to.equal(0);
    });
  });

  describe("restore", () => {
    beforeEach(async () => {
      expect((await world.run(["backup", backupFile()])).status).to.equal(0);
    });

    it("when the server (any other connection) has the database open, then restore refuses and changes nothing", async () => {
      world.db.prepare("SELECT count(*) FROM audit_events").get(); // an open, used connection, as the server's
      const before = snapshot(world.databasePath);
      const result = await world.run(["restore", backupFile()]);
      expect(result.status).to.equal(1);
      expect(result.stderr).to.contain("restore: the server must be stopped").and.contain("is open in another process: stop the server");
      expect(snapshot(world.databasePath)).to.deep.equal(before);
      expect(readdirSync(world.dir).filter((f) => f.includes(".restoring-") || f.includes(".before-restore-"))).to.deep.equal([]);
    });

    it("when the server is stopped, then the backup replaces the database, the old one is kept, sessions end and the restore is audited", async () => {
      world.db.prepare("INSERT INTO sessions (sid, officer_id, data, expires_at) VALUES ('s1', 1, '{}', 9999999999999)").run();
      expect((await world.run(["backup", backupFile(), "--force"])).status).to.equal(0);
      // Done after the backup: gone once it is restored.
      await givenIssued(world, [sampleCertificate({ contractNumber: "02208-000009" })]);
      const { login } = await givenOfficer(world);
      const replaced = snapshot(world.databasePath);
      world.db.close();

      const result = await world.run(["restore", backupFile()]);
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stdout).to.match(/^restored .* from .*backup\.sqlite: integrity ok, audit trail 5 row\(s\), chain intact/);
      expect(result.stdout).to.contain("1 session(s) ended");
      const kept = readdirSync(world.dir).filter((f) => f.startsWith("kakunin.sqlite.before-restore-"));
      expect(kept).to.have.length(1);
      expect(snapshot(path.join(world.dir, kept[0]!))).to.deep.equal(replaced);

      const restored = new Database(world.databasePath, { readonly: true });
      try {
        expect(restored.prepare("SELECT count(*) FROM guarantees").pluck().get()).to.equal(1);
        expect(restored.prepare("SELECT count(*) FROM officers WHERE login = ?").pluck().get(login)).to.equal(0);
        expect(restored.prepare("SELECT count(*) FROM sessions").pluck().get()).to.equal(0);
        const last = restored.prepare("SELECT event, actor, detail FROM audit_events ORDER BY id DESC LIMIT 1").get() as { event: string; actor: string; detail: string };
        expect(last).to.deep.include({ event: "db_restore", actor: "test-admin" });
        expect(JSON.parse(last.detail)).to.include({ from: backupFile(), sessionsEnded: 1 });
      } finally {
        restored.close();
      }
      const check = await world.run(["check"]);
      expect(check.status, check.stderr).to.equal(0);
      expect(readdirSync(world.dir).filter((f) => f.includes(".restoring-"))).to.deep.equal([]);
    });

    it("when the backup is a WAL-mode file (a copy of a cleanly closed database, as a Litestream restore gives), then it is restored and nothing is left beside it", async () => {
      world.db.close();
      const copy = path.join(world.dir, "copy.sqlite");
      copyFileSync(world.databasePath, copy);
      const result = await world.run(["restore", copy]);
      expect(result.status, result.stderr).to.equal(0);
      expect(readdirSync(world.dir).filter((f) => f.startsWith("copy.sqlite"))).to.deep.equal(["copy.sqlite"]);
      expect(snapshot(world.databasePath)).to.deep.include({ integrity: "ok", guarantees: 1 });
    });

    const refusedRestore = async (problem: RegExp) => {
      world.db.close();
      const before = snapshot(world.databasePath);
      const result = await world.run(["restore", backupFile()]);
      expect(result.status).to.equal(1);
      expect(result.stderr).to.match(problem);
      expect(snapshot(world.databasePath)).to.deep.equal(before);
      expect(readdirSync(world.dir).filter((f) => f.includes(".restoring-") || f.includes(".before-restore-"))).to.deep.equal([]);
    };

    it("when the backup's audit chain is broken, then restore refuses it naming the row", async () => {
      // The trigger put back as it was: the schema is the migrations', only the chain can tell.
      const trigger = "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events\nBEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END";
      tamper(backupFile(), `DROP TRIGGER audit_events_no_update; UPDATE audit_events SET outcome = 'forged' WHERE id = 2; ${trigger};`);
      await refusedRestore(/was refused, the live database is unchanged:\n {2}audit trail broken at row id 2: its content does not match its hash/);
    });

    it("when the backup holds a trigger the migrations do not define (one granting an orderer every new certificate), then restore refuses it naming the trigger", async () => {
      tamper(backupFile(), `CREATE TRIGGER grant_every_certificate AFTER INSERT ON guarantee_versions BEGIN
        INSERT OR IGNORE INTO orderer_guarantees (orderer_id, guarantee_id, first_verified_at, first_verified_by, last_verified_at, last_opened_at, last_opened_version_id, last_opened_status)
        VALUES (2, NEW.guarantee_id, NEW.reached_platform_at, 1, NEW.reached_platform_at, NEW.reached_platform_at, NEW.id, 'valid'); END;`);
      await refusedRestore(/was refused, the live database is unchanged:\n {2}schema differs from what the migrations produce at version \d+: trigger grant_every_certificate \(on guarantee_versions\) is not defined by the migrations: CREATE TRIGGER grant_every_certificate AFTER INSERT ON guarantee_versions BEGIN INSERT OR IGNORE/);
    });

    it("when a migration's object differs or is missing in the backup, then restore names the first difference", async () => {
      tamper(backupFile(), "DROP INDEX audit_events_orderer_time");
      await refusedRestore(/schema differs from what the migrations produce at version \d+: index audit_events_orderer_time is missing/);
    });

    it("when the backup fails integrity_check, then restore refuses it", async () => {
      const db = new Database(backupFile(), { readonly: true });
      const page = db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'audit_events_orderer_time'").pluck().get() as number;
      const pageSize = db.pragma("page_size", { simple: true }) as number;
      db.close();
      const bytes = readFileSync(backupFile());
      bytes.fill(0x5a, (page - 1) * pageSize + 8, page * pageSize); // keep the page header's type, ruin the rest
      writeFileSync(backupFile(), bytes);
      await refusedRestore(/integrity_check|malformed|not a database/);
    });

    it("when the backup was written by a newer version of the service, then restore refuses it", async () => {
      tamper(backupFile(), "PRAGMA user_version = 99");
      await refusedRestore(/schema version 99 is newer than this code knows/);
    });

    it("when the file is not a database at all, then restore says so", async () => {
      writeFileSync(backupFile(), "this is not a database, just some text that is long enough ".repeat(100));
      await refusedRestore(/cannot be read as a SQLite database \(file is not a database\)/);
    });
  });

  describe("check", () => {
    it("when the database is sound, then it says so with the schema and the last audit row", async () => {
      const result = await world.run(["check"]);
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stdout).to.match(/^database .*kakunin\.sqlite\n {2}schema version \d+ \(this code: \d+\), journal_mode wal\n {2}integrity_check ok, foreign_key_check ok\n {2}audit trail 3 row\(s\), chain intact, 0 signed checkpoint\(s\), last row 3 sha256 [0-9a-f]{64}\ncheck OK\n$/);
    });

    it("when a row refers to a missing parent, then check names the table and row and exits 1", async () => {
      tamper(world.databasePath, "PRAGMA foreign_keys = OFF; UPDATE guarantees SET orderer_id = 999 WHERE id = 1;");
      const result = await world.run(["check"]);
      expect(result.status).to.equal(1);
      expect(result.stderr).to.equal("error: database check FAILED (1 problem):\n  foreign_key_check: guarantees row 1 refers to a missing orderers row\n");
    });

    it("when there is no database at the path, then check says so instead of creating one", async () => {
      const missing = path.join(world.dir, "missing.sqlite");
      const result = await world.run(["--db", missing, "check"]);
      expect(result).to.deep.include({ status: 1, stderr: `error: there is no database at ${missing}\n` });
      expect(existsSync(missing)).to.equal(false);
    });
  });
});
