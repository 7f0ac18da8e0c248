import Database from "better-sqlite3";
import { expect } from "chai";
import { userInfo } from "node:os";
import path from "node:path";
import { main } from "../../scripts/admin.js";
import { chainHash, createAuditRepository } from "../../src/audit/audit.repository.js";
import { buildCliWorld, givenIssued, givenRegistry, sampleCertificate, type CliWorld } from "../cli/cli-world.js";

/** A second connection to the file, as someone with shell access would open it. */
function rawConnection(world: CliWorld): Database.Database {
  return new Database(world.databasePath);
}

/** Drops a trigger and later puts it back as it was, so that the chain alone must catch the edit. */
function dropTrigger(raw: Database.Database, name: string): () => void {
  const sql = raw.prepare("SELECT sql FROM sqlite_master WHERE name = ?").pluck().get(name) as string;
  raw.exec(`DROP TRIGGER ${name}`);
  return () => raw.exec(sql);
}

describe("audit trail: tamper evidence, admin actors and export", () => {
  let world: CliWorld;
  beforeEach(async () => { world = await buildCliWorld(); });
  afterEach(() => world.close());

  describe("tampering with the file directly", () => {
    beforeEach(async () => {
      await givenRegistry(world);
      await givenIssued(world, [sampleCertificate(), sampleCertificate({ contractNumber: "02208-000002" })]);
      await world.run(["cancel", "02208-000002", "--reason", "契約解除のため"]);
    });

    it("when UPDATE or DELETE is tried on the audit table, then the triggers refuse both and nothing changes", () => {
      const raw = rawConnection(world);
      try {
        const before = raw.prepare("SELECT * FROM audit_events ORDER BY id").all();
        expect(() => raw.prepare("UPDATE audit_events SET outcome = 'x' WHERE id = 1").run()).to.throw(/append-only/);
        expect(() => raw.prepare("DELETE FROM audit_events WHERE id = 1").run()).to.throw(/append-only/);
        expect(() => raw.prepare("DELETE FROM audit_events").run()).to.throw(/append-only/);
        expect(raw.prepare("SELECT * FROM audit_events ORDER BY id").all()).to.deep.equal(before);
      } finally {
        raw.close();
      }
    });

    it("when a row is edited with the triggers dropped (and put back), then audit verify names that row and exits 1", async () => {
      const raw = rawConnection(world);
      const putBack = dropTrigger(raw, "audit_events_no_update");
      raw.prepare("UPDATE audit_events SET actor = 'someone-else' WHERE id = 3").run();
      putBack();
      raw.close();
      const result = await world.run(["audit", "verify"]);
      expect(result.status).to.equal(1);
      expect(result.stderr).to.equal("error: audit trail BROKEN at row id 3: its content does not match its hash (the row was altered)\n");
    });

    it("when a row is edited and its hash recomputed, then audit verify names the next row, whose link no longer matches", async () => {
      const raw = rawConnection(world);
      try {
        const putBack = dropTrigger(raw, "audit_events_no_update");
        raw.prepare("UPDATE audit_events SET actor = 'someone-else' WHERE id = 2").run();
        // A forger who knows the scheme: row 2's hash is made right again with the project's own function.
        const edited = [...createAuditRepository(raw).iterate()].find((row) => row.id === 2)!;
        const forged = chainHash(edited.prevHash, edited);
        expect(forged).not.to.equal(edited.hash);
        raw.prepare("UPDATE audit_events SET hash = ? WHERE id = 2").run(forged);
        putBack();
      } finally {
        raw.close();
      }
      const result = await world.run(["audit", "verify"]);
      expect(result.status).to.equal(1);
      expect(result.stderr).to.equal("error: audit trail BROKEN at row id 3: its link to the previous row is broken (a row was removed or reordered)\n");
    });

    it("when a row is deleted with the triggers dropped (and put back), then audit verify names the row after the gap", async () => {
      const raw = rawConnection(world);
      const putBack = dropTrigger(raw, "audit_events_no_delete");
      raw.prepare("DELETE FROM audit_events WHERE id = 2").run();
      putBack();
      raw.close();
      const result = await world.run(["audit", "verify"]);
      expect(result.status).to.equal(1);
      expect(result.stderr).to.equal("error: audit trail BROKEN at row id 3: its link to the previous row is broken (a row was removed or reordered)\n");
      const check = await world.run(["check"]);
      expect(check.status).to.equal(1);
      expect(check.stderr).to.contain("audit trail broken at row id 3");
    });
  });

  describe("admin actions", () => {
    it("when an admin runs commands without an injected actor, then every admin row names the OS user", async () => {
      const osUser = userInfo().username;
      const quiet = { write: () => true };
      const admin = (...args: string[]) => main(["--db", world.databasePath, ...args], {
        stdout: quiet, stderr: quiet, stdin: "", clock: world.clock, hasher: world.hasher, env: {},
      });
      expect(await admin("issuer", "add", "--code", "ejcs", "--name", "東日本建設業保証株式会社", "--address", "東京都中央区八丁堀2丁目27番10号", "--representative", "取締役社長 原田 保夫")).to.equal(0);
      expect(await admin("orderer", "add", "--code", "022080", "--name", "むつ市")).to.equal(0);
      expect(await admin("officer", "add", "--orderer", "022080", "--login", "mutsu-sato", "--name", "佐藤 花子")).to.equal(0);
      expect(await admin("issue", world.file("one.json", JSON.stringify([sampleCertificate()])))).to.equal(0);
      expect(await admin("rotate-key", "02208-000001")).to.equal(0);
      expect(await admin("cancel", "02208-000001", "--reason", "契約解除のため")).to.equal(0);
      expect(await admin("officer", "disable", "mutsu-sato")).to.equal(0);
      expect(await admin("backup", path.join(world.dir, "backup.sqlite"))).to.equal(0);

      const rows = world.db.prepare("SELECT event, actor_kind AS kind, actor FROM audit_events ORDER BY id").all() as { event: string; kind: string; actor: string }[];
      expect(rows.map((r) => r.event)).to.include.members([
        "issuer_add", "orderer_add", "officer_add", "guarantee_issue", "guarantee_rotate_key", "guarantee_cancel", "officer_disable", "db_backup",
      ]);
      for (const row of rows) expect(row, row.event).to.deep.include({ kind: "admin", actor: osUser });
    });
  });

  describe("audit export", () => {
    const MUTSU = "022080";
    const AOMORI = "022012";
    const at = (iso: string, entry: { event: string; orderer: string; outcome?: string }) => {
      world.clock.set(iso);
      world.services.audit.record({
        event: entry.event, outcome: entry.outcome ?? "ok", actorKind: "officer", actor: `${entry.orderer}-officer`, officerId: 1,
        ordererCode: entry.orderer, clientAddress: "192.0.2.1", contractNumber: "02208-000001",
      });
    };

    beforeEach(async () => {
      world.clock.set("2026-03-01T00:00:00.000Z");
      await world.run(["orderer", "add", "--code", MUTSU, "--name", "むつ市"]);
      await world.run(["orderer", "add", "--code", AOMORI, "--name", "青森市"]);
      // Around Tokyo's midnight between 3/31 and 4/1: 2026-03-31T15:00Z is 4/1 00:00 in Tokyo.
      at("2026-03-31T14:59:59.999Z", { event: "authn_login_success", orderer: MUTSU });
      at("2026-03-31T15:00:00.000Z", { event: "key_verify_success", orderer: MUTSU });
      at("2026-03-31T15:00:00.000Z", { event: "key_verify_success", orderer: AOMORI });
      at("2026-04-30T14:59:59.999Z", { event: "certificate_view", orderer: MUTSU });
      at("2026-04-30T15:00:00.000Z", { event: "certificate_print", orderer: MUTSU });
      world.clock.set("2026-06-15T00:00:00.000Z"); // exports are audited too, in June
    });

    const exported = async (...args: string[]) => {
      const result = await world.run(["audit", "export", "--format", "jsonl", ...args]);
      expect(result.status, result.stderr).to.equal(0);
      const [scope, ...lines] = result.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(scope).to.have.key("export");
      return lines;
    };

    it("when one orderer's April is asked for, then it gets its own rows of April in Tokyo, both ends inclusive, and nobody else's", async () => {
      const rows = await exported("--orderer", MUTSU, "--since", "2026-04-01", "--until", "2026-04-30");
      expect(rows.map((r) => [r.event, r.occurred_at])).to.deep.equal([
        ["key_verify_success", "2026-03-31T15:00:00.000Z"],
        ["certificate_view", "2026-04-30T14:59:59.999Z"],
      ]);
      expect(rows[0]).to.include({ orderer_code: MUTSU, occurred_at_jst: "2026-04-01T00:00:00.000+09:00", contract_number: "02208-000001" });
      expect(rows[0]!.hash).to.match(/^[0-9a-f]{64}$/);
    });

    it("when only one end is given, then the range is open at the other", async () => {
      expect((await exported("--orderer", MUTSU, "--until", "2026-03-31")).map((r) => r.event)).to.deep.equal(["orderer_add", "authn_login_success"]);
      expect((await exported("--orderer", MUTSU, "--since", "2026-05-01")).map((r) => r.event)).to.deep.equal(["certificate_print", "audit_export"]);
      expect((await exported("--orderer", AOMORI)).map((r) => r.event)).to.deep.equal(["orderer_add", "key_verify_success"]);
    });

    it("when no orderer is named, then every row is exported in chain order, and the export itself is audited", async () => {
      const rows = await exported();
      expect(rows.map((r) => r.id)).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
      const last = world.db.prepare("SELECT event, actor, orderer_code AS orderer, detail FROM audit_events ORDER BY id DESC LIMIT 1").get();
      expect(last).to.deep.equal({ event: "audit_export", actor: "test-admin", orderer: null, detail: JSON.stringify({ since: null, until: null, format: "jsonl", rows: 7 }) });
      expect((await world.run(["audit", "verify"])).status).to.equal(0);
    });

    it("when CSV is asked for, then it has a header, quotes what needs quoting and defuses cells a spreadsheet would run as formulas", async () => {
      world.clock.set("2026-05-02T00:00:00.000Z");
      world.services.audit.record({ event: "authn_login_fail", outcome: "unknown-user", actorKind: "anonymous", actor: "=HYPERLINK(\"http://x\",\"a,b\")", ordererCode: MUTSU });
      const result = await world.run(["audit", "export", "--orderer", MUTSU, "--since", "2026-05-01", "--until", "2026-05-31"]);
      expect(result.status).to.equal(0);
      const lines = result.stdout.split("\r\n");
      expect(lines[0]).to.equal("\ufeffid,occurred_at,occurred_at_jst,event,outcome,actor_kind,actor,officer_id,orderer_code,client_address,contract_number,detail,prev_hash,hash");
      expect(lines[1]).to.match(/^7,2026-04-30T15:00:00\.000Z,2026-05-01T00:00:00\.000\+09:00,certificate_print,ok,officer,022080-officer,1,022080,192\.0\.2\.1,02208-000001,,[0-9a-f]{64},[0-9a-f]{64}$/);
      expect(lines[2]).to.contain(`,"'=HYPERLINK(""http://x"",""a,b"")",`);
      expect(lines[3]).to.equal("");
    });

    it("when the arguments are wrong, then it is a usage error (exit 2) that says what is wrong, and nothing is exported", async () => {
      const cases: [string[], RegExp][] = [
        [["--since", "2026-02-30"], /'--since <date>' argument '2026-02-30' is invalid\. "2026-02-30" is not a date as YYYY-MM-DD/],
        [["--until", "yesterday"], /'--until <date>' argument 'yesterday' is invalid/],
        [["--orderer", "12345"], /'--orderer <code>' argument '12345' is invalid\. must be the 6-digit local government code/],
        [["--orderer", "022081"], /fails the check digit/],
        [["--format", "xlsx"], /Allowed choices are csv, jsonl/],
        [["--since", "2026-05-01", "--until", "2026-04-01"], /--since 2026-05-01 is after --until 2026-04-01/],
      ];
      for (const [args, message] of cases) {
        const result = await world.run(["audit", "export", ...args]);
        expect(result.status, args.join(" ")).to.equal(2);
        expect(result.stderr, args.join(" ")).to.match(message);
        expect(result.stdout, args.join(" ")).to.equal("");
      }
      const unknown = await world.run(["audit", "export", "--orderer", "131016"]);
      expect(unknown).to.deep.include({ status: 1, stdout: "", stderr: "error: no orderer 131016 is registered\n" });
    });
  });
});
