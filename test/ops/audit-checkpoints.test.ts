import Database from "better-sqlite3";
import { expect } from "chai";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { chainHash, createAuditRepository } from "../../src/audit/audit.repository.js";
import { loadOrCreateSigningKey, type CheckpointSigner } from "../../src/audit/signing-key.js";
import { buildCliWorld, givenIssued, givenRegistry, sampleCertificate, type CliWorld } from "../cli/cli-world.js";

/** A second connection to the file, as an admin with group write access would open it. */
function asAdmin<T>(world: CliWorld, fn: (raw: Database.Database) => T): T {
  const raw = new Database(world.databasePath);
  try {
    return fn(raw);
  } finally {
    raw.close();
  }
}

/** Drops a trigger, runs the edit, and puts the trigger back exactly as it was: what a careful forger does. */
function withoutTrigger(raw: Database.Database, names: string[], edit: () => void): void {
  const sql = names.map((name) => raw.prepare("SELECT sql FROM sqlite_master WHERE name = ?").pluck().get(name) as string);
  for (const name of names) raw.exec(`DROP TRIGGER ${name}`);
  edit();
  for (const statement of sql) raw.exec(statement);
}

/** Rewrites every row's prev_hash and hash from the first one on, with the project's own function. */
function recomputeChain(raw: Database.Database): void {
  let prev = "0".repeat(64);
  const update = raw.prepare("UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?");
  for (const row of [...createAuditRepository(raw).iterate()]) {
    const hash = chainHash(prev, row);
    update.run(prev, hash, row.id);
    prev = hash;
  }
}

