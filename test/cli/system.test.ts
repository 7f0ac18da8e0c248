import { expect } from "chai";
import { mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { openDatabase, migrate } from "../../src/db/database.js";
import { DEMO_CONTRACT_NUMBERS, seedDemo } from "../../src/demo/demo.js";
import { migrationsDir } from "../../src/paths.js";
import { buildCliWorld, type CliWorld } from "./cli-world.js";

type PrintedDemo = { login: string; password: string; keys: Map<string, string> };

function parseDemo(stdout: string): PrintedDemo {
  const login = /login:\s+(\S+)/.exec(stdout)?.[1];
  const password = /password:\s+(\S+)/.exec(stdout)?.[1];
  const keys = new Map<string, string>();
  for (const m of stdout.matchAll(/(\d{5}-\d{6})\s+\S+\s+\S+\s+([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})/g)) keys.set(m[1]!, m[2]!);
  if (!login || !password) throw new Error(`demo output not understood:\n${stdout}`);
  return { login, password, keys };
}

describe("admin CLI: demo, audit verify, migrations and usage", () => {
  let world: CliWorld;
  beforeEach(async () => { world = await buildCliWorld(); });
  afterEach(() => world.close());

  describe("demo", () => {
    it("when the demo is seeded twice, then there is one of each entity and the second run's credentials work while the first run's no longer do", async () => {
      const first = await world.run(["demo"]);
      expect(first.status).to.equal(0);
      const second = await world.run(["demo"]);
      expect(second.status).to.equal(0);
      expect({ issuers: world.count("issuers"), orderers: world.count("orderers"), officers: world.count("officers"), guarantees: world.count("guarantees") })
        .to.deep.equal({ issuers: 1, orderers: 1, officers: 2, guarantees: 3 });

      const before = parseDemo(first.stdout);
      const now = parseDemo(second.stdout);
      expect(now.login).to.equal("mutsu-demo");
      const officer = world.services.officers.findByLogin(now.login)!;
      expect(officer).to.include({ active: true, mustChangePassword: false, ordererCode: "022080", displayName: "むつ 太郎" });
      expect(await world.hasher.verify(officer.passwordHash, now.password)).to.equal(true);
      expect(await world.hasher.verify(officer.passwordHash, before.password)).to.equal(false);

      expect([...now.keys.keys()]).to.deep.equal([...DEMO_CONTRACT_NUMBERS]);
      for (const [contractNumber, key] of now.keys) {
        const hash = world.services.guarantees.findByContractNumber(contractNumber)!.authKeyHash;
        expect(await world.hasher.verify(hash, key.replaceAll("-", "")), contractNumber).to.equal(true);
        expect(await world.hasher.verify(hash, before.keys.get(contractNumber)!.replaceAll("-", "")), contractNumber).to.equal(false);
      }
      expect(second.stdout).to.contain("http://127.0.0.1:3000");

      // One demo API client; the secret printed last authenticates, the one before no longer does.
      const secretOf = (stdout: string) => /client_id: +(\S+)\n +client_secret: +(\S+)/.exec(stdout)!.slice(1, 3) as [string, string];
      const [firstId, firstSecret] = secretOf(first.stdout);
      const [clientId, secret] = secretOf(second.stdout);
      expect(clientId).to.equal(firstId);
      expect(world.count("api_clients")).to.equal(1);
      expect(world.services.apiClients.authenticate(clientId, firstSecret, "192.0.2.1").ok).to.equal(false);
      expect(world.services.apiClients.authenticate(clientId, secret, "192.0.2.1").ok).to.equal(true);
    });

    it("when the demo is seeded, then it holds the source document's samples and one guarantee with a 変更-1", async () => {
      await world.run(["demo"]);
      const g = world.services.guarantees;
      const [advance, contract, amended] = DEMO_CONTRACT_NUMBERS.map((n) => g.findByContractNumber(n)!);
      const advanceContent = g.currentVersion(advance!.id)!.content;
      expect(advance!.product).to.equal("advance");
      expect(advanceContent).to.include({ contractAmount: 50_000_000, guaranteeAmount: 20_000_000 });
      expect(advanceContent.depositBank).to.be.a("string");
      expect(advanceContent.issuer).to.include({ name: "東日本建設業保証株式会社", address: "東京都中央区八丁堀2丁目27番10号", representativeTitle: "取締役社長", representativeName: "原田 保夫" });
      expect(advanceContent.branch).to.deep.equal({ name: "青森支店", tel: "017-722-7262" });
      const contractContent = g.currentVersion(contract!.id)!.content;
      expect(contract!.product).to.equal("contract");
      expect(contractContent).to.include({ contractAmount: 50_000_000, guaranteeAmount: 5_000_000, projectName: advanceContent.projectName });
      expect(contractContent.depositBank).to.equal(undefined);
      expect(g.listVersions(amended!.id).map((v) => [v.kind, v.amendmentNumber])).to.deep.equal([["new", 0], ["amendment", 1]]);
    });

    it("when a demo guarantee was cancelled meanwhile, then the demo still runs and says so instead of a key", async () => {
      await world.run(["demo"]);
      await world.run(["cancel", DEMO_CONTRACT_NUMBERS[1], "--reason", "デモの取消"]);
      const again = await world.run(["demo"]);
      expect(again.status).to.equal(0);
      expect(again.stdout).to.match(/02208-000002\s+契約保証\s+新規\s+\(cancelled\)/);
    });

    it("when seedDemo is called directly (as the web tests do), then it returns the printed credentials", async () => {
      const demo = await seedDemo(world.services, world.clock);
      expect(demo.officer.login).to.equal("mutsu-demo");
      expect(demo.guarantees.map((x) => x.label)).to.deep.equal(["新規", "新規", "変更-1"]);
      expect(demo.created).to.deep.include({ issuer: true, orderer: true, officer: true });
      const again = await seedDemo(world.services, world.clock);
      expect(again.created).to.deep.equal({ issuer: false, orderer: false, officer: false, guarantees: [], contracts: [] });
    });

    it("when the demo is seeded, then むつ市 holds the samples and its register shows one contract 適合, one 要確認 and one 未提出", async () => {
      const demo = await seedDemo(world.services, world.clock);
      const officer = world.services.officers.findByLogin(demo.officer.login)!;
      const register = world.services.contracts.list(officer.ordererId);
      expect(register.entries.map((e) => [e.contract.reference, e.evaluation.state])).to.deep.equal([
        ["R8-土木-001", "ok"], ["R8-土木-003", "missing"], ["R8-建築-002", "attention"],
      ]);
      const again = await seedDemo(world.services, world.clock);
      expect(world.services.contracts.list(officer.ordererId).entries.map((e) => e.evaluation.state)).to.deep.equal(["ok", "missing", "attention"]);
      expect(again.created.contracts).to.deep.equal([]);
    });
  });

  describe("audit verify", () => {
    it("when the trail is intact, then it says OK with the row count", async () => {
      await world.run(["orderer", "add", "--code", "022080", "--name", "むつ市"]);
      const result = await world.run(["audit", "verify"]);
      expect(result).to.deep.include({ status: 0, stdout: "audit trail OK: 1 row(s), chain intact, 0 signed checkpoint(s)\n" });
    });

    it("when a row was altered behind the triggers' back (put back after), then it names the first broken row and exits 1", async () => {
      await world.run(["demo"]);
      const trigger = world.db.prepare("SELECT sql FROM sqlite_master WHERE name = 'audit_events_no_update'").pluck().get() as string;
      world.db.exec("DROP TRIGGER audit_events_no_update");
      world.db.prepare("UPDATE audit_events SET outcome = 'tampered' WHERE id = 3").run();
      world.db.exec(trigger);
      const result = await world.run(["audit", "verify"]);
      expect(result.status).to.equal(1);
      expect(result.stderr).to.equal("error: audit trail BROKEN at row id 3: its content does not match its hash (the row was altered)\n");
    });
  });

  describe("migrations", () => {
    const expectedVersion = () => readdirSync(migrationsDir).filter((n) => /^\d{3}-[a-z0-9-]+\.sql$/.test(n)).length;
    const tables = (file: string) => {
      const db = openDatabase(file);
      try {
        return {
          userVersion: db.pragma("user_version", { simple: true }) as number,
          tables: (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name),
          reapplied: migrate(db),
        };
      } finally {
        db.close();
      }
    };

    it("when a command runs on a database file that does not exist, then it is created with every migration; a re-run changes nothing", async () => {
      const file = path.join(world.dir, "fresh", "kakunin.sqlite");
      const first = await world.run(["--db", file, "orderer", "list"]);
      expect(first.status).to.equal(0);
      const afterFirst = tables(file);
      expect(afterFirst.userVersion).to.equal(expectedVersion());
      expect(afterFirst.tables).to.include.members(["audit_events", "guarantee_versions", "guarantees", "issuers", "officers", "orderers", "sessions", "version_retractions"]);
      expect(afterFirst.reapplied).to.deep.equal([]);
      expect((await world.run(["--db", file, "orderer", "list"])).status).to.equal(0);
      expect(tables(file)).to.deep.equal(afterFirst);
    });
  });

  describe("usage and unexpected errors", () => {
    it("when an option is unknown, then it is a usage error (exit 2) with a message and no stack", async () => {
      const result = await world.run(["orderer", "add", "--code", "022080", "--name", "むつ市", "--colour", "red"]);
      expect(result.status).to.equal(2);
      expect(result.stderr).to.contain("error: unknown option '--colour'");
      expect(result.stderr).not.to.match(/\n\s+at /);
      expect(world.count("orderers")).to.equal(0);
    });

    it("when the command is unknown, missing or has too many arguments, then exit 2", async () => {
      expect((await world.run(["frobnicate"])).status).to.equal(2);
      expect((await world.run([])).status).to.equal(2);
      expect((await world.run(["officer"])).status).to.equal(2);
      expect((await world.run(["show", "02208-000001", "extra"])).status).to.equal(2);
    });

    it("when --help is asked of any command, then its usage goes to stdout with exit 0", async () => {
      for (const args of [["--help"], ["issue", "--help"], ["officer", "add", "--help"], ["help", "rotate-key"]]) {
        const result = await world.run(args);
        expect(result.status, args.join(" ")).to.equal(0);
        expect(result.stdout, args.join(" ")).to.match(/^Usage: admin/);
      }
      expect((await world.run(["officer", "add", "--help"])).stdout).to.contain("--password-stdin").and.contain("--db");
    });

    it("when the database cannot be opened, then one line says why (the stack only with KAKUNIN_DEBUG=1)", async () => {
      const folder = path.join(world.dir, "a-folder");
      mkdirSync(folder);
      const plain = await world.run(["--db", folder, "orderer", "list"]);
      expect(plain.status).to.equal(1);
      expect(plain.stderr).to.match(/^error: cannot open the database .*a-folder: .+\n$/);
      const debug = await world.run(["--db", folder, "orderer", "list"], { env: { KAKUNIN_DEBUG: "1" } });
      expect(debug.stderr).to.match(/\n\s+at /);
    });

    it("when the configuration is invalid, then it is reported and nothing runs", async () => {
      const result = await world.run(["orderer", "list"], { env: { NODE_ENV: "staging" } });
      expect(result.status).to.equal(1);
      expect(result.stderr).to.contain("NODE_ENV must be production, development or test");
    });
  });
});
