import { expect } from "chai";
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { checkAtStartup, openDatabase, openMigratedDatabase, type Db } from "../../src/db/database.js";

/**
 * The start-up check (DB-05) reads the whole file only while it is small: on a national database
 * quick_check takes minutes, so above 256 MB the start reads every table's first and last row.
 */
describe("database check at start-up", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "kakunin-startup-check-"));
    file = path.join(dir, "kakunin.sqlite");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A migrated database with a few thousand audit-like rows in a table of its own, closed (checkpointed). */
  function givenDatabaseWithRows(): void {
    const db = openMigratedDatabase(file);
    db.exec("CREATE TABLE filler (id INTEGER PRIMARY KEY, text TEXT NOT NULL)");
    const insert = db.prepare("INSERT INTO filler (text) VALUES (?)");
    db.transaction(() => { for (let i = 0; i < 5_000; i++) insert.run(`row ${i} ${"x".repeat(200)}`); })();
    db.close();
  }

  const withDatabase = <T>(fn: (db: Db) => T): T => {
    const db = openDatabase(file, { mustExist: true });
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };

  it("when the file is small, then quick_check reads all of it and passes", () => {
    givenDatabaseWithRows();
    expect(withDatabase((db) => checkAtStartup(db))).to.deep.equal({ finding: "ok", full: true });
  });

  it("when the file is above the limit, then the light check passes on a sound file without quick_check", () => {
    givenDatabaseWithRows();
    expect(withDatabase((db) => checkAtStartup(db, 0))).to.deep.equal({ finding: "ok", full: false });
  });

  it("when the end of a large file was overwritten, then the light check names the damage instead of starting", () => {
    givenDatabaseWithRows();
    const fd = openSync(file, "r+");
    try {
      // The last pages hold the newest rows of the table written last.
      const size = statSync(file).size;
      writeSync(fd, Buffer.alloc(16 * 4096, 0xa5), 0, 16 * 4096, size - 16 * 4096);
    } finally {
      closeSync(fd);
    }
    const check = withDatabase((db) => checkAtStartup(db, 0));
    expect(check.full).to.equal(false);
    expect(check.finding).to.match(/malformed|corrupt|disk image/i);
  });
});
