import { expect } from "chai";
import request from "supertest";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createServices } from "../../src/composition.js";
import { createLogger } from "../../src/logger.js";
import { loadOrCreateSealingKey } from "../../src/security/sealed-box.js";
import { webhookKeysOf } from "../../src/composition.js";
import { givenOfficer } from "../support/given.js";
import { submitCode, submitPassword, totpCode } from "../support/mfa.js";
import { TEST_SESSION_SECRET } from "../support/world.js";
import { buildCliWorld, type CliWorld } from "./cli-world.js";

const auditRows = (world: CliWorld, event: string) =>
  world.db.prepare("SELECT outcome, actor, actor_kind AS actorKind, officer_id AS officerId, detail FROM audit_events WHERE event = ? ORDER BY id").all(event) as Array<Record<string, unknown>>;

describe("admin CLI: the second factor", () => {
  let world: CliWorld;
  beforeEach(async () => { world = await buildCliWorld(); });
  afterEach(() => world.close());

  it("when 'orderer mfa 022080 --require' and then '--no-require' are run, then the orderer's setting follows, each change audited; without a flag it is a usage error", async () => {
    await givenOfficer(world);
    const on = await world.run(["orderer", "mfa", "022080", "--require"]);
    expect(on).to.deep.include({ status: 0, stdout: "orderer 022080 むつ市 requires a second factor of all its officers\n" });
    expect(world.services.officers.findByLogin("mutsu-tanaka")!.ordererRequiresSecondFactor).to.equal(true);
    const off = await world.run(["orderer", "mfa", "022080", "--no-require"]);
    expect(off.status).to.equal(0);
    expect(world.services.orderers.findByCode("022080")!.mfaRequired).to.equal(false);
    expect(auditRows(world, "orderer_mfa_change").map((r) => [r.outcome, r.actor])).to.deep.equal([["required", "test-admin"], ["optional", "test-admin"]]);
    expect((await world.run(["orderer", "mfa", "022080"])).status).to.equal(2);
    const unknown = await world.run(["orderer", "mfa", "131016", "--require"]);
    expect(unknown).to.deep.include({ status: 1, stderr: "error: code: no orderer 131016 is registered\n" });
  });

  it("when 'officer mfa-reset LOGIN' is run, then the factor and recovery codes are gone, the officer's sessions end, the reset is audited with who did it, and 'officer list' shows it", async () => {
    const { officer } = await givenOfficer(world);
    world.services.secondFactors.provision(officer, "test");
    const listed = await world.run(["officer", "list"]);
    expect(listed.stdout).to.match(/second factor/);
    expect(listed.stdout).to.match(/mutsu-tanaka .* enrolled /);
    world.repositories.sessions.set("sid-1", { officerId: officer.id, data: "{}", expiresAt: world.clock.now().getTime() + 60_000, clientAddress: null, nowMs: world.clock.now().getTime() });

    const reset = await world.run(["officer", "mfa-reset", "mutsu-tanaka"]);
    expect(reset).to.deep.include({ status: 0, stdout: "second factor of mutsu-tanaka reset; 1 session(s) ended\n" });
    expect(world.services.officers.findByLogin("mutsu-tanaka")!.secondFactorEnrolled).to.equal(false);
    expect(world.count("second_factors")).to.equal(0);
    expect(world.count("recovery_codes")).to.equal(0);
    expect(world.repositories.sessions.get("sid-1", world.clock.now().getTime())).to.equal(undefined);
    const [row] = auditRows(world, "mfa_reset");
    expect(row).to.deep.include({ outcome: "ok", actor: "test-admin", actorKind: "admin", officerId: officer.id });
    expect((await world.run(["officer", "list"])).stdout).to.match(/mutsu-tanaka .* no /);
    expect((await world.run(["officer", "mfa-reset", "nobody"])).status).to.equal(1);
  });

  it("when the demo is seeded, then its administrator of むつ市 has a second factor and logs in with the printed password and a code of the printed secret", async () => {
    const seeded = await world.run(["demo"]);
    expect(seeded.status).to.equal(0);
    const login = /Administrator[^\n]*\n\s+login:\s+(\S+)\n\s+password:\s+(\S+)\n\s+TOTP secret:\s+([A-Z2-7]+)/.exec(seeded.stdout);
    expect(login, seeded.stdout).to.not.equal(null);
    const [, adminLogin, password, secret] = login!;
    expect(adminLogin).to.equal("mutsu-admin");
    const admin = world.services.officers.findByLogin(adminLogin!)!;
    expect(admin).to.include({ role: "admin", secondFactorEnrolled: true, ordererCode: "022080" });

    // The service as it starts: the key the demo made beside the database opens the sealed secret.
    const key = loadOrCreateSealingKey(`${world.dir}/webhook-key.pem`);
    if (!key.ok) throw new Error(key.problem);
    expect(key.created, "the demo made the key").to.equal(false);
    const config = loadConfig({ NODE_ENV: "test", SESSION_SECRET: TEST_SESSION_SECRET });
    const services = createServices({ db: world.db, clock: world.clock, hasher: world.hasher, webhooks: { policy: { production: false, allowedHosts: [] }, keys: webhookKeysOf(key) } });
    const app = createApp({ config, services, clock: world.clock, logger: createLogger({ level: "silent" }) });
    try {
      const agent = request.agent(app);
      expect((await submitPassword(agent, adminLogin!, password!)).headers.location).to.equal("/login/mfa");
      expect((await submitCode(agent, totpCode(secret!, world.clock))).headers.location).to.equal("/verify");
      expect((await agent.get("/verify")).status).to.equal(200);
    } finally {
      app.close();
    }
  });
});
