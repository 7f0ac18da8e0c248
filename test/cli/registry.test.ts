import { expect } from "chai";
import { createSessionRepository } from "../../src/sessions/session.repository.js";
import { buildCliWorld, givenRegistry, type CliWorld } from "./cli-world.js";

describe("admin CLI: orderers, issuers and officers", () => {
  let world: CliWorld;
  beforeEach(async () => { world = await buildCliWorld(); });
  afterEach(() => world.close());

  describe("orderer", () => {
    it("when an orderer is added with a valid code, then it is listed as accepting e-guarantees and the add is audited", async () => {
      const added = await world.run(["orderer", "add", "--code", "022080", "--name", "むつ市"]);
      expect(added).to.include({ status: 0, stderr: "" });
      expect(added.stdout).to.contain("022080 むつ市 added");
      const listed = await world.run(["orderer", "list"]);
      expect(listed.stdout).to.match(/022080\s+むつ市\s+yes/);
      expect(world.db.prepare("SELECT event, actor FROM audit_events").all()).to.deep.include({ event: "orderer_add", actor: "test-admin" });
    });

    it("when the code is typed in full-width digits, then it is stored as six ASCII digits", async () => {
      expect((await world.run(["orderer", "add", "--code", "０２２０８０", "--name", "むつ市"])).status).to.equal(0);
      expect(world.services.orderers.findByCode("022080")?.name).to.equal("むつ市");
    });

    it("when the code fails its check digit, then it is refused with exit 1 and nothing is added", async () => {
      const result = await world.run(["orderer", "add", "--code", "022081", "--name", "むつ市"]);
      expect(result.status).to.equal(1);
      expect(result.stderr).to.equal("error: code: 022081 fails the check digit of the local government code\n");
      expect(world.count("orderers")).to.equal(0);
    });

    it("when the code is already registered, then the second add is refused", async () => {
      await world.run(["orderer", "add", "--code", "022080", "--name", "むつ市"]);
      const again = await world.run(["orderer", "add", "--code", "022080", "--name", "別の市"]);
      expect(again.status).to.equal(1);
      expect(again.stderr).to.contain("already registered");
      expect(world.count("orderers")).to.equal(1);
    });

    it("when added with --no-accepts and later switched with accepts --yes, then the flag follows", async () => {
      await world.run(["orderer", "add", "--code", "022080", "--name", "むつ市", "--no-accepts"]);
      expect(world.services.orderers.findByCode("022080")?.acceptsEGuarantees).to.equal(false);
      expect((await world.run(["orderer", "accepts", "022080", "--yes"])).status).to.equal(0);
      expect(world.services.orderers.findByCode("022080")?.acceptsEGuarantees).to.equal(true);
      expect((await world.run(["orderer", "accepts", "022080", "--no"])).status).to.equal(0);
      expect(world.services.orderers.findByCode("022080")?.acceptsEGuarantees).to.equal(false);
    });

    it("when accepts is given neither or both of --yes and --no, then it is a usage error (exit 2)", async () => {
      await world.run(["orderer", "add", "--code", "022080", "--name", "むつ市"]);
      expect((await world.run(["orderer", "accepts", "022080"])).status).to.equal(2);
      expect((await world.run(["orderer", "accepts", "022080", "--yes", "--no"])).status).to.equal(2);
    });

    it("when accepts names an unknown orderer, then it is refused", async () => {
      const result = await world.run(["orderer", "accepts", "011002", "--yes"]);
      expect(result.status).to.equal(1);
      expect(result.stderr).to.contain("no orderer 011002 is registered");
    });
  });

  describe("issuer", () => {
    it("when an issuer is added, then it is listed with its representative split into title and name", async () => {
      await givenRegistry(world);
      const issuer = world.services.issuers.findByCode("ejcs")!;
      expect(issuer).to.include({ representativeTitle: "取締役社長", representativeName: "原田 保夫" });
      expect((await world.run(["issuer", "list"])).stdout).to.match(/ejcs\s+東日本建設業保証株式会社/);
    });

    it("when a required option is missing, then it is a usage error naming the option", async () => {
      const result = await world.run(["issuer", "add", "--code", "ejcs", "--name", "東日本建設業保証株式会社"]);
      expect(result.status).to.equal(2);
      expect(result.stderr).to.contain("--address");
    });

    it("when the representative has no title, then it is refused", async () => {
      const result = await world.run(["issuer", "add", "--code", "ejcs", "--name", "n", "--address", "a", "--representative", "原田"]);
      expect(result.status).to.equal(1);
      expect(result.stderr).to.contain("representative");
    });
  });

  describe("officer", () => {
    beforeEach(() => givenRegistry(world));

    it("when an officer is added, then a one-time password is printed once, stored only as a hash, and must be changed", async () => {
      const result = await world.run(["officer", "add", "--orderer", "022080", "--login", "mutsu-tanaka", "--name", "田中 一郎"]);
      expect(result.status).to.equal(0);
      const password = /initial password: (\S+)/.exec(result.stdout)?.[1];
      expect(password).to.match(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
      const officer = world.services.officers.findByLogin("mutsu-tanaka")!;
      expect(officer.mustChangePassword).to.equal(true);
      expect(officer.passwordHash).not.to.contain(password!);
      expect(await world.hasher.verify(officer.passwordHash, password!)).to.equal(true);
    });

    it("when --password-stdin is given, then the first line of stdin becomes the password and no change is forced", async () => {
      const chosen = "ながい合言葉は春の海ひねもすのたり";
      const result = await world.run(["officer", "add", "--orderer", "022080", "--login", "mutsu-sato", "--name", "佐藤 花子", "--password-stdin"], { stdin: `${chosen}\nignored\n` });
      expect(result.status).to.equal(0);
      expect(result.stdout).not.to.contain("initial password");
      const officer = world.services.officers.findByLogin("mutsu-sato")!;
      expect(officer.mustChangePassword).to.equal(false);
      expect(await world.hasher.verify(officer.passwordHash, chosen)).to.equal(true);
    });

    it("when the chosen password is too short or stdin is empty, then it is refused and no officer is added", async () => {
      const short = await world.run(["officer", "add", "--orderer", "022080", "--login", "mutsu-sato", "--name", "佐藤 花子", "--password-stdin"], { stdin: "short\n" });
      expect(short.status).to.equal(1);
      expect(short.stderr).to.contain("password:");
      const empty = await world.run(["officer", "add", "--orderer", "022080", "--login", "mutsu-sato", "--name", "佐藤 花子", "--password-stdin"], { stdin: "" });
      expect(empty.status).to.equal(1);
      expect(world.count("officers")).to.equal(0);
    });

    it("when the orderer is unknown or its code is wrong, then the officer is refused", async () => {
      const unknown = await world.run(["officer", "add", "--orderer", "011002", "--login", "sapporo-a", "--name", "札幌 一郎"]);
      expect(unknown.status).to.equal(1);
      expect(unknown.stderr).to.contain("no orderer 011002 is registered");
      const badDigit = await world.run(["officer", "add", "--orderer", "022081", "--login", "mutsu-a", "--name", "a"]);
      expect(badDigit.status).to.equal(1);
      expect(badDigit.stderr).to.contain("check digit");
      expect(world.count("officers")).to.equal(0);
    });

    it("when the login is taken, then the second officer is refused", async () => {
      await world.run(["officer", "add", "--orderer", "022080", "--login", "mutsu-tanaka", "--name", "田中 一郎"]);
      const again = await world.run(["officer", "add", "--orderer", "022080", "--login", "MUTSU-TANAKA", "--name", "田中 次郎"]);
      expect(again.status).to.equal(1);
      expect(again.stderr).to.contain("already taken");
    });

    it("when officers are listed by orderer, then only that orderer's officers appear", async () => {
      await world.run(["orderer", "add", "--code", "011002", "--name", "札幌市"]);
      await world.run(["officer", "add", "--orderer", "022080", "--login", "mutsu-tanaka", "--name", "田中 一郎"]);
      await world.run(["officer", "add", "--orderer", "011002", "--login", "sapporo-suzuki", "--name", "鈴木 二郎"]);
      const mutsu = await world.run(["officer", "list", "--orderer", "022080"]);
      expect(mutsu.stdout).to.contain("mutsu-tanaka").and.not.contain("sapporo-suzuki");
      const all = await world.run(["officer", "list"]);
      expect(all.stdout).to.contain("mutsu-tanaka").and.contain("sapporo-suzuki");
      expect((await world.run(["officer", "list", "--orderer", "12"])).status).to.equal(1);
    });

    it("when an officer is disabled, then their sessions end; when enabled, they are active again", async () => {
      await world.run(["officer", "add", "--orderer", "022080", "--login", "mutsu-tanaka", "--name", "田中 一郎"]);
      const officer = world.services.officers.findByLogin("mutsu-tanaka")!;
      const sessions = createSessionRepository(world.db);
      sessions.set("sid-1", { officerId: officer.id, data: "{}", expiresAt: Date.now() + 60_000, clientAddress: null, nowMs: Date.now() });
      expect((await world.run(["officer", "disable", "mutsu-tanaka"])).status).to.equal(0);
      expect(world.services.officers.findByLogin("mutsu-tanaka")!.active).to.equal(false);
      expect(sessions.get("sid-1", Date.now()), "the session is over").to.equal(undefined);
      expect((await world.run(["officer", "enable", "mutsu-tanaka"])).status).to.equal(0);
      expect(world.services.officers.findByLogin("mutsu-tanaka")!.active).to.equal(true);
      const unknown = await world.run(["officer", "disable", "nobody"]);
      expect(unknown.status).to.equal(1);
      expect(unknown.stderr).to.contain('no officer with login "nobody"');
    });

    it("when a password is reset, then the old one stops working and a new one-time password is printed", async () => {
      const added = await world.run(["officer", "add", "--orderer", "022080", "--login", "mutsu-tanaka", "--name", "田中 一郎"]);
      const first = /initial password: (\S+)/.exec(added.stdout)![1]!;
      const reset = await world.run(["officer", "reset-password", "mutsu-tanaka"]);
      expect(reset.status).to.equal(0);
      const second = /initial password: (\S+)/.exec(reset.stdout)![1]!;
      const officer = world.services.officers.findByLogin("mutsu-tanaka")!;
      expect(await world.hasher.verify(officer.passwordHash, first)).to.equal(false);
      expect(await world.hasher.verify(officer.passwordHash, second)).to.equal(true);
      expect(officer.mustChangePassword).to.equal(true);

      const chosen = "ながい合言葉は夏の雲もくもくと";
      expect((await world.run(["officer", "reset-password", "mutsu-tanaka", "--password-stdin"], { stdin: chosen })).status).to.equal(0);
      const after = world.services.officers.findByLogin("mutsu-tanaka")!;
      expect(after.mustChangePassword).to.equal(false);
      expect(await world.hasher.verify(after.passwordHash, chosen)).to.equal(true);
    });

    it("when sessions are revoked, then every session of that officer ends and others stay", async () => {
      await world.run(["officer", "add", "--orderer", "022080", "--login", "mutsu-tanaka", "--name", "田中 一郎"]);
      await world.run(["officer", "add", "--orderer", "022080", "--login", "mutsu-sato", "--name", "佐藤 花子"]);
      const sessions = createSessionRepository(world.db);
      const tanaka = world.services.officers.findByLogin("mutsu-tanaka")!;
      const sato = world.services.officers.findByLogin("mutsu-sato")!;
      sessions.set("a", { officerId: tanaka.id, data: "{}", expiresAt: Date.now() + 60_000, clientAddress: null, nowMs: Date.now() });
      sessions.set("b", { officerId: tanaka.id, data: "{}", expiresAt: Date.now() + 60_000, clientAddress: null, nowMs: Date.now() });
      sessions.set("c", { officerId: sato.id, data: "{}", expiresAt: Date.now() + 60_000, clientAddress: null, nowMs: Date.now() });
      const revoked = await world.run(["officer", "sessions", "mutsu-tanaka", "--revoke"]);
      expect(revoked.status).to.equal(0);
      expect(revoked.stdout).to.contain("2 session(s) of mutsu-tanaka ended");
      expect(["a", "b", "c"].map((sid) => sessions.get(sid, Date.now()) !== undefined), "only sato's session goes on").to.deep.equal([false, false, true]);
      expect((await world.run(["officer", "sessions", "mutsu-tanaka"])).status, "without --revoke").to.equal(2);
    });

    it("when an officer is added with --role admin, then they are an administrator of the orderer, listed as such", async () => {
      const added = await world.run(["officer", "add", "--orderer", "022080", "--login", "mutsu-kanri", "--name", "管理 花子", "--role", "admin"]);
      expect(added.status).to.equal(0);
      expect(added.stdout).to.contain("administrator mutsu-kanri");
      expect(world.services.officers.findByLogin("mutsu-kanri")?.role).to.equal("admin");
      expect((await world.run(["officer", "list"])).stdout).to.match(/mutsu-kanri\s.*\sadmin\s+active/);
    });

    it("when the role is neither admin nor officer, then the add is refused naming the field and nobody is added", async () => {
      const added = await world.run(["officer", "add", "--orderer", "022080", "--login", "mutsu-kanri", "--name", "管理 花子", "--role", "root"]);
      expect(added.status).to.equal(1);
      expect(added.stderr).to.contain("role: must be one of: officer, admin");
      expect(world.count("officers")).to.equal(0);
    });

    it("when roles change, then the change is audited, and the orderer's last administrator cannot be unmade", async () => {
      await world.run(["officer", "add", "--orderer", "022080", "--login", "mutsu-tanaka", "--name", "田中 一郎"]);
      await world.run(["officer", "add", "--orderer", "022080", "--login", "mutsu-kanri", "--name", "管理 花子", "--role", "admin"]);
      const made = await world.run(["officer", "role", "mutsu-tanaka", "admin"]);
      expect(made.status).to.equal(0);
      expect(made.stdout).to.contain("mutsu-tanaka of 022080 is now an administrator");
      expect((await world.run(["officer", "role", "mutsu-kanri", "officer"])).status).to.equal(0);
      const last = await world.run(["officer", "role", "mutsu-tanaka", "officer"]);
      expect(last.status).to.equal(1);
      expect(last.stderr).to.contain("role: mutsu-tanaka is the last administrator of 022080");
      expect(world.services.officers.findByLogin("mutsu-tanaka")?.role).to.equal("admin");
      const changes = world.db.prepare("SELECT outcome, actor FROM audit_events WHERE event = 'officer_role_change' ORDER BY id").all();
      expect(changes).to.deep.equal([{ outcome: "admin", actor: "test-admin" }, { outcome: "officer", actor: "test-admin" }]);
    });
  });
});
