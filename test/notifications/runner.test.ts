import { expect } from "chai";
import { Cron } from "croner";
import { createLogger } from "../../src/logger.js";
import { createSmtpTransport, redactSmtpUrl } from "../../src/notifications/mailer.js";
import { DAILY_SCAN, startNotifications } from "../../src/notifications/notification.runner.js";
import { buildWorld, type World } from "../support/world.js";
import { startSmtpServer, type SmtpTestServer } from "./support.js";

describe("notifications: in the service process", () => {
  let world: World;
  let smtp: SmtpTestServer | undefined;
  afterEach(async () => {
    await smtp?.close();
    smtp = undefined;
    world?.close();
  });

  it("when the daily scan is scheduled, then it runs at 08:00 in Tokyo (23:00 UTC the day before), whatever the server's zone", () => {
    const job = new Cron(DAILY_SCAN.pattern, { timezone: DAILY_SCAN.timezone, paused: true });
    try {
      expect(job.nextRun(new Date("2026-11-25T00:00:00.000Z"))?.toISOString()).to.equal("2026-11-25T23:00:00.000Z");
      expect(job.nextRun(new Date("2026-11-25T23:00:00.000Z"))?.toISOString()).to.equal("2026-11-26T23:00:00.000Z");
    } finally {
      job.stop();
    }
  });

  it("when the sender starts with an SMTP_URL holding a password, then the log shows the relay with the password replaced", async () => {
    world = await buildWorld();
    const logs: string[] = [];
    const logger = createLogger({ level: "info", destination: { write: (line: string) => void logs.push(line) } });
    const running = startNotifications({
      config: { smtpUrl: "smtp://kakunin:S3cret-Relay-Pass@127.0.0.1:9/?ignoreTLS=true", from: "kakunin@city.mutsu.lg.jp", publicBaseUrl: "https://kakunin.example.lg.jp" },
      notifications: world.services.notifications, mail: world.services.mail, webhooks: world.services.webhooks, clock: world.clock, logger,
    });
    await running.stop();
    const text = logs.join("\n");
    expect(text).to.include("smtp://kakunin:***@127.0.0.1:9/?ignoreTLS=true");
    expect(text).not.to.include("S3cret-Relay-Pass");
    expect(redactSmtpUrl("smtps://user:p%40ss@relay.example:465")).to.equal("smtps://user:***@relay.example:465");
  });

  it("when the relay offers no STARTTLS and the URL does not opt out, then nothing is sent in clear", async () => {
    smtp = await startSmtpServer();
    const plain = smtp.url.replace("?ignoreTLS=true", "");
    let refused: unknown;
    try {
      await createSmtpTransport(plain).send({ from: "kakunin@city.mutsu.lg.jp", to: "keiyaku@city.mutsu.lg.jp", subject: "test", text: "test", messageId: "<t@kakunin>" });
    } catch (error) {
      refused = error;
    }
    expect(String((refused as Error | undefined)?.message)).to.match(/STARTTLS/i);
    expect(smtp.received).to.have.length(0);
  });
});
