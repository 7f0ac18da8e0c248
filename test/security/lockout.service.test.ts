import { expect } from "chai";
import { PRODUCTION_LIMITS } from "../../src/config.js";
import { buildWorld, type World } from "../support/world.js";

describe("security: the lockout service (for the admin CLI)", () => {
  let world: World;
  beforeEach(async () => { world = await buildWorld(); });
  afterEach(() => world.close());

  function lock(scope: "login" | "contract", key: string) {
    const throttle = world.services.attempts;
    const policy = PRODUCTION_LIMITS[scope];
    for (let failures = 0; failures < 100;) {
      const attempt = throttle.reserve([{ scope, key, policy }]);
      if (attempt.allowed) { attempt.failed(); failures++; } else world.clock.advance(attempt.retryAfterSeconds * 1000);
    }
  }

  it("when logins and numbers are locked, then they are listed, and unlocking one (typed any way) frees only it and is audited", () => {
    lock("login", "mutsu-tanaka");
    lock("login", "nobody");
    lock("contract", "02208-000001/022080");
    const lockouts = world.services.lockouts;
    expect(lockouts.listLocked()).to.deep.equal({
      logins: [{ key: "mutsu-tanaka", failures: 100 }, { key: "nobody", failures: 100 }],
      contracts: [{ key: "02208-000001/022080", failures: 100 }],
    });
    expect(lockouts.unlockLogin(" Ｍｕｔｓｕ-Tanaka ", "admin-sato")).to.deep.equal({ ok: true, value: { key: "mutsu-tanaka", wasThrottled: true, failures: 100, locked: true } });
    expect(lockouts.unlockContract("02208ー000001", "admin-sato").ok).to.equal(true);
    expect(lockouts.listLocked()).to.deep.equal({ logins: [{ key: "nobody", failures: 100 }], contracts: [] });
    const rows = world.db.prepare("SELECT event, outcome, actor_kind, actor, contract_number FROM audit_events WHERE actor = 'admin-sato' ORDER BY id").all();
    expect(rows).to.deep.equal([
      { event: "authn_login_unlock", outcome: "ok", actor_kind: "admin", actor: "admin-sato", contract_number: null },
      { event: "key_unlock", outcome: "ok", actor_kind: "admin", actor: "admin-sato", contract_number: "02208-000001" },
    ]);
  });

  it("when there is nothing to unlock, then it says so and still audits the request; nonsense is refused", () => {
    const lockouts = world.services.lockouts;
    expect(lockouts.unlockLogin("mutsu-tanaka", "admin")).to.deep.equal({ ok: true, value: { key: "mutsu-tanaka", wasThrottled: false, failures: 0, locked: false } });
    expect(lockouts.unlockAddress("192.0.2.7", "admin").ok).to.equal(true);
    expect(world.db.prepare("SELECT outcome FROM audit_events WHERE event = 'authn_login_unlock'").get()).to.deep.equal({ outcome: "nothing-to-unlock" });
    expect(lockouts.unlockContract("1234-56789", "admin").ok).to.equal(false);
    expect(lockouts.unlockLogin("", "admin").ok).to.equal(false);
    expect(lockouts.unlockAddress("x".repeat(65), "admin").ok).to.equal(false);
  });
});
