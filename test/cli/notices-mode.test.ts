import { expect } from "chai";
import { chmodSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { buildCliWorld, givenIssued, givenRegistry, sampleCertificate, type CliWorld } from "./cli-world.js";

describe("admin CLI: notices stay private", () => {
  let world: CliWorld;
  beforeEach(async () => {
    world = await buildCliWorld();
    await givenRegistry(world);
    await givenIssued(world, [sampleCertificate({ contractNumber: "02208-000001" })]);
  });
  afterEach(() => world.close());

  it("when rotate-key writes over an old notice that others could read, then the new notice is private", async () => {
    const dir = path.join(world.dir, "private");
    mkdirSync(dir, { mode: 0o700 });
    const old = path.join(dir, "02208-000001.html");
    writeFileSync(old, "old notice");
    chmodSync(old, 0o644);
    const res = await world.run(["rotate-key", "02208-000001", "--notices", dir]);
    expect(res.status, res.stderr).to.equal(0);
    expect(statSync(old).mode & 0o777).to.equal(0o600);
  });

  it("when the notices folder can be read by others, then nothing is done and the folder is named", async () => {
    const dir = path.join(world.dir, "shared");
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    const before = world.db.prepare("SELECT auth_key_hash FROM guarantees").get();
    const res = await world.run(["rotate-key", "02208-000001", "--notices", dir]);
    expect(res.status).to.equal(1);
    expect(res.stderr).to.contain("can be read by others");
    expect(world.db.prepare("SELECT auth_key_hash FROM guarantees").get()).to.deep.equal(before);
  });
});