describe("audit trail: signed checkpoints", () => {
  let world: CliWorld;
  let signer: CheckpointSigner;
  const keyFile = () => path.join(world.dir, "audit-signing-key.pem");
  const logFile = () => path.join(world.dir, "audit-checkpoints.jsonl");
  const verify = () => world.run(["audit", "verify"]);

  beforeEach(async () => {
    world = await buildCliWorld();
    // What the service does at its first start.
    const key = loadOrCreateSigningKey(keyFile());
    if (!key.ok) throw new Error(key.problem);
    signer = key.signer;
    await givenRegistry(world);
    await givenIssued(world, [sampleCertificate(), sampleCertificate({ contractNumber: "02208-000002" })]);
    const signed = await world.run(["audit", "checkpoint"]);
    expect(signed.status, signed.stderr).to.equal(0);
    expect(signed.stdout).to.match(/^checkpoint 1 signed: row 4 sha256 [0-9a-f]{64}, 4 row\(s\), at 2026-11-25T01:00:00.000Z\n$/);
    await world.run(["cancel", "02208-000002", "--reason", "契約解除のため"]); // row 5, after the checkpoint
  });
  afterEach(() => world.close());

  it("when nothing was touched, then verify and check pass and name the checkpoint", async () => {
    const result = await verify();
    expect(result).to.deep.include({ status: 0, stderr: "" });
    expect(result.stdout).to.equal("audit trail OK: 5 row(s), chain intact, 1 signed checkpoint(s), the last for row 4 at 2026-11-25T01:00:00.000Z\n");
    expect((await world.run(["check"])).stdout).to.contain("1 signed checkpoint(s)");
  });

  it("when the key file and the log are created, then only their owner can read them, whatever the umask, and the public key is printed on request", async () => {
    const umask = process.umask(0o000);
    try {
      const fresh = loadOrCreateSigningKey(path.join(world.dir, "fresh.pem"));
      if (!fresh.ok) throw new Error(fresh.problem);
      world.services.audit.checkpoint({ signer: fresh.signer, logFile: path.join(world.dir, "fresh.jsonl") });
    } finally {
      process.umask(umask);
    }
    expect(statSync(path.join(world.dir, "fresh.pem")).mode & 0o777).to.equal(0o600);
    expect(statSync(path.join(world.dir, "fresh.jsonl")).mode & 0o777).to.equal(0o600);
    expect(statSync(path.join(world.dir, "fresh.pem.pub")).mode & 0o777, "the public half is for anyone").to.equal(0o644);
    const pem = await world.run(["audit", "public-key"]);
    expect(pem.stdout).to.match(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=]+\n-----END PUBLIC KEY-----\n$/);
    expect(pem.stdout.trim()).to.equal(signer.publicKey.export({ type: "spki", format: "pem" }).toString().trim());
    const base64 = await world.run(["audit", "public-key", "--format", "base64"]);
    expect(base64.stdout).to.equal(`${signer.publicKey.export({ type: "spki", format: "der" }).toString("base64")}\n`);
    expect(readFileSync(keyFile(), "utf8")).to.contain("BEGIN PRIVATE KEY");
    expect(pem.stdout + base64.stdout).not.to.contain(readFileSync(keyFile(), "utf8").split("\n")[1]);
  });

  it("when the key file can be read by others, then the service refuses it and the CLI will not sign with it", async () => {
    chmodSync(keyFile(), 0o640);
    const load = loadOrCreateSigningKey(keyFile());
    expect(load).to.deep.equal({ ok: false, problem: `the audit signing key ${keyFile()} has mode 0640: it must be readable by the service's user only (chmod 600)` });
    const cli = await world.run(["audit", "checkpoint"]);
    expect(cli.status).to.equal(1);
    expect(cli.stderr).to.contain("has mode 0640");
  });

  it("when there is no key to sign with, then audit checkpoint says so and signs nothing", async () => {
    const other = await world.run(["audit", "checkpoint"], { env: { AUDIT_SIGNING_KEY_FILE: path.join(world.dir, "none.pem") } });
    expect(other).to.deep.include({ status: 1, stdout: "" });
    expect(other.stderr).to.contain(`there is no audit signing key at ${path.join(world.dir, "none.pem")}: the service creates it at its first start`);
    expect(world.count("audit_checkpoints")).to.equal(1);
  });

  it("when a row is edited and the whole chain recomputed with the project's own hash function, then the signed checkpoint names it", async () => {
    asAdmin(world, (raw) => withoutTrigger(raw, ["audit_events_no_update"], () => {
      raw.prepare("UPDATE audit_events SET actor = 'someone-else' WHERE id = 2").run();
      recomputeChain(raw);
    }));
    const chainOnly = world.services.audit.verifyChain();
    expect(chainOnly.ok, "the chain alone is fooled").to.equal(true);
    const result = await verify();
    expect(result.status).to.equal(1);
    expect(result.stderr).to.equal("error: audit trail BROKEN at row id 4: checkpoint 1 (signed 2026-11-25T01:00:00.000Z for row 4): the chain at row 4 no longer hashes to what was signed (rows up to it were rewritten)\n");
    const check = await world.run(["check"]);
    expect(check.status).to.equal(1);
    expect(check.stderr).to.contain("no longer hashes to what was signed");
  });

  it("when an append-only trigger is dropped or replaced by a harmless one, then verify and check name it", async () => {
    asAdmin(world, (raw) => raw.exec("DROP TRIGGER audit_events_no_delete"));
    expect((await verify()).stderr).to.equal("error: audit trail BROKEN: the append-only trigger audit_events_no_delete is missing\n");
    expect((await world.run(["check"])).stderr).to.contain("the append-only trigger audit_events_no_delete is missing");
    asAdmin(world, (raw) => raw.exec("CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT 1; END"));
    expect((await verify()).stderr).to.equal("error: audit trail BROKEN: the append-only trigger audit_events_no_delete differs from the migrations' (found: CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT 1; END)\n");
    asAdmin(world, (raw) => raw.exec("DROP TRIGGER audit_checkpoints_no_update"));
    asAdmin(world, (raw) => raw.exec("DROP TRIGGER audit_events_no_delete; CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"));
    expect((await verify()).stderr).to.equal("error: audit trail BROKEN: the append-only trigger audit_checkpoints_no_update is missing\n");
  });

  it("when rows a checkpoint covered are cut off, then verify names the checkpoint and the missing row", async () => {
    asAdmin(world, (raw) => withoutTrigger(raw, ["audit_events_no_delete"], () => raw.prepare("DELETE FROM audit_events WHERE id >= 4").run()));
    const result = await verify();
    expect(result.status).to.equal(1);
    expect(result.stderr).to.equal("error: audit trail BROKEN at row id 4: checkpoint 1 (signed 2026-11-25T01:00:00.000Z for row 4): row 4 is gone (rows the checkpoint covered were cut)\n");
  });

  it("when a checkpoint is deleted from the database, then the checkpoint log shows it missing", async () => {
    asAdmin(world, (raw) => withoutTrigger(raw, ["audit_checkpoints_no_delete"], () => raw.prepare("DELETE FROM audit_checkpoints").run()));
    const result = await verify();
    expect(result.status).to.equal(1);
    expect(result.stderr).to.equal("error: audit trail BROKEN: checkpoint 1 (signed 2026-11-25T01:00:00.000Z for row 4) is in the checkpoint log but missing from the database\n");
  });

  it("when a checkpoint is re-signed with another key, then its signature is refused", async () => {
    const forger = loadOrCreateSigningKey(path.join(world.dir, "forger.pem"));
    if (!forger.ok) throw new Error(forger.problem);
    asAdmin(world, (raw) => raw.prepare("INSERT INTO audit_checkpoints (row_id, row_hash, rows, signed_at, signature) SELECT id, hash, 5, '2026-11-25T02:00:00.000Z', ? FROM audit_events WHERE id = 5")
      .run(forger.signer.sign(Buffer.from("anything"))));
    const result = await verify();
    expect(result.stderr).to.equal("error: audit trail BROKEN: checkpoint 2 (signed 2026-11-25T02:00:00.000Z for row 5): its signature is wrong (not signed by this key, or altered)\n");
  });

  it("when the service's timer runs, then it signs the head only after rows arrived, and once more when stopped", async () => {
    const checkpoints = world.services.audit.scheduleCheckpoints({ signer, logFile: logFile() }, { everyMs: 20, onError: (e) => { throw e; } });
    try {
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(world.services.audit.checkpoints().map((c) => c.rowId)).to.deep.equal([4, 5]);
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(world.services.audit.checkpoints().map((c) => c.rowId), "the head did not move").to.deep.equal([4, 5]);
      world.services.audit.record({ event: "certificate_view", outcome: "ok", actorKind: "officer", actor: "x" });
    } finally {
      checkpoints.stop();
    }
    expect(world.services.audit.checkpoints().map((c) => c.rowId)).to.deep.equal([4, 5, 6]);
    expect(readFileSync(logFile(), "utf8").trim().split("\n").map((l) => JSON.parse(l).rowId)).to.deep.equal([4, 5, 6]);
    expect((await verify()).status).to.equal(0);
  });

  describe("export and verify-export", () => {
    const publicKeyFile = () => {
      const file = path.join(world.dir, "auditor.pub");
      writeFileSync(file, signer.publicKey.export({ type: "spki", format: "pem" }));
      return file;
    };
    const exportTo = async (name: string, ...args: string[]) => {
      const result = await world.run(["audit", "export", "--format", "jsonl", ...args]);
      expect(result.status, result.stderr).to.equal(0);
      return world.file(name, result.stdout);
    };

    it("when the whole trail is exported, then the checkpoints come with it and verify-export recomputes it end to end", async () => {
      const file = await exportTo("all.jsonl");
      const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
      expect(lines[0]).to.deep.equal({ export: { orderer: null, since: null, until: null } });
      expect(lines.at(-1)).to.include({ checkpoint_id: 1, row_id: 4, rows: 4 });
      const result = await world.run(["audit", "verify-export", file, "--public-key", publicKeyFile()]);
      expect(result.stderr).to.equal("");
      expect(result.stdout).to.equal([
        "export OK: 5 row(s), 5 matching their hashes, 4 link(s) between consecutive rows, 0 shown without hashes",
        "  1 checkpoint(s) with good signatures, 1 of them on a row of the export",
        "  the whole trail from row 1: the chain was recomputed end to end",
        "",
      ].join("\n"));
      const base64 = signer.publicKey.export({ type: "spki", format: "der" }).toString("base64");
      expect((await world.run(["audit", "verify-export", file, "--public-key", base64])).status).to.equal(0);
    });

    it("when the export is CSV, then the signed checkpoints follow the rows under their own header", async () => {
      const result = await world.run(["audit", "export"]);
      const lines = result.stdout.split("\r\n");
      expect(lines.slice(-4, -2)).to.deep.equal(["", "checkpoint_id,row_id,row_hash,rows,signed_at,signature"]);
      // A signature that starts with + reads as a formula to Excel: it is guarded with an apostrophe (1 time in 64).
      expect(lines.at(-2)).to.match(/^1,4,[0-9a-f]{64},4,2026-11-25T01:00:00\.000Z,'?[A-Za-z0-9+/]+=*$/);
    });

    it("when an export is altered, then verify-export names what is wrong", async () => {
      const file = await exportTo("all.jsonl");
      const original = readFileSync(file, "utf8");
      const run = (text: string, key = publicKeyFile()) => world.run(["audit", "verify-export", world.file("t.jsonl", text), "--public-key", key]);

      const edited = await run(original.replace('"actor":"test-admin"', '"actor":"someone-else"'));
      expect(edited).to.deep.include({ status: 1, stderr: "error: export FAILED verification: row 1: its content does not match its hash (the row was altered)\n" });

      // Row 2 edited and every hash after it recomputed: the signed checkpoint at row 4 no longer matches.
      const [scope, ...lines] = original.trim().split("\n");
      const rows = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      let prev = rows[0]!.hash as string;
      for (const row of rows.slice(1, 5)) {
        if (row.id === 2) row.actor = "someone-else";
        row.prev_hash = prev;
        row.hash = chainHash(prev, {
          occurredAt: row.occurred_at as string, event: row.event as string, outcome: row.outcome as string, actorKind: row.actor_kind as "admin",
          actor: row.actor as string, officerId: row.officer_id as null, ordererCode: row.orderer_code as null, clientAddress: row.client_address as null,
          contractNumber: row.contract_number as null, detail: row.detail as null,
        });
        prev = row.hash as string;
      }
      const recomputed = await run([scope, ...rows.map((r) => JSON.stringify(r))].join("\n"));
      expect(recomputed.stderr).to.equal("error: export FAILED verification: checkpoint 1 (signed 2026-11-25T01:00:00.000Z for row 4): row 4 in the export does not have the signed hash\n");

      const cut = await run(original.split("\n").filter((l) => !l.startsWith('{"id":4,')).join("\n"));
      expect(cut.stderr).to.equal("error: export FAILED verification: row 4 is missing from an export of the whole trail\n");

      const forged = await run(original.replace(/"signature":"[^"]+"/, `"signature":"${Buffer.alloc(64).toString("base64")}"`));
      expect(forged.stderr).to.equal("error: export FAILED verification: checkpoint 1 (signed 2026-11-25T01:00:00.000Z for row 4): its signature is wrong (not signed by this key, or altered)\n");

      const other = loadOrCreateSigningKey(path.join(world.dir, "other.pem"));
      const wrongKey = await run(original, path.join(world.dir, "other.pem.pub"));
      expect(other.ok).to.equal(true);
      expect(wrongKey.stderr).to.contain("its signature is wrong");

      expect((await run("not json\n")).stderr).to.equal("error: export FAILED verification: line 1 is not JSON (verify-export reads the jsonl format: audit export --format jsonl)\n");
    });
  });
});
