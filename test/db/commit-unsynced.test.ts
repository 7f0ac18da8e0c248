import { expect } from "chai";
import { commitUnsynced } from "../../src/db/database.js";
import { createAttemptThrottle } from "../../src/security/attempt-throttle.js";
import { PRODUCTION_LIMITS } from "../../src/config.js";
import { buildWorld, type World } from "../support/world.js";

describe("unsynced commits", () => {
  let world: World;
  beforeEach(async () => { world = await buildWorld(); });
  afterEach(() => world.close());
  const synchronous = () => world.db.pragma("synchronous", { simple: true });

  it("when a commit is made unsynced, then only it skips the fsync: FULL is back afterwards, even after a failure", () => {
    expect(synchronous()).to.equal(2);
    expect(commitUnsynced(world.db, () => synchronous())).to.equal(1);
    expect(synchronous()).to.equal(2);
    expect(() => commitUnsynced(world.db, () => { throw new Error("boom"); })).to.throw("boom");
    expect(synchronous()).to.equal(2);
  });

  it("when a throttle reserves an attempt, then that commit is unsynced; settling it is synced", () => {
    const levels: string[] = [];
    const exec = world.db.exec.bind(world.db);
    world.db.exec = (sql: string) => { levels.push(sql); return exec(sql); };
    const throttle = createAttemptThrottle(world.db, world.clock);
    const attempt = throttle.reserve([{ scope: "officer", key: "1", policy: PRODUCTION_LIMITS.officer }]);
    expect(levels).to.deep.equal(["PRAGMA synchronous = NORMAL", "PRAGMA synchronous = FULL"]);
    if (!attempt.allowed) throw new Error("refused");
    attempt.failed();
    expect(levels).to.have.length(2);
    expect(synchronous()).to.equal(2);
  });
});
