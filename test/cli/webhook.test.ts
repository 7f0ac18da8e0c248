import { expect } from "chai";
import path from "node:path";
import { createServices, webhookKeysOf } from "../../src/composition.js";
import { createLogger } from "../../src/logger.js";
import { createWebhookSender } from "../../src/notifications/webhook-sender.js";
import { loadOrCreateSealingKey } from "../../src/security/sealed-box.js";
import { signatureIsValid, startReceiver } from "../notifications/webhook-receiver.js";
import { givenOrderer } from "../support/given.js";
import { buildCliWorld, type CliWorld } from "./cli-world.js";

describe("admin webhook", () => {
  let w: CliWorld;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let env: NodeJS.ProcessEnv;
  let keyFile: string;
  beforeEach(async () => {
    w = await buildCliWorld();
    givenOrderer(w);
    receiver = await startReceiver();
    keyFile = path.join(w.dir, "webhook-key.pem");
    // No WEBHOOK_KEY_FILE: the CLI looks beside --db's database, where the service keeps it by default.
    env = { NODE_ENV: "test" };
  });
  afterEach(async () => { w.close(); await receiver.close(); });

  /** The service's side over the same database: its key pair (created at its start) and its sender. */
  function startService() {
    const key = loadOrCreateSealingKey(keyFile);
    if (!key.ok) throw new Error(key.problem);
    const services = createServices({
      db: w.db, clock: w.clock, hasher: w.hasher,
      webhooks: { policy: { production: false, allowedHosts: [] }, keys: webhookKeysOf(key) },
    });
    const sender = createWebhookSender({ webhooks: services.webhooks, clock: w.clock, logger: createLogger({ level: "silent" }), idlePollMs: 50 });
    sender.start();
    return sender;
  }

  it("when an endpoint is added, tested, listed and removed, then the secret is printed once, the ping arrives signed with it, and each step is audited", async () => {
    const sender = startService();
    try {
      const added = await w.run(["webhook", "add", "--orderer", "022080", "--url", receiver.url, "--json"], { env });
      expect(added.status, added.stderr).to.equal(0);
      const printed = JSON.parse(added.stdout) as { endpoint_id: string; orderer: string; url: string; secret: string };
      expect(printed).to.include({ orderer: "022080", url: receiver.url });
      expect(printed.endpoint_id).to.match(/^wh_[0-9a-f]{20}$/);
      expect(printed.secret).to.match(/^whsec_/);
      expect(JSON.stringify(w.db.prepare("SELECT * FROM webhook_endpoints").all())).not.to.include(printed.secret.slice(6));

      const tested = await w.run(["webhook", "test", printed.endpoint_id], { env });
      expect(tested.status, tested.stderr).to.equal(0);
      expect(tested.stdout).to.include("delivered");
      expect(receiver.received).to.have.length(1);
      expect(JSON.parse(receiver.received[0]!.body)).to.deep.include({ type: "ping", data: { endpointId: printed.endpoint_id, orderer: "022080" } });
      expect(signatureIsValid(printed.secret, receiver.received[0]!)).to.equal(true);

      const list = await w.run(["webhook", "list", "--orderer", "022080"], { env });
      expect(list.stdout).to.include(printed.endpoint_id).and.include("active").and.include(receiver.url).and.not.include(printed.secret);
      expect((await w.run(["webhook", "status"], { env })).stdout).to.include("pending 0, failed 0, sent 1");

      const removed = await w.run(["webhook", "remove", printed.endpoint_id], { env });
      expect(removed.status, removed.stderr).to.equal(0);
      expect((await w.run(["webhook", "list"], { env })).stderr).to.include("no webhook endpoints");
      const audit = w.db.prepare("SELECT event, actor, detail FROM audit_events WHERE event LIKE 'webhook_%' ORDER BY id").all() as { event: string; actor: string; detail: string }[];
      expect(audit.map((a) => a.event)).to.deep.equal(["webhook_add", "webhook_test", "webhook_remove"]);
      expect(audit.every((a) => a.actor === "test-admin" && !a.detail.includes(printed.secret.slice(6)))).to.equal(true);
    } finally {
      await sender.stop();
    }
  });

  it("when the receiver answers 500 to the ping, then test says so and that it is retried; a given-up webhook is sent again after webhook retry, under its webhook-id", async () => {
    const sender = startService();
    try {
      const printed = JSON.parse((await w.run(["webhook", "add", "--orderer", "022080", "--url", receiver.url, "--json"], { env })).stdout) as { endpoint_id: string };
      receiver.answers.push({ status: 500 });
      const tested = await w.run(["webhook", "test", printed.endpoint_id], { env });
      expect(tested.status).to.equal(1);
      expect(tested.stderr).to.match(/not delivered: HTTP 500; retried at /);
      // Given up after a day of failures, then re-queued by hand: due at once, its window fresh.
      w.db.prepare("UPDATE outbox SET failed_at = next_attempt_at WHERE channel = 'webhook'").run();
      expect((await w.run(["webhook", "status"], { env })).stdout).to.include("pending 0, failed 1, sent 0");
      expect((await w.run(["webhook", "retry"], { env })).stdout).to.include("1 failed webhook re-queued");
      for (let i = 0; i < 100 && receiver.received.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(receiver.received).to.have.length(2);
      expect(receiver.received[1]!.headers["webhook-id"]).to.equal(receiver.received[0]!.headers["webhook-id"]);
    } finally {
      await sender.stop();
    }
  });

  it("when the service has not made its webhook key yet, then add refuses, naming the missing public key, and stores nothing", async () => {
    const added = await w.run(["webhook", "add", "--orderer", "022080", "--url", receiver.url], { env });
    expect(added.status).to.equal(1);
    expect(added.stderr).to.include(`${keyFile}.pub`).and.include("the service creates it at its first start");
    expect(w.count("webhook_endpoints")).to.equal(0);
  });

  it("when the configuration is production, then an http or loopback URL is refused with the reason, and a bad WEBHOOK_ALLOWED_HOSTS is named", async () => {
    loadOrCreateSealingKey(keyFile);
    const production = { ...env, NODE_ENV: "production" };
    const http = await w.run(["webhook", "add", "--orderer", "022080", "--url", receiver.url], { env: production });
    expect(http.status).to.equal(1);
    expect(http.stderr).to.include("url: must use https://");
    const loopback = await w.run(["webhook", "add", "--orderer", "022080", "--url", "https://127.0.0.1:8443/hooks"], { env: production });
    expect(loopback.stderr).to.include("127.0.0.1, a loopback, private, link-local or reserved address");
    expect(w.count("webhook_endpoints")).to.equal(0);

    const bad = await w.run(["webhook", "list"], { env: { ...env, WEBHOOK_ALLOWED_HOSTS: "hooks.example.jp, https://gw.example.jp/x" } });
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.include(`WEBHOOK_ALLOWED_HOSTS: "https://gw.example.jp/x" is not a host name`);
  });

  it("when an unknown orderer or endpoint is named, then the refusal names the field", async () => {
    loadOrCreateSealingKey(keyFile);
    const unknown = await w.run(["webhook", "add", "--orderer", "012025", "--url", receiver.url], { env });
    expect(unknown.stderr).to.include("orderer: no orderer 012025 is registered");
    const missing = await w.run(["webhook", "remove", "wh_nothing"], { env });
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.include("endpoint: no webhook endpoint wh_nothing");
  });
});
