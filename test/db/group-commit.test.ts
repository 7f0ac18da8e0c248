import { expect } from "chai";
import { openMigratedDatabase } from "../../src/db/database.js";
import { createGroupCommit } from "../../src/db/group-commit.js";

describe("group commit", () => {
  it("when writes are queued in one turn, then they commit in one transaction and a failing one undoes only itself", async () => {
    const db = openMigratedDatabase(":memory:");
    db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE)");
    const insert = db.prepare("INSERT INTO notes (text) VALUES (?)");
    const commits = createGroupCommit(db);
    const outcomes = await Promise.allSettled([
      commits.write(() => void insert.run("a")),
      commits.write(() => { insert.run("b"); insert.run("a"); }),
      commits.write(() => void insert.run("c")),
    ]);
    expect(outcomes.map((o) => o.status)).to.deep.equal(["fulfilled", "rejected", "fulfilled"]);
    expect(db.prepare("SELECT text FROM notes ORDER BY id").all()).to.deep.equal([{ text: "a" }, { text: "c" }]);
    db.close();
  });
});
