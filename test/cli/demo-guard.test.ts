import { expect } from "chai";
import { buildCliWorld, givenRegistry, type CliWorld } from "./cli-world.js";

describe("admin CLI: the demo stays off real databases", () => {
  let world: CliWorld;
  beforeEach(async () => { world = await buildCliWorld(); });
  afterEach(() => world.close());

  it("when NODE_ENV=production, then demo refuses and writes nothing", async () => {
    const res = await world.run(["demo"], { env: { NODE_ENV: "production", SESSION_SECRET: "x".repeat(40) } });
    expect(res.status).to.equal(1);
    expect(res.stderr).to.contain("NODE_ENV=production");
    expect(world.count("officers")).to.equal(0);
  });

  it("when the database holds a real officer, then demo refuses and changes nothing", async () => {
    await givenRegistry(world);
    const added = await world.run(["officer", "add", "--orderer", "022080", "--login", "mutsu-tanaka", "--name", "田中 一郎"]);
    expect(added.status, added.stderr).to.equal(0);
    const auditBefore = world.count("audit_events");
    const res = await world.run(["demo"]);
    expect(res.status).to.equal(1);
    expect(res.stderr).to.contain("officer mutsu-tanaka");
    expect(world.count("officers")).to.equal(1);
    expect(world.count("audit_events")).to.equal(auditBefore);
  });
});
