import Database from "better-sqlite3";
import { expect } from "chai";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { main } from "../../scripts/admin.js";
import { litestreamBinary, restoreFromReplica } from "../../src/operations/litestream.js";
import { givenGuarantee, givenGuarantees, givenOfficer, sampleCertificate } from "../support/given.js";
import { buildWorld, type World } from "../support/world.js";
import { reap, type Child } from "./support/processes.js";
import { litestreamErrors, MONITOR_INTERVAL_MS, startLitestream, SYNC_INTERVAL_MS } from "./support/litestream.js";
import { loginOver, startServer, type ServerChild } from "./support/server.js";

/** Runs the admin CLI in this process; returns its status and what it printed. */
async function admin(argv: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const status = await main(argv, {
    stdout: { write: (s: string) => { out += s; return true; } },
    stderr: { write: (s: string) => { err += s; return true; } },
    stdin: "", env: { NODE_ENV: "test" }, actor: "test",
  });
  return { status, out, err };
}

function successesByOfficer(file: string): Map<number, number> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT officer_id AS officerId, count(*) AS n FROM audit_events WHERE event = 'key_verify_success' GROUP BY officer_id").all() as { officerId: number; n: number }[];
    return new Map(rows.map((r) => [r.officerId, r.n]));
  } finally {
    db.close();
  }
}

