import { expect } from "chai";
import { loadConfig, ConfigError } from "../../src/config.js";
import { DEMO_OFFICER, seedDemo } from "../../src/demo/demo.js";
import type { Officer } from "../../src/officers/officer.repository.js";
import { givenOfficer } from "../support/given.js";
import { buildCliWorld, givenIssued, givenRegistry, type CliWorld } from "./cli-world.js";
import { officerActor } from "../../src/verification/verification.service.js";

describe("admin CLI: orderer mail, mail status|retry, notify scan", () => {
  let world: CliWorld;
  beforeEach(async () => {
    world = await buildCliWorld();
    await givenRegistry(world);
  });
  afterEach(() => world.close());

  /** The officer verifies the guarantee with its key: the orderer then holds it. */
  async function hold(officer: Officer, issued: { contractNumber: string; authKey: string }) {
    const result = await world.services.verification.verify({ actor: officerActor(officer), ...issued, clientAddress: "192.0.2.10" });
    expect(result.ok).to.equal(true);
  }

  it("when mailboxes are added, listed and removed, then the list follows and each change is audited", async () => {
    expect(await world.run(["orderer", "mail", "add", "022080", "keiyaku@City.Mutsu.LG.JP"])).to.deep.include({ status: 0, stdout: "mailbox keiyaku@city.mutsu.lg.jp added to orderer 022080\n" });
    expect((await world.run(["orderer", "mail", "add", "022080", "doboku@city.mutsu.lg.jp"])).status).to.equal(0);
    expect((await world.run(["orderer", "mail", "list", "022080"])).stdout).to.equal("doboku@city.mutsu.lg.jp\nkeiyaku@city.mutsu.lg.jp\n");
    expect((await world.run(["orderer", "mail", "remove", "022080", "doboku@city.mutsu.lg.jp"])).status).to.equal(0);
    expect((await world.run(["orderer", "mail", "list", "022080"])).stdout).to.equal("keiyaku@city.mutsu.lg.jp\n");
    expect(world.db.prepare("SELECT event, actor, detail FROM audit_events WHERE event LIKE 'orderer_mail_%' ORDER BY id").all()).to.deep.equal([
      { event: "orderer_mail_add", actor: "test-admin", detail: '{"address":"keiyaku@city.mutsu.lg.jp"}' },
      { event: "orderer_mail_add", actor: "test-admin", detail: '{"address":"doboku@city.mutsu.lg.jp"}' },
      { event: "orderer_mail_remove", actor: "test-admin", detail: '{"address":"doboku@city.mutsu.lg.jp"}' },
    ]);
  });

  it("when an address or orderer is bad, then the command says what is wrong, exits 1 and changes nothing", async () => {
    const cases: [string[], RegExp][] = [
      [["orderer", "mail", "add", "022080", "keiyaku"], /address: must be a mail address/],
      [["orderer", "mail", "add", "022080", "kei yaku@city.mutsu.lg.jp"], /address: has characters a mailbox name cannot have/],
      [["orderer", "mail", "add", "022080", "keiyaku@localhost"], /address: must end in a domain/],
      [["orderer", "mail", "add", "022081", "keiyaku@city.mutsu.lg.jp"], /code: 022081 fails the check digit/],
      [["orderer", "mail", "add", "022012", "keiyaku@city.mutsu.lg.jp"], /code: no orderer 022012 is registered/],
      [["orderer", "mail", "remove", "022080", "nobody@city.mutsu.lg.jp"], /address: nobody@city.mutsu.lg.jp is not a mailbox of 022080/],
    ];
    for (const [args, message] of cases) {
      const run = await world.run(args);
      expect(run.status, args.join(" ")).to.equal(1);
      expect(run.stderr, args.join(" ")).to.match(message);
    }
    expect((await world.run(["orderer", "mail", "add", "022080", "keiyaku@city.mutsu.lg.jp"])).status).to.equal(0);
    const twice = await world.run(["orderer", "mail", "add", "022080", "keiyaku@city.mutsu.lg.jp"]);
    expect(twice).to.deep.include({ status: 1 });
    expect(twice.stderr).to.match(/already a mailbox of 022080/);
    expect(world.count("orderer_mailboxes")).to.equal(1);
  });

  it("when a held guarantee is cancelled without SMTP_URL, then mail status shows the mail waiting because no SMTP is configured", async () => {
    const { officer } = await givenOfficer(world);
    const [issued] = await givenIssued(world);
    await hold(officer, issued!);
    await world.run(["orderer", "mail", "add", "022080", "keiyaku@city.mutsu.lg.jp"]);
    expect((await world.run(["cancel", issued!.contractNumber, "--reason", "契約解除のため"])).status).to.equal(0);
    const status = await world.run(["mail", "status"]);
    expect(status.status).to.equal(0);
    expect(status.stdout).to.include("pending 1, failed 0, sent 0 (SMTP_URL is not set: nothing is sent)");
    expect(status.stdout).to.match(/pending\s+keiyaku@city\.mutsu\.lg\.jp\s+0\s+\S+\s+no SMTP configured\s+【電子保証】02208-000001 の保証が取消されました/);
  });

  it("when failed mails are retried, then they are pending again and the retry is audited", async () => {
    const { officer } = await givenOfficer(world);
    const [issued] = await givenIssued(world);
    await hold(officer, issued!);
    await world.run(["orderer", "mail", "add", "022080", "keiyaku@city.mutsu.lg.jp"]);
    await world.run(["cancel", issued!.contractNumber, "--reason", "契約解除のため"]);
    const row = world.services.mail.nextDue()!;
    world.services.mail.markAttemptFailed(row.id, "550 5.1.1 no such user", true);
    expect((await world.run(["mail", "status"])).stdout).to.match(/pending 0, failed 1, sent 0[\s\S]*failed\s+keiyaku@city\.mutsu\.lg\.jp\s+1\s+-\s+550 5\.1\.1 no such user/);
    expect(await world.run(["mail", "retry"])).to.deep.include({ status: 0, stdout: "1 failed mail re-queued\n" });
    expect((await world.run(["mail", "status"])).stdout).to.include("pending 1, failed 0, sent 0");
    expect(world.db.prepare("SELECT detail FROM audit_events WHERE event = 'mail_retry'").all()).to.deep.equal([{ detail: '{"requeued":1}' }]);
  });

  it("when notify scan runs twice, then the first records the warning and the second nothing", async () => {
    world.clock.set("2027-04-12T01:00:00.000Z");
    const { officer } = await givenOfficer(world);
    const [issued] = await givenIssued(world);
    await hold(officer, issued!);
    expect(await world.run(["notify", "scan"])).to.deep.include({ status: 0, stdout: "scan of 2027-04-12: 1 new notice, 0 mails queued\n" });
    expect(await world.run(["notify", "scan"])).to.deep.include({ status: 0, stdout: "scan of 2027-04-12: 0 new notices, 0 mails queued\n" });
  });
});

