import Database from "better-sqlite3";
import { expect } from "chai";
import request from "supertest";
import { main } from "../../scripts/admin.js";
import { givenGuarantee, givenOfficer } from "../support/given.js";
import { buildWorld, type World } from "../support/world.js";
import { reap } from "./support/processes.js";
import { loginOver, startServer, type ServerChild } from "./support/server.js";

function readAudit(file: string): { rows: number; successes: number; integrity: string } {
  const db = new Database(file, { fileMustExist: true });
  try {
    return {
      rows: db.prepare("SELECT count(*) FROM audit_events").pluck().get() as number,
      successes: db.prepare("SELECT count(*) FROM audit_events WHERE event = 'key_verify_success'").pluck().get() as number,
      integrity: db.pragma("integrity_check", { simple: true }) as string,
    };
  } finally {
    db.close();
  }
}

/**
 * kill -9 of the server (DB-02): every verification the server answered was audited and committed
 * first, so after a restart every row seen before the kill is there, the chain verifies, and the
 * server serves again.
 */
describe("crash safety: kill -9 of the server under verification load", function () {
  this.timeout(40_000);
  let world: World;
  let server: ServerChild | undefined;

  beforeEach(async () => { world = await buildWorld(); });
  afterEach(async () => {
    await reap(server);
    server = undefined;
    world.close();
  });

  it("when the server is killed while verifications are in flight, then after a restart it serves again with every committed audit row intact", async () => {
    const { login, password } = await givenOfficer(world);
    const { contractNumber, authKey } = await givenGuarantee(world);
    world.db.close();

    server = await startServer(world.databasePath);
    const { agent, token } = await loginOver(server.url, login, password);

    // Six clients verifying back to back (production argon2 for the dummy path, the cheap test hash
    // for this key: the load is in the requests and the commits, which is what a crash can cut).
    let acknowledged = 0;
    let cut = 0;
    let stopped = false;
    let clientFailure: Error | undefined;
    const client = async () => {
      while (!stopped && !clientFailure) {
        try {
          const res = await agent.post("/verify").type("form").send({ _csrf: token, contractNumber, authKey });
          if (res.status !== 303) throw new Error(`a verification answered ${res.status} after ${acknowledged} answered 303`);
          acknowledged++;
        } catch (error) {
          if (stopped) return void cut++; // the kill cut this one
          clientFailure ??= error as Error; // the others stop at their next turn
        }
      }
    };
    const clients = Array.from({ length: 6 }, client);
    // Forty answered verifications; a client's failure (a non-303) or the deadline ends the wait instead.
    const deadline = Date.now() + 20_000;
    while (acknowledged < 40 && !clientFailure && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    if (clientFailure || acknowledged < 40) {
      stopped = true;
      await Promise.all(clients);
      throw clientFailure ?? new Error(`only ${acknowledged} of 40 verifications were answered within 20 s`);
    }

    const seenBeforeKill = readAudit(world.databasePath);
    const acknowledgedBeforeKill = acknowledged;
    stopped = true;
    server.kill("SIGKILL");
    expect(await server.exited).to.equal("SIGKILL");
    await Promise.all(clients);
    expect(cut, "requests in flight when the server was killed").to.be.at.least(1);

    const afterKill = readAudit(world.databasePath);
    expect(afterKill.integrity).to.equal("ok");
    expect(afterKill.rows).to.be.at.least(seenBeforeKill.rows);
    expect(afterKill.successes).to.be.at.least(acknowledgedBeforeKill);

    server = await startServer(world.databasePath);
    expect((await request(server.url).get("/healthz")).status).to.equal(200);
    const again = await loginOver(server.url, login, password);
    const res = await again.agent.post("/verify").type("form").send({ _csrf: again.token, contractNumber, authKey });
    expect(res.status).to.equal(303);
    server.kill("SIGTERM");
    expect(await server.exited).to.equal(0);

    const final = readAudit(world.databasePath);
    expect(final.rows).to.be.greaterThan(afterKill.rows);
    const quiet = { write: () => true };
    let report = "";
    const status = await main(["--db", world.databasePath, "check"], {
      stdout: { write: (s: string) => { report += s; return true; } }, stderr: quiet, stdin: "", env: { NODE_ENV: "test" }, actor: "test",
    });
    expect(status, report).to.equal(0);
    expect(report).to.contain(`audit trail ${final.rows} row(s), chain intact`);
  });
});
