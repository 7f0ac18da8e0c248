import { expect } from "chai";
import iconv from "iconv-lite";
import { writeFileSync } from "node:fs";
import path from "node:path";
import type request from "supertest";
import { main } from "../../scripts/admin.js";
import { loadOrCreateSigningKey } from "../../src/audit/signing-key.js";
import { officerActor } from "../../src/verification/verification.service.js";
import { loginAsAdministrator } from "../support/administrator.js";
import { givenGuarantees, givenOfficer, givenOrderer, sampleCertificate } from "../support/given.js";
import { buildTestApp, type WebWorld } from "../support/web.js";

type Agent = ReturnType<typeof request.agent>;

/** A binary body (supertest would decode it as UTF-8). */
const bytesOf = (res: request.Response) => res.body as Buffer;
const binary = (agent: Agent, url: string) =>
  agent.get(url).buffer(true).parse((res, done) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => done(null, Buffer.concat(chunks)));
  });

const eventsShown = (html: string) => [...html.matchAll(/data-audit-row data-event="([^"]+)"/g)].map((m) => m[1]!);

describe("orderer administrators: /admin/audit", () => {
  let world: WebWorld;
  let agent: Agent;
  beforeEach(async () => {
    world = await buildTestApp();
    ({ agent } = await loginAsAdministrator(world));
  });
  afterEach(() => world.close());

  /** Failed verifications by a むつ市 officer: an unknown number, and another orderer's guarantee (authz_fail). */
  async function givenFailedVerifications() {
    givenOrderer(world, "022012", "青森市");
    const [, aomori] = await givenGuarantees(world, [sampleCertificate(), sampleCertificate({ contractNumber: "02201-000001", orderer: { code: "022012", title: "青森市長" } })]);
    const { officer } = await givenOfficer(world, { login: "mutsu-sato" });
    const verify = (contractNumber: string, authKey: string) =>
      world.services.verification.verify({ actor: officerActor(officer), contractNumber, authKey, clientAddress: "192.0.2.1" });
    await verify("02208-000099", aomori!.authKey);
    await verify(aomori!.contractNumber, aomori!.authKey);
  }

  it("when an administrator opens the audit page, then their orderer's rows come newest first, failed verifications made alike, and another orderer's rows are not there", async () => {
    await givenFailedVerifications();
    world.services.audit.record({ event: "officer_add", outcome: "ok", actorKind: "admin", actor: "test", ordererCode: "022012", detail: { login: "aomori-x" } });
    const page = await agent.get("/admin/audit");
    expect(page.status).to.equal(200);
    const events = eventsShown(page.text);
    expect(events[0]).to.equal("key_verify_fail");
    expect(events.filter((e) => e === "key_verify_fail")).to.have.length(2);
    expect(events).not.to.include("authz_fail");
    expect(page.text).not.to.contain("other-orderer").and.not.to.contain("unknown-number").and.not.to.contain("aomori-x");
    expect(page.text).to.contain("電子保証の確認（失敗）");
    // Filtering by one cause shows them all: the filter cannot tell the causes apart either.
    const byCause = await agent.get("/admin/audit?event=authz_fail");
    expect(eventsShown(byCause.text)).to.deep.equal(["key_verify_fail", "key_verify_fail"]);
  });

  it("when there are more than 100 rows, then they come 100 a page with a link to the older ones, none twice and none missed", async () => {
    for (let i = 0; i < 230; i++) {
      world.services.audit.record({ event: "test_row", outcome: String(i), actorKind: "system", ordererCode: "022080" });
      if (i % 50 === 0) world.clock.advance(1000);
    }
    const seen: string[] = [];
    let url: string | null = "/admin/audit?event=test_row";
    let pages = 0;
    while (url) {
      const page = await agent.get(url);
      expect(page.status).to.equal(200);
      const outcomes = [...page.text.matchAll(/data-event="test_row">\s*<td>[^<]*<\/td><td>[^<]*<\/td><td>(\d+)<\/td>/g)].map((m) => m[1]!);
      seen.push(...outcomes);
      pages++;
      url = /href="([^"]+)" data-next-page/.exec(page.text)?.[1]?.replaceAll("&amp;", "&").replaceAll("&#x3D;", "=") ?? null;
    }
    expect(pages).to.equal(3);
    expect(seen).to.deep.equal(Array.from({ length: 230 }, (_, i) => String(229 - i)));
  });

  it("when filtered by Tokyo dates and by officer, then only those rows come; bad filter values get 400 naming the field", async () => {
    const { officer } = await givenOfficer(world, { login: "mutsu-sato" });
    world.clock.set("2026-11-30T15:30:00.000Z"); // 12月1日 00:30 in Tokyo
    world.services.audit.record({ event: "test_row", outcome: "december", actorKind: "officer", actor: "mutsu-sato", officerId: officer.id, ordererCode: "022080" });
    world.services.audit.record({ event: "test_row", outcome: "december-other", actorKind: "system", ordererCode: "022080" });
    // Back to the administrator's login time, so that their session is still fresh.
    world.clock.set("2026-11-25T01:00:00.000Z");
    const december = await agent.get("/admin/audit?from=2026-12-01&to=2026-12-01");
    expect(december.status).to.equal(200);
    expect(eventsShown(december.text)).to.deep.equal(["test_row", "test_row"]);
    const november = await agent.get("/admin/audit?to=2026-11-30&event=test_row");
    expect(eventsShown(november.text)).to.deep.equal([]);
    const bySato = await agent.get("/admin/audit?officer=mutsu-sato");
    expect(bySato.text).to.contain(">december<").and.not.to.contain("december-other");
    for (const [query, field] of [["from=2026-02-30", "from"], ["to=yesterday", "to"], ["from=2026-12-02&to=2026-12-01", "to"], ["event=DROP%20TABLE", "event"], ["officer=nobody", "officer"], ["before=abc", "before"], ["format=xlsx", "format"], ["format=jsonl&encoding=shift_jis", "encoding"]] as const) {
      const res = await agent.get(`/admin/audit?${query}`);
      expect(res.status, query).to.equal(400);
      expect(res.text, query).to.contain(`href="#${field}"`);
    }
  });

  it("when the CSV is downloaded, then it is UTF-8 with a BOM, or Shift_JIS with CRLF that decodes to the same rows; the download is audited", async () => {
    world.services.audit.record({ event: "test_row", outcome: "ok", actorKind: "system", ordererCode: "022080", detail: { note: "むつ市役所 契約検査課" } });
    const utf8 = await binary(agent, "/admin/audit?format=csv&encoding=utf-8");
    expect(utf8.status).to.equal(200);
    expect(utf8.headers["content-type"]).to.equal("text/csv; charset=utf-8");
    expect(utf8.headers["content-disposition"]).to.match(/^attachment; filename="?kakunin-audit-022080-20261125\.csv"?$/);
    const text = bytesOf(utf8).toString("utf8");
    expect(text.startsWith("\ufeffid,occurred_at,")).to.equal(true);
    expect(text).to.contain("むつ市役所 契約検査課");
    const sjis = await binary(agent, "/admin/audit?format=csv&encoding=shift_jis");
    expect(sjis.headers["content-type"]).to.equal("text/csv; charset=Shift_JIS");
    const decoded = iconv.decode(bytesOf(sjis), "cp932");
    expect(decoded).to.contain("むつ市役所 契約検査課");
    expect(decoded.startsWith("id,occurred_at,")).to.equal(true);
    expect(decoded.split("\r\n").length).to.be.greaterThan(3);
    expect(decoded.replace(/\r\n/g, "")).not.to.contain("\n");
    expect(`\ufeff${decoded}`.split("\r\n").slice(0, 4)).to.deep.equal(text.split("\r\n").slice(0, 4));
    const audited = world.db.prepare("SELECT actor_kind, actor, orderer_code, detail FROM audit_events WHERE event = 'audit_export' ORDER BY id").all() as Array<Record<string, string>>;
    expect(audited.map((r) => [r.actor_kind, r.actor, r.orderer_code, JSON.parse(r.detail!).encoding])).to.deep.equal([
      ["officer", "mutsu-kanri", "022080", "utf-8"], ["officer", "mutsu-kanri", "022080", "shift_jis"],
    ]);
  });

  it("when the JSON Lines are downloaded, then they carry the signed checkpoints and `audit verify-export` accepts them", async () => {
    await givenFailedVerifications();
    // A checkpoint on a made-alike row is withheld from the orderer: sign a row it may see.
    world.services.audit.record({ event: "test_row", outcome: "ok", actorKind: "system", ordererCode: "022080" });
    const key = loadOrCreateSigningKey(path.join(world.dir, "audit-signing-key.pem"));
    if (!key.ok) throw new Error(key.problem);
    world.services.audit.checkpoint({ signer: key.signer, logFile: path.join(world.dir, "audit-checkpoints.jsonl") });
    const res = await binary(agent, "/admin/audit?format=jsonl");
    expect(res.status).to.equal(200);
    const text = bytesOf(res).toString("utf8");
    const lines = text.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).to.deep.equal({ export: { orderer: "022080", since: null, until: null } });
    expect(lines.some((l) => "checkpoint_id" in l)).to.equal(true);
    expect(lines.filter((l) => l.event === "authz_fail")).to.deep.equal([]);
    const file = path.join(world.dir, "download.jsonl");
    writeFileSync(file, text);
    let stdout = "";
    let stderr = "";
    const status = await main(["--db", world.databasePath, "audit", "verify-export", file, "--public-key", path.join(world.dir, "audit-signing-key.pem.pub")], {
      stdout: { write: (s: string) => { stdout += s; } }, stderr: { write: (s: string) => { stderr += s; } }, stdin: "",
      clock: world.clock, hasher: world.hasher, env: { NODE_ENV: "test" }, actor: "test-admin",
    });
    expect(status, stderr).to.equal(0);
    expect(stdout).to.match(/^export OK: \d+ row\(s\)/).and.to.contain("1 of them on a row of the export");
  });
});
