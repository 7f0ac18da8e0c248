import { expect } from "chai";
import { createRepositories } from "../../src/composition.js";
import { openMigratedDatabase, type Db } from "../../src/db/database.js";

/**
 * Every statement the repositories prepare, planned by SQLite (EXPLAIN QUERY PLAN) over the
 * migrated schema: none may read a whole big table (`SCAN t`, with or without an index) or sort all the rows
 * it found (`USE TEMP B-TREE`), so that a page costs the same with ten guarantees or a million. The
 * plans are checked twice: with no statistics, as the service runs (it never runs ANALYZE), and with
 * the statistics ANALYZE would write for a national installation (1 M guarantees, 1,800 orderers,
 * 50,000 officers, 10 M audit rows), in case an operator runs it.
 */

/** Tables that grow with time or with the country; a full scan of any of them is a finding. */
const BIG_TABLES = [
  "guarantees", "guarantee_versions", "version_retractions", "orderer_guarantees", "audit_events", "sessions",
  "throttle_counters", "officers", "contracts", "contract_guarantee_numbers",
];

/** Statements that read a whole table or sort on purpose, each with why that is right. */
const ALLOWED: { sql: RegExp; why: string }[] = [
  { sql: /^SELECT [\w, *]+ FROM audit_events ORDER BY id DESC LIMIT 1$/, why: "the last row in rowid order: the scan stops at its first row" },
  { sql: /^UPDATE sessions SET ended = 1, data = '\{\}' WHERE ended = 0 AND officer_id IS NOT NULL$/, why: "sessions revoke --all: the admin ends every officer session on purpose" },
  { sql: /FROM contract_guarantee_numbers n JOIN contracts c .* WHERE n\.contract_number = \? AND c\.orderer_id = \? ORDER BY c\.reference$/, why: "the few contracts of one orderer naming one guarantee, sorted for the summary page" },
  { sql: /guarantee_expiry BETWEEN @since AND @horizon .* ORDER BY og\.orderer_id, g\.id$/, why: "the daily scan: sorts only the holdings whose 保証期限 falls in its window (an index range)" },
  { sql: /FROM contracts WHERE contract_date <= @cutoff AND period_to >= @today ORDER BY orderer_id, id$/, why: "the daily scan: sorts only the contracts still running (an index range)" },
  { sql: /FROM outbox WHERE channel = @channel AND sent_at IS NULL ORDER BY failed_at IS NULL, next_attempt_at, id LIMIT @limit$/, why: "mail status / webhook status: the admin's view of what waits, sorted failed first" },
  { sql: /FROM webhook_endpoints w JOIN orderers o ON o\.id = w\.orderer_id ORDER BY o\.code, w\.id$/, why: "webhook list without --orderer: the admin asked for every endpoint" },
  { sql: /^SELECT \* FROM audit_events ORDER BY id$/, why: "audit verify and check walk the whole chain on purpose, streamed" },
  { sql: /ORDER BY r\.code, o\.login$/, why: "officer list without --orderer: the admin asked for the whole registry" },
  { sql: /WHERE r\.code = \? ORDER BY o\.login$/, why: "one orderer's officers (tens), sorted by login for the admin" },
];

/** Rows and distinct first-column values of each table at national scale, for sqlite_stat1. */
const SCALE: Record<string, { rows: number; distinct: Record<string, number> }> = {
  issuers: { rows: 3, distinct: {} },
  orderers: { rows: 1_800, distinct: {} },
  officers: { rows: 50_000, distinct: { orderer_id: 1_800 } },
  guarantees: { rows: 1_000_000, distinct: { orderer_id: 1_800 } },
  guarantee_versions: { rows: 1_500_000, distinct: { guarantee_id: 1_000_000 } },
  version_retractions: { rows: 50_000, distinct: {} },
  orderer_guarantees: { rows: 1_000_000, distinct: { orderer_id: 1_800 } },
  audit_events: { rows: 10_000_000, distinct: { orderer_code: 1_800 } },
  sessions: { rows: 50_000, distinct: { officer_id: 40_000, client_address: 5_000 } },
  throttle_counters: { rows: 200_000, distinct: { scope: 4 } },
  contracts: { rows: 500_000, distinct: { orderer_id: 1_800 } },
  contract_guarantee_numbers: { rows: 1_000_000, distinct: { contract_id: 500_000 } },
};

