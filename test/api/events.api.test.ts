import { expect } from "chai";
import request from "supertest";
import { givenGuarantees, sampleCertificate } from "../support/given.js";
import { buildTestApp, type WebWorld } from "../support/web.js";
import { serve } from "../security/helpers.js";
import { createLogger } from "../../src/logger.js";
import { createWebhookSender } from "../../src/notifications/webhook-sender.js";
import { startReceiver } from "../notifications/webhook-receiver.js";
import { expectProblem, givenApiClient, tokenFor } from "./support.js";

const number = (i: number) => `02208-${String(i).padStart(6, "0")}`;

describe("API: GET /api/v1/events", () => {
  let w: WebWorld;
  beforeEach(async () => { w = await buildTestApp(); });
  afterEach(() => w.close());

  /** A client of 022080 holding `count` guarantees it verified through the API. */
  async function givenHoldingClient(count: number) {
    const credentials = givenApiClient(w);
    const auth = { Authorization: `Bearer ${await tokenFor(w.app, credentials)}` };
    const issued = count === 0 ? [] : await givenGuarantees(w, Array.from({ length: count }, (_, i) => sampleCertificate({ contractNumber: number(i + 1) })));
    for (const g of issued) {
      const res = await request(w.app).post("/api/v1/verifications").set(auth).send({ contractNumber: g.contractNumber, authKey: g.authKey });
      expect(res.status, res.text).to.equal(201);
    }
    return { auth, issued };
  }

  it("when a held guarantee is amended and another cancelled, then the feed lists both in order with id, kind, offset time, subject and payload, and the read is audited", async () => {
    const { auth, issued } = await givenHoldingClient(2);
    expect(w.services.guarantees.change(issued[0]!.contractNumber, "amendment", { guaranteeAmount: 25000000 }, "test").ok).to.equal(true);
    expect(w.services.guarantees.cancel(issued[1]!.contractNumber, "契約解除のため", "test").ok).to.equal(true);

    const res = await request(w.app).get("/api/v1/events").set(auth);
    expect(res.status, res.text).to.equal(200);
    expect(res.body.items.map((e: { kind: string }) => e.kind)).to.deep.equal(["version_amended", "guarantee_cancelled"]);
    const [amended, cancelled] = res.body.items;
    expect(amended.id).to.be.below(cancelled.id);
    expect(amended.occurredAt).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    expect(amended.subject).to.deep.equal({ type: "guarantee", id: issued[0]!.contractNumber });
    expect(amended.payload.label).to.equal("変更-1");
    expect(amended.payload.changes).to.deep.include({ label: "保証金額", before: "20,000,000 円", after: "25,000,000 円" });
    expect(cancelled.payload.reason).to.equal("契約解除のため");
    expect(res.body).to.include({ next: cancelled.id, more: false });

    const again = await request(w.app).get(`/api/v1/events?after=${res.body.next}`).set(auth);
    expect(again.body).to.deep.equal({ items: [], next: cancelled.id, more: false });
    const audited = w.db.prepare("SELECT count(*) AS n FROM audit_events WHERE event = 'api_event_list' AND actor_kind = 'api-client'").get() as { n: number };
    expect(audited.n).to.equal(2);
  });

  it("when the 契約番号 of a contract is the subject (未提出), then the feed names it by that 契約番号", async () => {
    const { auth } = await givenHoldingClient(0);
    const put = await request(w.app).put(`/api/v1/contracts/${encodeURIComponent("R8-土木-003")}`).set(auth).send({
      projectName: "市道改良工事", contractor: "むつ建設株式会社", contractAmount: 50000000, contractDate: "2026-10-01",
      periodFrom: "2026-10-02", periodTo: "2027-03-15", advanceAmount: 20000000, interimAmount: null, guaranteeRatio: null, guaranteeNumbers: [],
    });
    expect(put.status, put.text).to.equal(201);
    w.services.notifications.scan();
    const res = await request(w.app).get("/api/v1/events").set(auth);
    expect(res.status, res.text).to.equal(200);
    expect(res.body.items.map((e: { kind: string; subject: unknown }) => [e.kind, e.subject])).to.deep.equal([
      ["guarantee_missing", { type: "contract", id: "R8-土木-003" }],
    ]);
  });

  it("when another orderer's client reads the feed from the start, then it sees none of this orderer's events", async () => {
    const { issued } = await givenHoldingClient(1);
    expect(w.services.guarantees.change(issued[0]!.contractNumber, "amendment", { guaranteeAmount: 25000000 }, "test").ok).to.equal(true);
    const other = givenApiClient(w, "012025", "他市の契約管理");
    const res = await request(w.app).get("/api/v1/events?after=0&limit=200").set("Authorization", `Bearer ${await tokenFor(w.app, other)}`);
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.equal({ items: [], next: 0, more: false });
  });

  it("when the orderer has a webhook endpoint, then each webhook's data is the feed's item for the same event, byte for byte as JSON", async () => {
    const receiver = await startReceiver();
    try {
      const { auth, issued } = await givenHoldingClient(1);
      expect((await w.services.webhooks.add({ ordererCode: "022080", url: receiver.url }, "test")).ok).to.equal(true);
      expect(w.services.guarantees.change(issued[0]!.contractNumber, "amendment", { guaranteeAmount: 25000000 }, "test").ok).to.equal(true);
      expect(w.services.guarantees.cancel(issued[0]!.contractNumber, "契約解除のため", "test").ok).to.equal(true);
      await createWebhookSender({ webhooks: w.services.webhooks, clock: w.clock, logger: createLogger({ level: "silent" }) }).deliverDue();
      const feed = await request(w.app).get("/api/v1/events").set(auth);
      expect(receiver.received.map((r) => JSON.stringify(JSON.parse(r.body).data))).to.deep.equal(feed.body.items.map((e: unknown) => JSON.stringify(e)));
      expect(receiver.received).to.have.length(2);
    } finally {
      await receiver.close();
    }
  });

  it("when after or limit is not a number in range, then 400 names the parameter", async () => {
    const { auth } = await givenHoldingClient(0);
    for (const query of ["after=-1", "after=abc", "limit=0", "limit=201"]) {
      const res = await request(w.app).get(`/api/v1/events?${query}`).set(auth);
      expectProblem(res, 400, "invalid-request");
      expect(JSON.stringify(res.body.errors), query).to.contain(query.split("=")[0]);
    }
  });

  it("when a client pages over real HTTP, keeping the last id, while events are written, then it sees every event exactly once, in id order", async () => {
    const served = await serve(w.app);
    try {
      const { auth, issued } = await givenHoldingClient(12);
      const change = (i: number) =>
        expect(w.services.guarantees.change(issued[i % issued.length]!.contractNumber, "amendment", { guaranteeAmount: 20000000 + 1000 * (i + 1) }, "test").ok).to.equal(true);
      for (let i = 0; i < 10; i++) change(i);

      let writing = true;
      const writer = (async () => {
        for (let i = 10; i < 40; i++) {
          change(i);
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        writing = false;
      })();
      const seen: number[] = [];
      let after = 0;
      let pagesWhileWriting = 0;
      for (;;) {
        const res: request.Response = await request(served.url).get(`/api/v1/events?after=${after}&limit=2`).set(auth);
        expect(res.status, res.text).to.equal(200);
        seen.push(...res.body.items.map((e: { id: number }) => e.id));
        after = res.body.next;
        if (writing) pagesWhileWriting++;
        if (!writing && !res.body.more) break;
      }
      await writer;
      const all = (w.db.prepare("SELECT id FROM events ORDER BY id").all() as { id: number }[]).map((r) => r.id);
      expect(all).to.have.length(40);
      expect(seen, "every event once, in order").to.deep.equal(all);
      expect(pagesWhileWriting, "the pages were read while events were written").to.be.greaterThan(3);
    } finally {
      await served.close();
    }
  });
});