describe("the demo's notices", () => {
  it("when the demo is seeded (twice), then its officer has the 変更-1 of the third sample and the register's 未提出 as notices, once each", async () => {
    const world = await buildCliWorld();
    try {
      await seedDemo(world.services, world.clock);
      await seedDemo(world.services, world.clock);
      const officer = world.services.officers.findByLogin(DEMO_OFFICER.login)!;
      const { notices } = world.services.notifications.notices(officer, undefined);
      expect(notices.map((n) => n.kind).sort()).to.deep.equal(["guarantee_missing", "version_amended"]);
      expect(world.services.notifications.unreadCount(officer)).to.equal(2);
    } finally {
      world.close();
    }
  });
});

describe("config: SMTP_URL, MAIL_FROM, PUBLIC_BASE_URL", () => {
  const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
    try {
      loadConfig(env);
      return [];
    } catch (error) {
      return (error as ConfigError).problems;
    }
  };

  it("when nothing is set, then mail is off and links point at the local service", () => {
    expect(loadConfig({ NODE_ENV: "test" }).mail).to.deep.equal({ smtpUrl: null, from: "Kakunin <noreply@localhost>", publicBaseUrl: "http://localhost:3000" });
  });

  it("when the three are set, then they are read as given (the base URL without its trailing slash)", () => {
    const mail = loadConfig({ NODE_ENV: "test", SMTP_URL: "smtp://relay.lgwan.example:25", MAIL_FROM: "電子保証 <kakunin@city.mutsu.lg.jp>", PUBLIC_BASE_URL: "https://kakunin.example.lg.jp/" }).mail;
    expect(mail).to.deep.equal({ smtpUrl: "smtp://relay.lgwan.example:25", from: "電子保証 <kakunin@city.mutsu.lg.jp>", publicBaseUrl: "https://kakunin.example.lg.jp" });
  });

  it("when SMTP_URL is malformed, then the problem is named without echoing the URL and its password", () => {
    const problems = problemsOf({ NODE_ENV: "test", SMTP_URL: "http://user:S3cret-pass@relay:25" });
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/^SMTP_URL must be smtp:/);
    expect(problems.join()).not.to.include("S3cret-pass");
  });

  it("when PUBLIC_BASE_URL or MAIL_FROM is bad, or production has SMTP_URL without them, then every problem is reported at once", () => {
    expect(problemsOf({ NODE_ENV: "test", PUBLIC_BASE_URL: "kakunin.example", MAIL_FROM: "not an address" })).to.deep.equal([
      'PUBLIC_BASE_URL must be the service\'s address, e.g. https://kakunin.example.lg.jp (got "kakunin.example")',
      'MAIL_FROM must be an address, or a name and <address> (got "not an address")',
    ]);
    const production = problemsOf({ NODE_ENV: "production", SESSION_SECRET: "x".repeat(40), SMTP_URL: "smtp://relay:25" });
    expect(production).to.include("PUBLIC_BASE_URL is required with SMTP_URL when NODE_ENV=production (the links in mails)");
    expect(production).to.include("MAIL_FROM is required with SMTP_URL when NODE_ENV=production");
  });
});