type Prepared = { sql: string; plan: string[] };

/** The repositories' statements: each `db.prepare` that createRepositories makes, with its plan. */
function plannedStatements(db: Db): Prepared[] {
  const sqls: string[] = [];
  const recording = new Proxy(db, {
    get(target, property, receiver) {
      if (property === "prepare") return (sql: string) => { sqls.push(sql); return target.prepare(sql); };
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  createRepositories(recording);
  return sqls.map((raw) => {
    const sql = raw.replace(/\s+/g, " ").trim();
    return { sql, plan: planOf(db, sql) };
  });
}

/**
 * The statements of every trigger, with NEW.x and OLD.x as parameters, each with its plan. The
 * triggers are then dropped from the test's database: EXPLAIN QUERY PLAN of an INSERT lists its
 * triggers' programs as if NEW were unknown (SCAN lines that the triggers never run: their own
 * statements, planned here, search by index), which would bury the statement's own plan.
 */
function plannedTriggers(db: Db): Prepared[] {
  const triggers = db.prepare<[], { name: string; sql: string }>("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger'").all();
  const statements = triggers.flatMap(({ sql }) => {
    const body = sql.slice(sql.search(/\bBEGIN\b/) + "BEGIN".length, sql.lastIndexOf("END"));
    // The append-only triggers' SELECT RAISE(…) reads nothing (and cannot be planned outside a trigger).
    return body.split(";").map((s) => s.replace(/\s+/g, " ").trim()).filter((s) => s !== "" && !/^SELECT RAISE\(/.test(s))
      .map((s) => s.replace(/\b(NEW|OLD)\.(\w+)/g, "@$1_$2"));
  });
  for (const { name } of triggers) db.exec(`DROP TRIGGER "${name}"`);
  return statements.map((sql) => ({ sql, plan: planOf(db, sql) }));
}

/** SQLite's plan of `sql`, every parameter bound to NULL (the plan does not depend on the values). */
function planOf(db: Db, sql: string): string[] {
  const names = [...new Set([...sql.matchAll(/@(\w+)/g)].map((m) => m[1]!))];
  const args = names.length > 0 ? [Object.fromEntries(names.map((n) => [n, null]))] : Array<null>((sql.match(/\?/g) ?? []).length).fill(null);
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail);
}

/** What is wrong with a plan: any scan of a big table (through an index too: walking a whole index
 * is reading the whole table, as count(*) does) and any sort of everything found. */
function findings(plan: string[]): string[] {
  return plan.filter((step) => {
    const scan = /^SCAN (\w+)/.exec(step);
    return scan ? BIG_TABLES.includes(scan[1]!) : /USE TEMP B-TREE/.test(step);
  });
}

/** Writes sqlite_stat1 as ANALYZE would for SCALE and makes the planner read it. */
function writeNationalStatistics(db: Db): void {
  db.exec("ANALYZE");
  db.exec("DELETE FROM sqlite_stat1");
  const insert = db.prepare("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)");
  for (const [table, scale] of Object.entries(SCALE)) {
    insert.run(table, null, String(scale.rows));
    for (const index of db.pragma(`index_list(${table})`) as { name: string; partial: number }[]) {
      const columns = (db.pragma(`index_info(${index.name})`) as { name: string | null }[]).map((c) => c.name);
      const rows = index.partial ? Math.ceil(scale.rows / 1000) : scale.rows;
      const first = Math.max(1, Math.round(rows / (scale.distinct[columns[0] ?? ""] ?? rows)));
      insert.run(table, index.name, [rows, first, ...columns.slice(1).map(() => 1)].join(" "));
    }
  }
  // Documented: ANALYZE of sqlite_schema makes the planner load sqlite_stat1 again.
  db.exec("ANALYZE sqlite_schema");
}

describe("query plans: no statement reads a whole big table", () => {
  let db: Db;
  beforeEach(() => { db = openMigratedDatabase(":memory:"); });
  afterEach(() => db.close());

  const judge = (statements: Prepared[]) => {
    const problems = statements
      .filter((s) => !ALLOWED.some((a) => a.sql.test(s.sql)))
      .flatMap((s) => findings(s.plan).map((f) => `${f}  <-  ${s.sql.slice(0, 160)}`));
    expect(problems, problems.join("\n")).to.deep.equal([]);
  };

  it("when the repositories are built, then the list queries the issue names are among the statements planned", () => {
    const sqls = plannedStatements(db).map((s) => s.sql);
    const has = (fragment: RegExp) => expect(sqls.some((s) => fragment.test(s)), String(fragment)).to.equal(true);
    has(/FROM orderer_guarantees og .* ORDER BY og\.last_verified_at DESC, og\.guarantee_id DESC LIMIT @limit/);
    has(/FROM contracts WHERE orderer_id = @ordererId AND reference > @after .* ORDER BY reference LIMIT @limit/);
    has(/FROM audit_events WHERE orderer_code = @ordererCode/);
    has(/FROM audit_events WHERE orderer_code = @ordererCode .* ORDER BY occurred_at DESC, id DESC LIMIT @limit/);
    has(/FROM audit_events WHERE orderer_code = @ordererCode .* ORDER BY occurred_at, id LIMIT @limit/);
    has(/FROM officers o JOIN officer_invitations i ON i\.officer_id = o\.id WHERE o\.orderer_id = \?/);
    has(/FROM sessions WHERE sid = \?/);
    has(/FROM throttle_counters WHERE scope = \? AND locked = 1/);
    expect(sqls.length).to.be.greaterThan(40);
  });

  it("when planned without statistics (as the service runs), then no statement (nor trigger) scans a big table or sorts all it found", () => {
    const triggers = plannedTriggers(db);
    expect(triggers.filter((t) => /^UPDATE orderer_guarantees/.test(t.sql)), "the triggers that keep the holdings' copies").to.have.length(4);
    judge([...triggers, ...plannedStatements(db)]);
  });

  it("when planned with the statistics of 1 M guarantees and 10 M audit rows, then no statement (nor trigger) scans a big table or sorts all it found", () => {
    writeNationalStatistics(db);
    expect(db.prepare("SELECT stat FROM sqlite_stat1 WHERE tbl = 'audit_events' AND idx IS NULL").pluck().get()).to.equal("10000000");
    judge([...plannedTriggers(db), ...plannedStatements(db)]);
  });

  it("when the pages are planned, then 確認済みの保証 walks the orderer's recent-holdings index and the register its reference index, sorting nothing", () => {
    const plans = plannedStatements(db);
    const planOfList = (fragment: RegExp) => plans.find((s) => fragment.test(s.sql))!.plan.join("\n");
    expect(planOfList(/FROM orderer_guarantees og .* LIMIT @limit/)).to.match(/SEARCH og USING INDEX orderer_guarantees_recent \(orderer_id=\? AND last_verified_at<\?\)/).and.not.match(/TEMP B-TREE/);
    expect(planOfList(/FROM contracts WHERE orderer_id = @ordererId AND reference > @after/)).to.match(/SEARCH contracts USING INDEX sqlite_autoindex_contracts_1 \(orderer_id=\? AND reference>\?\)/);
    expect(planOfList(/FROM audit_events WHERE orderer_code = @ordererCode/)).to.match(/audit_events_orderer_time/).and.not.match(/TEMP B-TREE/);
    // The administrators' audit page: the orderer's rows newest first, read backwards off the same index.
    expect(planOfList(/ORDER BY occurred_at DESC, id DESC LIMIT @limit/)).to.match(/SEARCH audit_events USING INDEX audit_events_orderer_time \(orderer_code=\? AND occurred_at>\? AND occurred_at<\?\)/).and.not.match(/TEMP B-TREE/);
  });

  it("when a statement does scan or sort (the check checked), then it is reported", () => {
    const scanning = ["SELECT * FROM guarantees WHERE product = ?", "SELECT * FROM audit_events WHERE event = ?", "SELECT * FROM orderer_guarantees WHERE orderer_id = ? ORDER BY first_verified_at"];
    for (const sql of scanning) expect(findings(planOf(db, sql)), sql).to.have.length.greaterThan(0);
    expect(findings(planOf(db, "SELECT * FROM guarantees WHERE contract_number = ?"))).to.deep.equal([]);
    expect(findings(planOf(db, "SELECT count(*) FROM audit_events")), "a count over a covering index is a whole-table read too").to.have.length.greaterThan(0);
  });
});