function contractNumbersIn(file: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT contract_number FROM guarantees ORDER BY contract_number").pluck().all() as string[];
  } finally {
    db.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Litestream replicating the live database (issue 17). The loss window: a commit reaches the
 * replica at Litestream's next look at the WAL (MONITOR_INTERVAL_MS) and its next shipment
 * (SYNC_INTERVAL_MS); anything older than that must be in the replica when both are killed. The
 * margin covers writing the segment and a shipment that starts late because the two shared cores
 * are busy with the server, its clients and this test (measured in six runs at a load average of
 * 8: the oldest missing answer was 193 to 892 ms older than the kill).
 */
const LOSS_WINDOW_MS = SYNC_INTERVAL_MS + MONITOR_INTERVAL_MS + 400;

describe("continuity: Litestream replicating the live database", function () {
  this.timeout(60_000);
  let world: World;
  let server: ServerChild | undefined;
  let litestream: Child | undefined;
  let replicaDir: string;

  before(function () {
    if (!litestreamBinary()) {
      console.log(`      Litestream tests skipped: no binary for ${process.platform}-${process.arch} (@flydotio/litestream-linux-x64 ships Linux x64 only)`);
      this.skip();
    }
  });
  beforeEach(async () => {
    world = await buildWorld();
    replicaDir = path.join(world.dir, "replica");
    mkdirSync(replicaDir);
  });
  afterEach(async () => {
    await reap(server);
    await reap(litestream);
    server = undefined;
    litestream = undefined;
    world.close();
  });

  it("when the server and Litestream are killed under verification load, then the restored replica passes check and lacks only verifications answered within the last sync interval", async () => {
    const { contractNumber, authKey } = await givenGuarantee(world);
    const officers = await Promise.all(["a", "b", "c", "d"].map((s) => givenOfficer(world, { login: `mutsu-load-${s}` })));
    world.db.close();

    litestream = await startLitestream(world.databasePath, replicaDir);
    server = await startServer(world.databasePath);
    const sessions = await Promise.all(officers.map((o) => loginOver(server!.url, o.login, o.password)));

    // One client per officer, each one request at a time: its n-th 303 is its n-th committed
    // key_verify_success row, so the rows a restore holds per officer say which answers are missing.
    const answeredAt = officers.map(() => [] as number[]);
    let stopped = false;
    let clientFailure: Error | undefined;
    const clients = sessions.map(async ({ agent, token }, i) => {
      while (!stopped && !clientFailure) {
        try {
          const res = await agent.post("/verify").type("form").send({ _csrf: token, contractNumber, authKey });
          if (res.status !== 303) throw new Error(`a verification answered ${res.status} with Litestream attached`);
          answeredAt[i]!.push(Date.now());
        } catch (error) {
          if (!stopped) clientFailure ??= error as Error;
        }
      }
    });
    // Several shipments under load, then the kill lands at a random point of the sync cycle.
    const loadUntil = Date.now() + 4_000 + Math.random() * SYNC_INTERVAL_MS;
    while (Date.now() < loadUntil && !clientFailure) await sleep(20);
    const killedAt = Date.now();
    litestream.kill("SIGKILL");
    server.kill("SIGKILL");
    stopped = true;
    expect(await litestream.exited).to.equal("SIGKILL");
    expect(await server.exited).to.equal("SIGKILL");
    await Promise.all(clients);
    if (clientFailure) throw clientFailure;
    expect(litestreamErrors(litestream), "Litestream's warnings while the service ran").to.deep.equal([]);

    const restored = path.join(world.dir, "restored.sqlite");
    const restore = await restoreFromReplica(replicaDir, restored, { env: {} });
    expect(restore).to.deep.equal({ ok: true, file: restored });
    const check = await admin(["--db", restored, "check"]);
    expect(check.status, check.err).to.equal(0);
    expect(check.out).to.match(/audit trail \d+ row\(s\), chain intact/);

    const held = successesByOfficer(restored);
    const missing = officers.flatMap(({ officer }, i) => answeredAt[i]!.slice(held.get(officer.id) ?? 0));
    const answered = answeredAt.flat().length;
    const newestLossAge = missing.length ? killedAt - Math.min(...missing) : 0;
    console.log(`      ${answered} verifications answered, ${missing.length} missing from the replica, the oldest of them answered ${newestLossAge} ms before the kill`);
    expect(answered, "verifications answered under load").to.be.at.least(20);
    expect(answered - missing.length, "verifications in the replica").to.be.at.least(1);
    for (const at of missing) expect(killedAt - at, "age at the kill of a verification missing from the replica (ms)").to.be.at.most(LOSS_WINDOW_MS);
  });

  it("when a replica is restored at a time between two issuances, then it holds the first batch and not the second", async () => {
    litestream = await startLitestream(world.databasePath, replicaDir);
    const batchA = await givenGuarantees(world, [1, 2].map((n) => sampleCertificate({ contractNumber: `02208-00010${n}` })));
    const numbersA = batchA.map((g) => g.contractNumber);
    // Wait until the latest restore holds batch A: then it has been shipped and the time after it is a point in its history.
    const probe = path.join(world.dir, "probe.sqlite");
    for (let attempt = 0; ; attempt++) {
      const restored = await restoreFromReplica(replicaDir, `${probe}.${attempt}`, { env: {} });
      if (restored.ok && numbersA.every((n) => contractNumbersIn(restored.file).includes(n))) break;
      if (attempt >= 30) throw new Error("batch A did not reach the replica within 6 s");
      await sleep(200);
    }
    const between = new Date();
    await sleep(200);
    const batchB = await givenGuarantees(world, [1, 2].map((n) => sampleCertificate({ contractNumber: `02208-00020${n}` })));
    const numbersB = batchB.map((g) => g.contractNumber);
    await sleep(SYNC_INTERVAL_MS + 1_000); // batch B shipped too: the latest restore would hold it

    const latest = await restoreFromReplica(replicaDir, path.join(world.dir, "latest.sqlite"), { env: {} });
    expect(latest.ok && contractNumbersIn(latest.file)).to.include.members([...numbersA, ...numbersB]);
    const atTime = await restoreFromReplica(replicaDir, path.join(world.dir, "at-time.sqlite"), { timestamp: between, env: {} });
    if (!atTime.ok) throw new Error(atTime.problem);
    const numbers = contractNumbersIn(atTime.file);
    expect(numbers).to.include.members(numbersA);
    expect(numbers).to.not.include.members([numbersB[0]!]);
    expect(numbers).to.not.include(numbersB[1]);
    // The runbook's next step: the restored file becomes a live database through admin restore.
    const live = path.join(world.dir, "live-again.sqlite");
    const restore = await admin(["--db", live, "restore", atTime.file]);
    expect(restore.status, restore.err).to.equal(0);
    expect(contractNumbersIn(live)).to.include.members(numbersA).and.not.include(numbersB[0]);
    expect((await admin(["--db", live, "check"])).status).to.equal(0);
  });

  it("when the replica has caught up, then check --against-replica reports it current; when Litestream stops and the service writes on, then it reports the rows behind and exits 1; once Litestream restarts, it is current again", async () => {
    const { contractNumber, authKey } = await givenGuarantee(world);
    const { login, password } = await givenOfficer(world);
    world.db.close();
    litestream = await startLitestream(world.databasePath, replicaDir);
    server = await startServer(world.databasePath);
    const { agent, token } = await loginOver(server.url, login, password);
    for (let i = 0; i < 3; i++) {
      expect((await agent.post("/verify").type("form").send({ _csrf: token, contractNumber, authKey })).status).to.equal(303);
    }
    // A clean stop beside Litestream: the server's last close must not fight it.
    server.kill("SIGTERM");
    expect(await server.exited).to.equal(0);

    let current = await admin(["--db", world.databasePath, "check", "--against-replica", replicaDir, "--max-lag", "0"]);
    for (let waited = 0; current.status !== 0 && waited < 5_000; waited += 250) {
      await sleep(250);
      current = await admin(["--db", world.databasePath, "check", "--against-replica", replicaDir, "--max-lag", "0"]);
    }
    expect(current.status, current.err).to.equal(0);
    expect(current.out).to.contain("holds every audit row of the live database");
    expect(current.out).to.contain("replica current");

    litestream.kill("SIGTERM");
    await litestream.exited;
    expect(litestreamErrors(litestream), "Litestream's warnings").to.deep.equal([]);
    for (const code of ["012033", "012041"]) expect((await admin(["--db", world.databasePath, "orderer", "add", "--code", code, "--name", `発注者${code}`])).status).to.equal(0);

    const behind = await admin(["--db", world.databasePath, "check", "--against-replica", replicaDir, "--max-lag", "0"]);
    expect(behind.status).to.equal(1);
    expect(behind.err).to.match(/the replica is BEHIND: 2 audit row\(s\) behind the live database, the oldest committed \d+\.\d s ago \(allowed: 0 s\)/);
    // Within the default allowance the same two rows count as in transit.
    const inTransit = await admin(["--db", world.databasePath, "check", "--against-replica", replicaDir]);
    expect(inTransit.status, inTransit.err).to.equal(0);
    expect(inTransit.out).to.match(/2 audit row\(s\) behind the live database, .* in transit \(allowed: 10 s\)/);

    // Restarted after the database was closed (and its WAL checkpointed) without it, Litestream
    // starts a new generation from a snapshot: the replica is whole again.
    litestream = await startLitestream(world.databasePath, replicaDir);
    const caughtUp = await admin(["--db", world.databasePath, "check", "--against-replica", replicaDir, "--max-lag", "0"]);
    expect(caughtUp.status, caughtUp.err).to.equal(0);
    expect(caughtUp.out).to.contain("holds every audit row of the live database");
  });

  it("when the replica holds another database's history, then check --against-replica refuses it by its last audit row", async () => {
    expect((await admin(["--db", world.databasePath, "orderer", "add", "--code", "012033", "--name", "小樽市"])).status).to.equal(0);
    litestream = await startLitestream(world.databasePath, replicaDir);
    litestream.kill("SIGTERM");
    await litestream.exited;
    const other = await buildWorld();
    try {
      expect((await admin(["--db", other.databasePath, "orderer", "add", "--code", "012041", "--name", "旭川市"])).status).to.equal(0);
      const result = await admin(["--db", other.databasePath, "check", "--against-replica", replicaDir]);
      expect(result.status).to.equal(1);
      expect(result.err).to.match(/the replica's last audit row \d+ \(sha256 [0-9a-f]{64}\) is not in the live database/);
    } finally {
      other.close();
    }
  });

  it("when the replica is not a replica or the lag is not a number, then check says which and exits 1", async () => {
    const notReplica = await admin(["--db", world.databasePath, "check", "--against-replica", world.dir]);
    expect(notReplica.status).to.equal(1);
    expect(notReplica.err).to.contain(`the folder ${world.dir} is not a Litestream replica (it has no generations/ folder)`);
    const missing = await admin(["--db", world.databasePath, "check", "--against-replica", path.join(world.dir, "nowhere")]);
    expect(missing.err).to.contain("is neither a URL nor an existing folder");
    const lag = await admin(["--db", world.databasePath, "check", "--against-replica", replicaDir, "--max-lag", "soon"]);
    expect(lag.status).to.equal(1);
    expect(lag.err).to.contain('--max-lag must be a number of seconds (0 or more), not "soon"');
  });
});
