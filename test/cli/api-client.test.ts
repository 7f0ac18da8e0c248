import { expect } from "chai";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { main } from "../../scripts/admin.js";
import { createAuditRepository } from "../../src/audit/audit.repository.js";
import { migrate, openDatabase } from "../../src/db/database.js";
import { migrationsDir } from "../../src/paths.js";
import { givenOrderer } from "../support/given.js";
import { buildCliWorld, type CliWorld } from "./cli-world.js";

describe("admin api-client", () => {
  let w: CliWorld;
  beforeEach(async () => { w = await buildCliWorld(); givenOrderer(w); });
  afterEach(() => w.close());

  it("when a client is added, then its id and secret are printed once, only the secret's SHA-256 is stored, and the addition is audited", async () => {
    const added = await w.run(["api-client", "add", "--orderer", "022080", "--name", "契約管理システム", "--json"]);
    expect(added.status, added.stderr).to.equal(0);
    const printed = JSON.parse(added.stdout) as { client_id: string; client_secret: string; orderer: string; name: string };
    expect(printed.client_id).to.match(/^kc_[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(printed.client_secret, "base64url")).to.have.length(32);
    expect(printed).to.include({ orderer: "022080", name: "契約管理システム" });
    const row = w.db.prepare("SELECT * FROM api_clients").get() as Record<string, unknown>;
    expect(JSON.stringify(row)).not.to.include(printed.client_secret);
    expect(row.secret_hash).to.equal(createHash("sha256").update(printed.client_secret).digest("hex"));
    const audit = w.db.prepare("SELECT actor_kind, actor, orderer_code, detail FROM audit_events WHERE event = 'api_client_add'").all() as { detail: string }[];
    expect(audit).to.have.length(1);
    expect(audit[0]!.detail).not.to.include(printed.client_secret);

    const list = await w.run(["api-client", "list"]);
    expect(list.stdout).to.include(printed.client_id).and.include("active").and.not.include(printed.client_secret);
  });

  it("when a client is disabled, enabled and its secret rotated, then the list says so, each step is audited, and the old secret no longer authenticates", async () => {
    const added = JSON.parse((await w.run(["api-client", "add", "--orderer", "022080", "--name", "会計", "--json"])).stdout) as { client_id: string; client_secret: string };
    expect((await w.run(["api-client", "disable", added.client_id])).stdout).to.include("disabled");
    expect((await w.run(["api-client", "list", "--orderer", "022080"])).stdout).to.include("disabled");
    expect(w.services.apiClients.authenticate(added.client_id, added.client_secret, "192.0.2.1")).to.deep.equal({ ok: false, reason: "invalid-client" });
    expect((await w.run(["api-client", "enable", added.client_id])).stdout).to.include("enabled");
    const rotated = await w.run(["api-client", "rotate-secret", added.client_id]);
    expect(rotated.status).to.equal(0);
    const secret = /client_secret: (\S+)/.exec(rotated.stdout)![1]!;
    expect(secret).not.to.equal(added.client_secret);
    expect(w.services.apiClients.authenticate(added.client_id, added.client_secret, "192.0.2.1").ok).to.equal(false);
    expect(w.services.apiClients.authenticate(added.client_id, secret, "192.0.2.1").ok).to.equal(true);
    const events = (w.db.prepare("SELECT event FROM audit_events WHERE event LIKE 'api_client_%' ORDER BY id").all() as { event: string }[]).map((r) => r.event);
    expect(events).to.deep.equal(["api_client_add", "api_client_disable", "api_client_enable", "api_client_rotate_secret"]);
  });

  it("when the orderer, the name or the client id is wrong, then exit 1 with the field named, and nothing is added", async () => {
    const unknown = await w.run(["api-client", "add", "--orderer", "012025", "--name", "x"]);
    expect([unknown.status, unknown.stderr]).to.deep.equal([1, "error: orderer: no orderer 012025 is registered\n"]);
    const badCode = await w.run(["api-client", "add", "--orderer", "02208", "--name", "x"]);
    expect(badCode.status).to.equal(1);
    expect(badCode.stderr).to.match(/^error: orderer: must be the 6-digit/);
    const blank = await w.run(["api-client", "add", "--orderer", "022080", "--name", "  "]);
    expect([blank.status, blank.stderr]).to.deep.equal([1, "error: name: must be 1-100 characters\n"]);
    const noSuch = await w.run(["api-client", "disable", "kc_nothing"]);
    expect([noSuch.status, noSuch.stderr]).to.deep.equal([1, "error: client-id: no API client kc_nothing\n"]);
    expect(w.count("api_clients")).to.equal(0);
  });
});

describe("migration api-clients (audit actor api-client)", () => {
  let w: CliWorld;
  beforeEach(async () => { w = await buildCliWorld(); });
  afterEach(() => w.close());

  it("when a database with audit rows written before 007 is migrated, then `audit verify` still passes and an api-client row can follow", async () => {
    // Every migration before this one, whatever number it has after a merge.
    const own = readdirSync(migrationsDir).find((n) => n.endsWith("-api-clients.sql"))!;
    const before = path.join(w.dir, "migrations-before");
    mkdirSync(before);
    for (const name of readdirSync(migrationsDir).filter((n) => n < own)) cpSync(path.join(migrationsDir, name), path.join(before, name));
    const file = path.join(w.dir, "old.sqlite");
    const db = openDatabase(file);
    migrate(db, before);
    expect(db.pragma("user_version", { simple: true })).to.equal(Number(own.slice(0, 3)) - 1);
    const audit = createAuditRepository(db);
    for (let i = 0; i < 5; i++) {
      db.transaction(() => audit.append({ event: "orderer_add", outcome: "ok", actorKind: i % 2 ? "admin" : "system", actor: `a${i}`, detail: { i } }, new Date(Date.UTC(2026, 0, 1 + i)))).immediate();
    }
    const rows = db.prepare("SELECT * FROM audit_events ORDER BY id").all();
    migrate(db);
    expect(db.prepare("SELECT * FROM audit_events ORDER BY id").all()).to.deep.equal(rows);
    expect(() => db.prepare("DELETE FROM audit_events WHERE id = 1").run()).to.throw(/append-only/);
    expect(() => db.prepare("UPDATE audit_events SET actor = 'x' WHERE id = 1").run()).to.throw(/append-only/);
    db.transaction(() => audit.append({ event: "api_token_issue", outcome: "ok", actorKind: "api-client", actor: "kc_x" }, new Date())).immediate();
    db.close();
    const out: string[] = [];
    const status = await main(["--db", file, "audit", "verify"], {
      stdout: { write: (s: string) => void out.push(s) }, stderr: { write: (s: string) => void out.push(s) }, clock: w.clock, hasher: w.hasher, env: {}, actor: "t",
    });
    expect([status, out.join("")]).to.deep.equal([0, "audit trail OK: 6 row(s), chain intact, 0 signed checkpoint(s)\n"]);
  });
});
