import { expect } from "chai";
import request from "supertest";
import { givenGuarantees, sampleCertificate } from "../support/given.js";
import { buildTestApp, type WebWorld } from "../support/web.js";
import { serve } from "../security/helpers.js";
import { givenApiClient, tokenFor } from "./support.js";

const number = (i: number) => `02208-${String(i).padStart(6, "0")}`;

describe("API: paging through held guarantees while more are verified", () => {
  let w: WebWorld;
  beforeEach(async () => {
    // The officer window would stop the writer's 30 verifications otherwise: it is not what this test is about.
    w = await buildTestApp({ limits: { officer: { limit: 1000 } } });
  });
  afterEach(() => w.close());

  it("when a client pages through the list over real HTTP while 30 more guarantees are issued and verified, then it sees each guarantee at most once and every one that existed when it began", async () => {
    const served = await serve(w.app);
    try {
      const credentials = givenApiClient(w);
      const token = await tokenFor(served.server, credentials);
      const auth = { Authorization: `Bearer ${token}` };
      const verify = (g: { contractNumber: string; authKey: string }) =>
        request(served.url).post("/api/v1/verifications").set(auth).send({ contractNumber: g.contractNumber, authKey: g.authKey });
      const first = await givenGuarantees(w, Array.from({ length: 40 }, (_, i) => sampleCertificate({ contractNumber: number(i + 1) })));
      for (const g of first) expect((await verify(g)).status).to.equal(201);
      const existing = first.map((g) => g.contractNumber);

      let writing = true;
      const writer = (async () => {
        for (let i = 0; i < 30; i++) {
          const [g] = await givenGuarantees(w, [sampleCertificate({ contractNumber: number(100 + i) })]);
          expect((await verify(g!)).status).to.equal(201);
          // Re-verifying an old one moves it to the top of the web list, never in the API's order.
          expect((await verify(first[i % first.length]!)).status).to.equal(201);
        }
        writing = false;
      })();
      const seen: string[] = [];
      let pages = 0;
      let next: string | null = null;
      do {
        const res: request.Response = await request(served.url).get(`/api/v1/guarantees?limit=3${next ? `&cursor=${next}` : ""}`).set(auth);
        expect(res.status, res.text).to.equal(200);
        seen.push(...res.body.items.map((g: { contractNumber: string }) => g.contractNumber));
        next = res.body.next;
        pages++;
      } while (next);
      const stillWriting = writing;
      await writer;

      expect(new Set(seen).size, "no duplicates").to.equal(seen.length);
      expect(existing.filter((n) => !seen.includes(n)), "no gaps").to.deep.equal([]);
      expect(seen.slice(0, 40)).to.deep.equal(existing);
      // The test means something only if the pages were read while the writer was at work.
      expect(pages).to.be.greaterThan(13);
      expect(stillWriting || seen.length > 40, "the writer ran alongside the pages").to.equal(true);
    } finally {
      await served.close();
    }
  });
});
