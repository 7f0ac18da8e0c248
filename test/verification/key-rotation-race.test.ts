import { expect } from "chai";
import type { Hasher } from "../../src/security/hasher.js";
import { createServices } from "../../src/composition.js";
import { givenGuarantee, givenOfficer } from "../support/given.js";
import { buildWorld, type World } from "../support/world.js";
import { officerActor } from "../../src/verification/verification.service.js";

describe("verification while a key is rotated", () => {
  let world: World;
  beforeEach(async () => { world = await buildWorld(); });
  afterEach(() => world.close());

  it("when rotate-key commits while the old key's argon2 check is running, then the old key opens nothing", async () => {
    const { officer } = await givenOfficer(world);
    const issued = await givenGuarantee(world);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let started!: () => void;
    const running = new Promise<void>((resolve) => { started = resolve; });
    const gated: Hasher = {
      ...world.hasher,
      async verify(hash, secret) {
        const result = world.hasher.verify(hash, secret);
        started();
        await gate;
        return result;
      },
    };
    const { verification } = createServices({ db: world.db, clock: world.clock, hasher: gated });
    const attempt = verification.verify({ actor: officerActor(officer), contractNumber: issued.contractNumber, authKey: issued.authKey, clientAddress: "192.0.2.1" });
    await running;
    const rotated = await world.services.guarantees.rotateKey(issued.contractNumber, "test");
    expect(rotated.ok).to.equal(true);
    release();
    const result = await attempt;
    expect(result).to.deep.equal({ ok: false, reason: "wrong-key" });
    expect(world.db.prepare("SELECT count(*) AS n FROM orderer_guarantees").get()).to.deep.equal({ n: 0 });
  });
});
