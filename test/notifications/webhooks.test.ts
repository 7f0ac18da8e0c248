import { expect } from "chai";
import { createServices, inMemoryWebhookKeys } from "../../src/composition.js";
import { isPublicAddress, type Resolve } from "../../src/http/outbound-target.js";
import { createLogger } from "../../src/logger.js";
import type { Officer } from "../../src/officers/officer.repository.js";
import { createWebhookSender } from "../../src/notifications/webhook-sender.js";
import type { WebhookSettings } from "../../src/notifications/webhook.service.js";
import { verifyAs } from "../contracts/support.js";
import { givenGuarantees, givenOfficer, givenOrderer, sampleCertificate } from "../support/given.js";
import { buildWorld, type World } from "../support/world.js";
import { outboxRows } from "./support.js";
import { signatureIsValid, startReceiver } from "./webhook-receiver.js";

const PRODUCTION: WebhookSettings["policy"] = { production: true, allowedHosts: [] };

describe("webhooks: each event of the orderer POSTed to its endpoints, signed", () => {
  let world: World;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let logs: string[];
  beforeEach(async () => { receiver = await startReceiver(); logs = []; });
  afterEach(async () => { world?.close(); await receiver.close(); });

  const logger = () => createLogger({ level: "info", destination: { write: (line: string) => void logs.push(line) } });
  const sender = (timeoutMs?: number) => createWebhookSender({ webhooks: world.services.webhooks, clock: world.clock, logger: logger(), ...(timeoutMs ? { timeoutMs } : {}) });

  async function givenHolder(orderer = "022080", number = "02208-000001"): Promise<{ officer: Officer; contractNumber: string }> {
    const { officer } = await givenOfficer(world, { login: `officer-${orderer}`, orderer });
    const [issued] = await givenGuarantees(world, [sampleCertificate({ contractNumber: number, orderer: { code: orderer, title: "市長" } })]);
    await verifyAs(world, officer, issued!);
    return { officer, contractNumber: issued!.contractNumber };
  }
  async function givenEndpoint(orderer = "022080", url = receiver.url) {
    givenOrderer(world, orderer, orderer === "022080" ? "むつ市" : `発注者${orderer}`);
    const added = await world.services.webhooks.add({ ordererCode: orderer, url }, "test");
    if (!added.ok) throw new Error(JSON.stringify(added.problems));
    return added.value;
  }
  const amend = (contractNumber: string, amount = 25000000) =>
    expect(world.services.guarantees.change(contractNumber, "amendment", { guaranteeAmount: amount }, "test").ok).to.equal(true);

  describe("delivery", () => {
    beforeEach(async () => { world = await buildWorld(); });

    it("when a held guarantee is amended, then the endpoint gets one POST of the event's JSON whose signature an independent HMAC accepts, and the row is marked sent", async () => {
      const { contractNumber } = await givenHolder();
      const { secret } = await givenEndpoint();
      amend(contractNumber);

      expect(await sender().deliverDue()).to.equal(1);
      expect(receiver.received).to.have.length(1);
      const hook = receiver.received[0]!;
      expect(hook.path).to.equal("/hooks");
      expect(hook.headers["content-type"]).to.equal("application/json");
      expect(hook.headers["webhook-id"]).to.match(/^msg_[0-9a-f]{32}$/);
      expect(hook.headers["webhook-timestamp"]).to.equal(String(Math.floor(world.clock.now().getTime() / 1000)));
      expect(hook.headers["webhook-signature"]).to.match(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(signatureIsValid(secret, hook), "the signature checks out").to.equal(true);
      expect(signatureIsValid(secret, { ...hook, body: hook.body.replace("25,000,000", "26,000,000") }), "a changed body does not").to.equal(false);
      const body = JSON.parse(hook.body);
      const [event] = world.repositories.events.after({ ordererId: 1, after: 0, limit: 10 });
      expect(body).to.deep.include({ type: "version_amended", timestamp: event!.occurredAt });
      expect(body.data).to.deep.include({ id: event!.id, kind: "version_amended", subject: { type: "guarantee", id: contractNumber } });
      expect(body.data.payload.changes).to.deep.include({ label: "保証金額", before: "20,000,000 円", after: "25,000,000 円" });
      const [row] = outboxRows(world, "webhook");
      expect(row).to.include({ messageId: hook.headers["webhook-id"], attempts: 1, lastError: null });
      expect(row!.sentAt).to.be.a("string");
      expect(await sender().deliverDue(), "nothing is sent twice").to.equal(0);
    });

    it("when the receiver answers 500, then the webhook is retried after the back-off under the same webhook-id with a fresh timestamp, and delivered exactly once", async () => {
      const { contractNumber } = await givenHolder();
      const { secret } = await givenEndpoint();
      amend(contractNumber);
      receiver.answers.push({ status: 500 });

      expect(await sender().deliverDue()).to.equal(0);
      let [row] = outboxRows(world, "webhook");
      expect(row).to.include({ attempts: 1, lastError: "HTTP 500", sentAt: null, failedAt: null });
      expect(row!.nextAttemptAt).to.equal(new Date(world.clock.now().getTime() + 60_000).toISOString());
      expect(await sender().deliverDue(), "not due before the back-off").to.equal(0);
      expect(receiver.received).to.have.length(1);

      world.clock.advance(61_000);
      expect(await sender().deliverDue()).to.equal(1);
      expect(receiver.received).to.have.length(2);
      const [first, second] = receiver.received;
      expect(second!.headers["webhook-id"]).to.equal(first!.headers["webhook-id"]);
      expect(second!.body).to.equal(first!.body);
      expect(Number(second!.headers["webhook-timestamp"])).to.equal(Number(first!.headers["webhook-timestamp"]) + 61);
      expect(signatureIsValid(secret, second!)).to.equal(true);
      [row] = outboxRows(world, "webhook");
      expect(row).to.include({ attempts: 2, lastError: null });
      world.clock.advance(3_600_000);
      expect(await sender().deliverDue()).to.equal(0);
      expect(receiver.received, "exactly once after the success").to.have.length(2);
    });

    it("when another orderer's guarantee changes, then nothing is sent to this orderer's endpoint; a guarantee both hold reaches each through its own endpoint", async () => {
      const mine = await givenHolder("022080", "02208-000001");
      const theirs = await givenHolder("012025", "01202-000001");
      await givenEndpoint("022080");
      const other = await startReceiver();
      try {
        await givenEndpoint("012025", other.url);
        amend(theirs.contractNumber);
        expect(await sender().deliverDue()).to.equal(1);
        expect(receiver.received, "022080's endpoint hears nothing of 012025").to.have.length(0);
        expect(JSON.parse(other.received[0]!.body).data.subject.id).to.equal(theirs.contractNumber);
        amend(mine.contractNumber);
        expect(await sender().deliverDue()).to.equal(1);
        expect(receiver.received.map((r) => JSON.parse(r.body).data.subject.id)).to.deep.equal([mine.contractNumber]);
        expect(other.received).to.have.length(1);
      } finally {
        await other.close();
      }
    });

    it("when the receiver answers 410 Gone, then the endpoint is disabled (audited), and later events are not queued for it", async () => {
      const { contractNumber } = await givenHolder();
      const { endpoint } = await givenEndpoint();
      amend(contractNumber);
      receiver.answers.push({ status: 410 });
      await sender().deliverDue();
      expect(outboxRows(world, "webhook")[0]!.failedAt).to.be.a("string");
      expect(world.services.webhooks.list("022080")).to.deep.nested.include({ "value[0].state": "gone" });
      const audit = world.db.prepare("SELECT actor_kind, detail FROM audit_events WHERE event = 'webhook_gone'").all() as { actor_kind: string; detail: string }[];
      expect(audit).to.have.length(1);
      expect(audit[0]!.detail).to.include(endpoint.endpointId);
      amend(contractNumber, 26000000);
      expect(outboxRows(world, "webhook")).to.have.length(1);
    });

    it("when the receiver redirects or never answers, then no redirect is followed, the wait is bounded, and both attempts are retried", async () => {
      const { contractNumber } = await givenHolder();
      await givenEndpoint();
      amend(contractNumber);
      receiver.answers.push({ status: 302, headers: { location: `${receiver.url}/elsewhere` } });
      await sender().deliverDue();
      expect(receiver.received.map((r) => r.path)).to.deep.equal(["/hooks"]);
      expect(outboxRows(world, "webhook")[0]).to.include({ lastError: "HTTP 302", sentAt: null });

      receiver.state.silent = true;
      world.clock.advance(61_000);
      const started = Date.now();
      await sender(300).deliverDue();
      expect(Date.now() - started).to.be.below(3000);
      expect(outboxRows(world, "webhook")[0]).to.include({ attempts: 2, lastError: "no answer within 0.3 s", sentAt: null, failedAt: null });
    });

    it("when the service stops while a receiver has not answered, then the stop does not wait for it and the webhook stays due, its attempt not counted", async () => {
      const { contractNumber } = await givenHolder();
      await givenEndpoint();
      amend(contractNumber);
      receiver.state.silent = true;
      const running = sender();
      running.start();
      while (receiver.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const started = Date.now();
      await running.stop();
      expect(Date.now() - started).to.be.below(1000);
      expect(outboxRows(world, "webhook")[0]).to.include({ attempts: 0, sentAt: null, failedAt: null, lastError: null });
    });

    it("when an endpoint is removed, then what waited for it is given up and never sent", async () => {
      const { contractNumber } = await givenHolder();
      const { endpoint } = await givenEndpoint();
      amend(contractNumber);
      expect(world.services.webhooks.remove(endpoint.endpointId, "test").ok).to.equal(true);
      expect(await sender().deliverDue()).to.equal(0);
      expect(receiver.received).to.have.length(0);
      expect(outboxRows(world, "webhook")[0]).to.include({ lastError: "the webhook endpoint was removed" });
    });

    it("when the service runs with another webhook key than the secret was sealed to, then nothing is sent and the attempt is retried, saying so", async () => {
      const { contractNumber } = await givenHolder();
      await givenEndpoint();
      amend(contractNumber);
      const other = createServices({ db: world.db, clock: world.clock, hasher: world.hasher, webhooks: { policy: { production: false, allowedHosts: [] }, keys: inMemoryWebhookKeys() } });
      expect(await createWebhookSender({ webhooks: other.webhooks, clock: world.clock, logger: logger() }).deliverDue()).to.equal(0);
      expect(receiver.received).to.have.length(0);
      expect(outboxRows(world, "webhook")[0]).to.include({ attempts: 1, failedAt: null, lastError: "the endpoint's secret does not open with WEBHOOK_KEY_FILE (another key than at webhook add?)" });
    });

    it("when an endpoint is added, then its secret is stored only sealed, and no audit row or log line holds it", async () => {
      const { contractNumber } = await givenHolder();
      const { secret, endpoint } = await givenEndpoint();
      expect(secret).to.match(/^whsec_[A-Za-z0-9+/]{43}=$/);
      amend(contractNumber);
      await sender().deliverDue();
      const dump = JSON.stringify([
        world.db.prepare("SELECT * FROM webhook_endpoints").all(), world.db.prepare("SELECT * FROM audit_events").all(), world.db.prepare("SELECT * FROM outbox").all(),
      ]);
      const raw = secret.slice("whsec_".length);
      expect(dump).not.to.include(raw);
      expect(dump).not.to.include(Buffer.from(raw, "base64").toString("hex"));
      expect(logs.join("\n")).not.to.include(raw);
      expect(logs.join("\n")).to.include(endpoint.endpointId);
    });
  });

  describe("where webhooks may go (SSRF)", () => {
    const resolver = (table: Record<string, string[]>): Resolve => async (host) => {
      const addresses = table[host];
      if (!addresses) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
      return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    };
    let dns: Record<string, string[]>;
    beforeEach(async () => {
      dns = { "hooks.example.jp": ["93.184.216.34"], "intranet.example.jp": ["93.184.216.34", "10.1.2.3"], "gateway.city.example.lg.jp": ["10.20.0.8"] };
      world = await buildWorld({ webhooks: { policy: { ...PRODUCTION, allowedHosts: ["gateway.city.example.lg.jp"] }, keys: inMemoryWebhookKeys(), resolve: (host) => resolver(dns)(host) } });
      givenOrderer(world);
    });
    const add = (url: string) => world.services.webhooks.add({ ordererCode: "022080", url }, "test");

    it("when production is configured, then http, loopback, private, link-local and mapped addresses are refused with a message naming the URL's problem, and nothing is stored", async () => {
      const refused: Record<string, RegExp> = {
        "http://hooks.example.jp/x": /must use https/,
        [receiver.url]: /must use https/,
        "https://127.0.0.1/x": /127\.0\.0\.1, a loopback, private/,
        "https://[::1]/x": /::1/,
        "https://10.0.0.5/x": /10\.0\.0\.5/,
        "https://169.254.169.254/latest/meta-data": /169\.254\.169\.254/,
        "https://[::ffff:192.168.1.1]/x": /::ffff:c0a8:101/,
        "https://intranet.example.jp/x": /intranet\.example\.jp resolves to 10\.1\.2\.3/,
        "https://nowhere.example.jp/x": /cannot be resolved \(ENOTFOUND\)/,
        "https://user:pw@hooks.example.jp/x": /user name or password/,
        "ftp://hooks.example.jp/x": /absolute https/,
      };
      for (const [url, message] of Object.entries(refused)) {
        const result = await add(url);
        expect(result.ok, url).to.equal(false);
        if (!result.ok) expect(result.problems[0], url).to.deep.include({ field: "url" }).and.satisfy((p: { message: string }) => message.test(p.message));
      }
      expect(world.db.prepare("SELECT count(*) AS n FROM webhook_endpoints").get()).to.deep.equal({ n: 0 });
    });

    it("when the host is public, or listed in WEBHOOK_ALLOWED_HOSTS, then the endpoint is added", async () => {
      expect((await add("https://hooks.example.jp/kakunin")).ok).to.equal(true);
      expect((await add("https://gateway.city.example.lg.jp/kakunin")).ok).to.equal(true);
    });

    it("when the host resolves to a private address by the time of sending (DNS rebinding), then nothing is sent and the attempt is retried, naming the address", async () => {
      const { officer } = await givenOfficer(world);
      const [issued] = await givenGuarantees(world, [sampleCertificate()]);
      await verifyAs(world, officer, issued!);
      expect((await add("https://hooks.example.jp/kakunin")).ok).to.equal(true);
      dns["hooks.example.jp"] = ["127.0.0.1"];
      amend(issued!.contractNumber);
      expect(await sender().deliverDue()).to.equal(0);
      expect(outboxRows(world, "webhook")[0]).to.include({ attempts: 1, sentAt: null, failedAt: null });
      expect(outboxRows(world, "webhook")[0]!.lastError).to.match(/resolves to 127\.0\.0\.1/);
    });

    it("when addresses are classified, then only globally routable ones count as public", () => {
      for (const a of ["93.184.216.34", "8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8"]) expect(isPublicAddress(a), a).to.equal(true);
      for (const a of ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
        "::1", "::", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:a00:1", "64:ff9b::10.0.0.1", "not-an-ip"]) expect(isPublicAddress(a), a).to.equal(false);
    });
  });
});
