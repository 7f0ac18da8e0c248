import { expect } from "chai";
import { commitUnsynced } from "../../src/db/database.js";
import { PRODUCTION_LIMITS } from "../../src/config.js";
import { buildWorld, type World } from "../support/world.js";

describe("unsynced commits", () => {
  let world: World;
  beforeEach(async () => {
    world = await buildWorld();
    world.db.exec("CREATE TABLE notes (text TEXT NOT NULL UNIQUE)");
  });
  afterEach(() => world.close());
  const synchronous = () => world.db.pragma("synchronous", { simple: true });
  const notes = () => world.db.prepare("SELECT text FROM notes ORDER BY text").pluck().all();

  it("when a transaction is committed unsynced, then only it skips the fsync: FULL is back afterwards, even after it failed and rolled back", () => {
    const insert = world.db.prepare("INSERT INTO notes (text) VALUES (?)");
    const note = world.db.transaction((text: string) => { insert.run(text); return synchronous(); });
    expect(synchronous()).to.equal(2);
    expect(commitUnsynced(world.db, note, "a")).to.equal(1);
    expect(synchronous()).to.equal(2);
    expect(() => commitUnsynced(world.db, note, "a")).to.throw(/UNIQUE/);
    expect(synchronous()).to.equal(2);
    expect(world.db.inTransaction).to.equal(false);
    expect(notes()).to.deep.equal(["a"]);
  });

  it("when it runs inside an open transaction, then it joins it and the outer commit decides, synced", () => {
    const insert = world.db.prepare("INSERT INTO notes (text) VALUES (?)");
    const inner = world.db.transaction((text: string) => { insert.run(text); return synchronous(); });
    const outer = world.db.transaction(() => { insert.run("outer"); return commitUnsynced(world.db, inner, "inner"); });
    expect(outer.immediate()).to.equal(2);
    expect(notes()).to.deep.equal(["inner", "outer"]);
    expect(synchronous()).to.equal(2);
  });

  it("when a throttle reserves an attempt, then that commit is unsynced; settling it is synced", () => {
    const levels: string[] = [];
    const exec = world.db.exec.bind(world.db);
    world.db.exec = (sql: string) => { levels.push(sql); return exec(sql); };
    const throttle = world.services.attempts;
    const attempt = throttle.reserve([{ scope: "officer", key: "1", policy: PRODUCTION_LIMITS.officer }]);
    expect(levels).to.deep.equal(["PRAGMA synchronous = NORMAL", "PRAGMA synchronous = 2"]);
    if (!attempt.allowed) throw new Error("refused");
    attempt.succeeded();
    expect(levels).to.have.length(2);
    expect(synchronous()).to.equal(2);
  });
});
