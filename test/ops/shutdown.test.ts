import Database from "better-sqlite3";
import { expect } from "chai";
import { copyFileSync, existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import request from "supertest";
import { createHasher } from "../../src/security/hasher.js";
import { createServices } from "../../src/composition.js";
import { givenIssuer, givenOfficer, givenOrderer, sampleCertificate } from "../support/given.js";
import { buildWorld, type World } from "../support/world.js";
import { reap } from "./support/processes.js";
import { jsonLines, loginOver, startServer, type ServerChild } from "./support/server.js";

/** A key whose verification takes about half a second of CPU: time enough to send SIGTERM meanwhile. */
const SLOW_ARGON2 = { memoryCost: 19456, timeCost: 50, parallelism: 1 };

describe("graceful shutdown", function () {
  this.timeout(30_000);
  let template: World;
  let key: { contractNumber: string; authKey: string };
  let officer: { login: string; password: string };
  let world: World;
  let server: ServerChild | undefined;

  // One database with an officer and a slow key, copied for each test (hashing it is the slow part).
  before(async () => {
    template = await buildWorld();
    const { login, password } = await givenOfficer(template);
    officer = { login, password };
    givenIssuer(template);
    givenOrderer(template);
    const slow = createServices({ db: template.db, clock: template.clock, hasher: await createHasher(SLOW_ARGON2) });
    const issued = await slow.issuance.issue([sampleCertificate()], { actor: "test" });
    if (!issued.ok) throw new Error("issue refused");
    key = issued.value[0]!;
    template.db.close();
  });
  after(() => template.close());

  beforeEach(async () => {
    world = await buildWorld();
    world.db.close();
    copyFileSync(template.databasePath, world.databasePath);
  });
  afterEach(async () => {
    await reap(server);
    server = undefined;
    world.close();
  });

  /** Waits until the server has reserved `n` attempts on the key's contract number: the
   * verifications are then in flight (reserved before their argon2 work), whatever the load. */
  async function reservations(n: number): Promise<void> {
    const db = new Database(world.databasePath, { readonly: true, fileMustExist: true });
    // The orderer's counter of the number ("NUMBER/ORDERER"): the officers here are all むつ市's.
    const read = db.prepare<[string], { failures: number }>("SELECT failures FROM throttle_counters WHERE scope = 'contract' AND key = ? || '/022080'");
    try {
      for (let i = 0; i < 1000; i++) {
        if ((read.get(key.contractNumber)?.failures ?? 0) >= n) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      throw new Error(`the server never had ${n} verification(s) in flight`);
    } finally {
      db.close();
    }
  }

  const verify = (session: Awaited<ReturnType<typeof loginOver>>) =>
    session.agent.post("/verify").type("form").send({ _csrf: session.token, contractNumber: key.contractNumber, authKey: key.authKey });

  it("when SIGTERM arrives during verifications, then they complete with their answers, new connections are refused, and the process exits 0 with the WAL checkpointed", async () => {
    server = await startServer(world.databasePath);
    const session = await loginOver(server.url, officer.login, officer.password);
    const verifications = [verify(session), verify(session)].map((p) => p.then((res) => res, (error: Error) => error));

    // Both are in flight once reserved; each then needs about half a second of argon2.
    await reservations(2);
    server.kill("SIGTERM");
    await server.waitFor(/shutting down/);
    const refused = await request(server.url).get("/healthz").then(() => "answered", (error: Error) => error.message);

    for (const answer of await Promise.all(verifications)) {
      expect(answer, String(answer)).not.to.be.instanceOf(Error);
      expect((answer as request.Response).status).to.equal(303);
      expect((answer as request.Response).headers.location).to.equal(`/guarantees/${key.contractNumber}`);
    }
    // Refused outright, or reset when it raced into the listen backlog as the listener closed.
    expect(refused).to.match(/ECONNREFUSED|ECONNRESET/);
    expect(await server.exited).to.equal(0);

    const shutdownLine = jsonLines(server).find((l) => l.msg === "shutting down: no new connections, finishing the requests in flight");
    expect(shutdownLine).to.include({ signal: "SIGTERM" });
    expect(shutdownLine!.inFlight).to.be.at.least(1);
    expect(jsonLines(server).at(-1)).to.include({ msg: "stopped" });
    const wal = `${world.databasePath}-wal`;
    expect(!existsSync(wal) || statSync(wal).size === 0, "the -wal file is gone or empty").to.equal(true);
    // The shutdown checkpoint signs the last row, the verifications just answered included.
    const db = new Database(world.databasePath, { readonly: true });
    const lastRow = db.prepare("SELECT max(id) FROM audit_events").pluck().get();
    const signed = db.prepare("SELECT row_id FROM audit_checkpoints ORDER BY id DESC LIMIT 1").pluck().get();
    db.close();
    expect(signed).to.equal(lastRow);
    expect(readFileSync(path.join(path.dirname(world.databasePath), "audit-checkpoints.jsonl"), "utf8")).to.contain(`"rowId":${lastRow},`);
  });

  it("when a second signal arrives during the shutdown, then the process exits at once", async () => {
    server = await startServer(world.databasePath);
    const session = await loginOver(server.url, officer.login, officer.password);
    const pending = verify(session).then(() => "answered", () => "cut");
    await reservations(1);
    server.kill("SIGTERM");
    await server.waitFor(/shutting down/);
    server.kill("SIGINT");
    expect(await server.exited).to.equal(1);
    expect(jsonLines(server).at(-1)).to.include({ msg: "second signal: exiting at once", signal: "SIGINT" });
    // Cut, unless its argon2 work happened to finish before the second signal on a loaded machine.
    expect(await pending).to.be.oneOf(["cut", "answered"]);
  });

  it("when Ctrl-C reaches it twice at once (from the terminal and relayed by npm), then the shutdown stays graceful", async () => {
    server = await startServer(world.databasePath);
    const session = await loginOver(server.url, officer.login, officer.password);
    const pending = verify(session).then((res) => res.status, () => "cut");
    await reservations(1);
    server.kill("SIGINT");
    server.kill("SIGINT");
    expect(await pending).to.equal(303);
    expect(await server.exited).to.equal(0);
    expect(jsonLines(server).map((l) => l.msg)).not.to.include("second signal: exiting at once");
  });
});
