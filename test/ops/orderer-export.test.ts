import { expect } from "chai";
import path from "node:path";
import { loadOrCreateSigningKey } from "../../src/audit/signing-key.js";
import { PRODUCTION_LIMITS } from "../../src/config.js";
import type { Officer } from "../../src/officers/officer.repository.js";
import { buildCliWorld, givenIssued, givenRegistry, sampleCertificate, type CliWorld } from "../cli/cli-world.js";
import { givenOfficer } from "../support/given.js";
import { officerActor } from "../../src/verification/verification.service.js";

const MUTSU = "022080";
const AOMORI = "022012";
type Line = Record<string, unknown>;

describe("audit export: what an orderer's own export shows of failed verifications", () => {
  let world: CliWorld;
  let officer: Officer;
  let keys: { contractNumber: string; authKey: string }[];

  const verify = (contractNumber: string, authKey: string) =>
    world.services.verification.verify({ actor: officerActor(officer), contractNumber, authKey, clientAddress: "192.0.2.1" });
  const exported = async (...args: string[]): Promise<{ rows: Line[]; checkpoints: Line[]; text: string }> => {
    const result = await world.run(["audit", "export", "--format", "jsonl", ...args]);
    expect(result.status, result.stderr).to.equal(0);
    const lines = result.stdout.trim().split("\n").slice(1).map((l) => JSON.parse(l) as Line);
    return { rows: lines.filter((l) => "id" in l), checkpoints: lines.filter((l) => "checkpoint_id" in l), text: result.stdout };
  };
  const failures = (rows: Line[]) => rows.filter((r) => r.event !== "key_verify_success" && r.contract_number !== null && r.actor_kind !== "admin");

  beforeEach(async () => {
    // The contract number's delay starts at its second failure, so that an escalation is recorded too.
    world = await buildCliWorld({ limits: { ...PRODUCTION_LIMITS, contract: { ...PRODUCTION_LIMITS.contract, delayFrom: 2 } } });
    await givenRegistry(world);
    await world.run(["orderer", "add", "--code", AOMORI, "--name", "青森市"]);
    keys = await givenIssued(world, [
      sampleCertificate(),
      sampleCertificate({ contractNumber: "02201-000001", orderer: { code: AOMORI, title: "青森市長" } }),
    ]);
    officer = (await givenOfficer(world, { orderer: MUTSU })).officer;
    expect((await verify(keys[0]!.contractNumber, keys[0]!.authKey)).ok).to.equal(true);
    await verify("02208-000099", keys[0]!.authKey); // a number that does not exist
    await verify(keys[1]!.contractNumber, keys[1]!.authKey); // the right key, another orderer's guarantee
    await verify(keys[0]!.contractNumber, "ABCDEFGHJKMN"); // a wrong key for its own guarantee
    await verify(keys[0]!.contractNumber, "ABCDEFGHJKMP"); // again: the contract number's delay begins
    const key = loadOrCreateSigningKey(path.join(world.dir, "audit-signing-key.pem"));
    if (!key.ok) throw new Error(key.problem);
    world.services.audit.checkpoint({ signer: key.signer, logFile: path.join(world.dir, "audit-checkpoints.jsonl") });
  });
  afterEach(() => world.close());

  it("when the issuer exports everything, then each failure keeps its cause", async () => {
    const { rows } = await exported();
    expect(failures(rows).map((r) => [r.event, r.outcome])).to.deep.equal([
      ["key_verify_fail", "unknown-number"],
      ["authz_fail", "other-orderer"],
      ["key_verify_fail", "wrong-key"],
      ["key_verify_fail", "wrong-key"],
      ["key_fail_max", "delayed"],
    ]);
  });

  it("when the orderer's own export is written, then every failed verification reads the same, with nothing to tell the causes apart", async () => {
    const { rows, checkpoints } = await exported("--orderer", MUTSU);
    const failed = failures(rows);
    expect(failed).to.have.length(5);
    for (const row of failed) expect(row, String(row.id)).to.include({ event: "key_verify_fail", outcome: "failed", detail: null, hash: null });
    // The hash of a made-alike row would let its cause be found by trying the few there are: it is
    // withheld, as the same value in the next row's prev_hash, and in any checkpoint signing it.
    const hidden = new Set(failed.map((r) => r.id));
    for (const row of rows) if (hidden.has((row.id as number) - 1)) expect(row.prev_hash, String(row.id)).to.equal(null);
    expect(checkpoints.filter((c) => hidden.has(c.row_id))).to.deep.equal([]);
    expect(rows.find((r) => r.event === "key_verify_success")).to.include({ outcome: "ok" });
    expect(rows.find((r) => r.event === "key_verify_success")!.hash).to.match(/^[0-9a-f]{64}$/);
  });

  it("when the orderer's export is checked offline, then its own rows with hashes pass and the made-alike ones are counted apart", async () => {
    const { text } = await exported("--orderer", MUTSU);
    const pub = path.join(world.dir, "audit-signing-key.pem.pub");
    const result = await world.run(["audit", "verify-export", world.file("mutsu.jsonl", text), "--public-key", pub]);
    expect(result.stderr).to.equal("");
    expect(result.stdout).to.match(/^export OK: \d+ row\(s\), \d+ matching their hashes, \d+ link\(s\) between consecutive rows, [1-9]\d* shown without hashes\n/);
    expect(result.stdout).to.contain("a part of the trail: each row was checked on its own");
  });
});
