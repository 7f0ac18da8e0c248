import { expect } from "chai";
import { createLoginNameHash } from "../../src/security/keyed-hash.js";
import { TEST_SESSION_SECRET } from "../support/world.js";
import { buildCliWorld, type CliWorld } from "./cli-world.js";

describe("admin CLI: locks and unlocks", () => {
  let world: CliWorld;
  beforeEach(async () => { world = await buildCliWorld(); });
  afterEach(() => world.close());

  /** The state the throttle leaves after 100 consecutive failures. */
  function givenLocked(scope: "login" | "contract", key: string) {
    world.db.prepare("INSERT INTO throttle_counters (scope, key, failures, window_start, blocked_until, locked, touched_at) VALUES (?, ?, 100, 0, 0, 1, 0)").run(scope, key);
  }

  it("when a login and a contract number are locked, then locks lists both and unlocking each clears it, audited", async () => {
    givenLocked("login", "mutsu-tanaka");
    givenLocked("contract", "02208-000001/022080");
    const listed = await world.run(["locks"]);
    expect(listed.status).to.equal(0);
    expect(listed.stdout).to.contain("mutsu-tanaka").and.contain("02208-000001");
    const login = await world.run(["officer", "unlock", "Mutsu-Tanaka"]);
    expect(login).to.deep.include({ status: 0 });
    expect(login.stdout).to.contain("login mutsu-tanaka unlocked (was locked, 100 failure(s) forgotten)");
    const key = await world.run(["key", "unlock", "０２２０８－００００01"]);
    expect(key.stdout).to.contain("contract number 02208-000001 unlocked");
    expect((await world.run(["locks"])).stdout).to.equal("nothing is locked\n");
    const events = world.db.prepare("SELECT event, actor FROM audit_events WHERE event IN ('authn_login_unlock', 'key_unlock') ORDER BY id").all();
    expect(events).to.have.length(2);
  });

  it("when the contract number is malformed, then unlock refuses with exit 1 and changes nothing", async () => {
    givenLocked("contract", "02208-000001/022080");
    const state = () => ({
      counters: world.db.prepare("SELECT * FROM throttle_counters ORDER BY scope, key").all(),
      audit: world.db.prepare("SELECT * FROM audit_events ORDER BY id").all(),
    });
    const before = state();
    const res = await world.run(["key", "unlock", "12-34"]);
    expect(res.status).to.equal(1);
    expect(res.stderr).to.contain("contractNumber");
    expect(res.stdout).not.to.contain("unlocked");
    expect(state()).to.deep.equal(before);
    expect((await world.run(["locks"])).stdout).to.contain("02208-000001");
  });

  it("when a login id that names no officer is locked, then `officer unlock` finds its keyed hash with the service's SESSION_SECRET, and without it says what it needs and changes nothing", async () => {
    const hashed = createLoginNameHash(TEST_SESSION_SECRET)("no-such-officer");
    givenLocked("login", hashed);
    const without = await world.run(["officer", "unlock", "No-Such-Officer"], { env: {} }); // NODE_ENV unset: production, no built-in secret
    expect(without.status).to.equal(1);
    expect(without.stderr).to.contain("login").and.contain("SESSION_SECRET");
    expect((await world.run(["locks"])).stdout).to.contain(hashed);
    const withSecret = await world.run(["officer", "unlock", "No-Such-Officer"], { env: { NODE_ENV: "test", SESSION_SECRET: TEST_SESSION_SECRET } });
    expect(withSecret).to.deep.include({ status: 0 });
    expect(withSecret.stdout).to.contain("login no-such-officer unlocked (was locked, 100 failure(s) forgotten)");
    expect((await world.run(["locks"])).stdout).to.equal("nothing is locked\n");
  });
});
