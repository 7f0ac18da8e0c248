import { expect } from "chai";
import { buildCliWorld, type CliWorld } from "./cli-world.js";

const SECRET = "cli-client-secret-0123456789abcdef";

describe("admin CLI: orderer sso", () => {
  let world: CliWorld;
  beforeEach(async () => {
    world = await buildCliWorld();
    // The CLI seals with the .pub beside WEBHOOK_KEY_FILE, as the service creates it at its first start.
    const { loadOrCreateSealingKey } = await import("../../src/security/sealed-box.js");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(`${world.dir}/keys`, { mode: 0o700 });
    loadOrCreateSealingKey(`${world.dir}/keys/webhook-key.pem`);
    expect((await world.run(["orderer", "add", "--code", "022080", "--name", "むつ市"])).status).to.equal(0);
  });
  afterEach(() => world.close());
  const env = () => ({ NODE_ENV: "test", WEBHOOK_KEY_FILE: `${world.dir}/keys/webhook-key.pem` });

  it("when an orderer's provider is set with the secret on stdin, then it is stored sealed, shown without the secret, audited without it, and removable", async () => {
    const set = await world.run(["orderer", "sso", "022080", "--issuer", "https://login.city.mutsu.lg.jp/realms/staff", "--client-id", "kakunin", "--client-secret-stdin", "--domain", "city.mutsu.lg.jp"], { stdin: `${SECRET}\n`, env: env() });
    expect(set.status, set.stderr).to.equal(0);
    expect(set.stdout).to.include("login claim:      email").and.include("create accounts:  off").and.not.include(SECRET);
    expect(set.stderr).to.include("/login/sso/callback");
    const row = world.db.prepare("SELECT * FROM orderer_sso").get() as Record<string, unknown>;
    expect(JSON.stringify(row)).not.to.include(SECRET);
    expect(JSON.stringify(world.db.prepare("SELECT * FROM audit_events").all())).not.to.include(SECRET);

    const switched = await world.run(["orderer", "sso", "022080", "--provider-mfa", "--create-accounts"], { env: env() });
    expect(switched.status, switched.stderr).to.equal(0);
    const shown = await world.run(["orderer", "sso", "022080", "--show"], { env: env() });
    expect(shown.stdout).to.include("provider MFA:     on").and.include("create accounts:  on").and.include("city.mutsu.lg.jp").and.not.include(SECRET);
    expect((world.db.prepare("SELECT client_secret_sealed FROM orderer_sso").get() as { client_secret_sealed: string }).client_secret_sealed).to.equal(row.client_secret_sealed);

    expect((await world.run(["orderer", "sso", "022080", "--remove"], { env: env() })).status).to.equal(0);
    expect(world.count("orderer_sso")).to.equal(0);
    const events = world.db.prepare("SELECT event FROM audit_events WHERE event LIKE 'orderer_sso%' ORDER BY id").all().map((r) => (r as { event: string }).event);
    expect(events).to.deep.equal(["orderer_sso_set", "orderer_sso_set", "orderer_sso_remove"]);
  });

  it("when the input is bad, then each problem names its field and nothing is stored", async () => {
    const bad = await world.run(["orderer", "sso", "022080", "--issuer", "http://login.example.jp", "--client-id", "has space", "--login-claim", "bad claim!", "--client-secret-stdin"], { stdin: "x\n", env: env() });
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.include("issuer: must be https://").and.include("client-id:").and.include("login-claim:");
    const missing = await world.run(["orderer", "sso", "022080", "--issuer", "https://login.example.jp"], { env: env() });
    expect(missing.stderr).to.include("client-id: is required").and.include("client-secret: is required");
    const production = await world.run(["orderer", "sso", "022080", "--issuer", "http://127.0.0.1:8080", "--client-id", "k", "--client-secret-stdin"], {
      stdin: "s\n", env: { ...env(), NODE_ENV: "production", SESSION_SECRET: "a-production-session-secret-0123456789" },
    });
    expect(production.stderr).to.include("issuer: must be https:// in production");
    expect(world.count("orderer_sso")).to.equal(0);
    const unknown = await world.run(["orderer", "sso", "131016", "--show"], { env: env() });
    expect(unknown.status).to.equal(1);
    expect(unknown.stderr).to.include("orderer:");
  });

  it("when an officer's provider account was recreated, then officer sso-unlink forgets their subject (audited) and an unknown login names its field", async () => {
    await world.run(["orderer", "sso", "022080", "--issuer", "https://login.city.mutsu.lg.jp/realms/staff", "--client-id", "kakunin", "--client-secret-stdin"], { stdin: `${SECRET}\n`, env: env() });
    expect((await world.run(["officer", "add", "--orderer", "022080", "--login", "tanaka@city.mutsu.lg.jp", "--name", "田中 一郎"])).status).to.equal(0);
    // As the first sign-in through the provider leaves it (test/sso/sso-hardening.web.test.ts signs in for real).
    world.db.prepare("INSERT INTO sso_subjects (officer_id, orderer_id, issuer, subject, linked_at) SELECT o.id, o.orderer_id, s.issuer, 'old-subject', '2026-04-01T00:00:00Z' FROM officers o JOIN orderer_sso s ON s.orderer_id = o.orderer_id").run();
    const unlinked = await world.run(["officer", "sso-unlink", "Tanaka@city.mutsu.lg.jp"], { env: env() });
    expect(unlinked.status, unlinked.stderr).to.equal(0);
    expect(unlinked.stdout).to.include("tanaka@city.mutsu.lg.jp is no longer tied");
    expect(world.count("sso_subjects")).to.equal(0);
    const again = await world.run(["officer", "sso-unlink", "tanaka@city.mutsu.lg.jp"], { env: env() });
    expect(again.stdout).to.include("was not tied");
    const rows = world.db.prepare("SELECT outcome, detail FROM audit_events WHERE event = 'officer_sso_unlink' ORDER BY id").all() as { outcome: string; detail: string }[];
    expect(rows.map((r) => r.outcome)).to.deep.equal(["ok", "nothing-to-unlink"]);
    expect(JSON.parse(rows[0]!.detail)).to.include({ subject: "old-subject" });
    const unknown = await world.run(["officer", "sso-unlink", "nobody@city.mutsu.lg.jp"], { env: env() });
    expect(unknown.status).to.equal(1);
    expect(unknown.stderr).to.include("login: no officer nobody@city.mutsu.lg.jp");
  });
});
