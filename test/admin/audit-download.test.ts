import { expect } from "chai";
import type { IncomingMessage } from "node:http";
import type request from "supertest";
import { loginAsAdministrator } from "../support/administrator.js";
import { givenOfficer } from "../support/given.js";
import { buildTestApp, loginAs, type WebWorld } from "../support/web.js";

type Agent = ReturnType<typeof request.agent>;

/** Starts a download and reads only its first chunk: the client then stops reading (the response is paused). */
function startStalledDownload(agent: Agent, url: string): Promise<{ response: IncomingMessage; first: Buffer }> {
  return new Promise((resolve, reject) => {
    agent.get(url).buffer(true).parse((res, done) => {
      const response = res as unknown as IncomingMessage;
      response.once("data", (first: Buffer) => {
        response.pause();
        resolve({ response, first });
      });
      // On 'close' too (the test disconnected), so that supertest closes the server it started.
      response.once("close", () => done(null, null));
    }).end((error) => { if (error) reject(error); });
  });
}

/** Reads the rest of a paused download to its end. */
function readToEnd(response: IncomingMessage, first: Buffer): Promise<string> {
  const chunks = [first];
  return new Promise((resolve) => {
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    response.resume();
  });
}

async function eventually<T>(read: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never happened: ${what}`);
}

describe("orderer administrators: a large /admin/audit download", function () {
  this.timeout(60_000);
  let world: WebWorld;
  let agent: Agent;
  let colleague: { login: string; password: string };
  // Far more than the socket's and the client's buffers hold (about 25 MB), so that a client which
  // stops reading stalls the download.
  const ROWS = 50_000;
  beforeEach(async () => {
    world = await buildTestApp();
    ({ agent } = await loginAsAdministrator(world));
    const { officer, password } = await givenOfficer(world, { login: "mutsu-sato" });
    colleague = { login: officer.login, password };
    // One transaction: a commit (and its fsync) per row would take seconds.
    world.db.transaction(() => {
      for (let i = 0; i < ROWS; i++) {
        world.services.audit.appendInTransaction({ event: "test_row", outcome: "ok", actorKind: "system", ordererCode: "022080", detail: { i, note: "むつ市役所 契約検査課の確認記録 ".repeat(6) } });
      }
    })();
  });
  afterEach(() => world.close());

  const exported = () => world.db.prepare("SELECT outcome, detail FROM audit_events WHERE event = 'audit_export' ORDER BY id").all() as { outcome: string; detail: string }[];

  it("when the client stops reading, then other writes (an audit row, a colleague's login) still succeed, and the finished download holds every row there was when it began", async () => {
    const before = (world.db.prepare("SELECT count(*) AS n FROM audit_events WHERE orderer_code = '022080'").get() as { n: number }).n;
    const { response, first } = await startStalledDownload(agent, "/admin/audit?format=jsonl");
    expect(exported(), "the download is still under way").to.deep.equal([]);

    world.services.audit.record({ event: "test_row", outcome: "ok", actorKind: "system", ordererCode: "022080", detail: { during: true } });
    await loginAs(world.app, colleague.login, colleague.password);

    const lines = (await readToEnd(response, first)).trim().split("\n").map((l) => JSON.parse(l) as { id?: number; detail?: string | null });
    const ids = lines.slice(1).map((l) => l.id!);
    expect(ids).to.have.length(before);
    expect(new Set(ids).size, "no row twice").to.equal(before);
    expect(ids, "in chain order").to.deep.equal([...ids].sort((a, b) => a - b));
    expect(lines.some((l) => l.detail?.includes("during")), "a row written during the download").to.equal(false);
    const audited = await eventually(() => exported()[0], "the download is audited");
    expect([audited.outcome, JSON.parse(audited.detail).rows]).to.deep.equal(["ok", before]);
  });

  it("when the client disconnects, then the download stops, is audited as aborted, and writes still succeed", async () => {
    const { response } = await startStalledDownload(agent, "/admin/audit?format=csv");
    response.destroy();
    const audited = await eventually(() => exported()[0], "the aborted download is audited");
    expect(audited.outcome).to.equal("aborted");
    expect(JSON.parse(audited.detail).rows).to.be.lessThan(ROWS);
    world.services.audit.record({ event: "test_row", outcome: "ok", actorKind: "system", ordererCode: "022080" });
    await loginAs(world.app, colleague.login, colleague.password);
  });
});
