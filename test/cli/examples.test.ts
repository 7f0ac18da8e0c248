import { expect } from "chai";
import path from "node:path";
import { projectRoot } from "../../src/paths.js";
import { buildCliWorld, givenRegistry, type CliWorld } from "./cli-world.js";

const example = (name: string) => path.join(projectRoot, "docs", "examples", name);

describe("admin CLI: the README's example files", () => {
  let world: CliWorld;
  beforeEach(async () => {
    world = await buildCliWorld();
    await givenRegistry(world);
  });
  afterEach(() => world.close());

  it("when the example JSON and CSV are issued and the example amendment applied, then all succeed as the README says", async () => {
    const json = await world.run(["issue", example("certificates.json"), "--json"]);
    expect(json.status, json.stderr).to.equal(0);
    const csv = await world.run(["issue", example("certificates.csv"), "--json"]);
    expect(csv.status, csv.stderr).to.equal(0);
    const numbers = [...json.stdout.trim().split("\n"), ...csv.stdout.trim().split("\n")].map((l) => JSON.parse(l).contractNumber);
    expect(numbers).to.deep.equal(["02208-100001", "02208-100002", "02208-100011", "02208-100012"]);
    const amend = await world.run(["amend", "02208-100001", example("amendment.json")]);
    expect(amend.status, amend.stderr).to.equal(0);
    expect(amend.stdout).to.contain("変更-1");
  });
});
