import { closeSync, fsyncSync, openSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { chainHash, GENESIS_HASH } from "../../src/audit/audit.repository.js";
import { systemClock } from "../../src/clock.js";
import { createRepositories, createServices } from "../../src/composition.js";
import { openDatabase, migrate, type Db } from "../../src/db/database.js";
import type { CertificateContent } from "../../src/guarantees/certificate.schema.js";
import { createHasher, OWASP_ARGON2 } from "../../src/security/hasher.js";
import { BENCH_PASSWORD, benchCertificates, ORDERER_CODE, seedRegistry } from "./seed.js";

/** The key of every generated guarantee: one argon2id hash (at the service's parameters) stands for all. */
export const SCALE_KEY = "Z28YVE4J3BXA";

/** The installation the issue describes, at 1,000,000 guarantees; smaller sizes scale every count
 * but the registry of orderers (a country has 1,800 whatever the years) by guarantees ÷ 1,000,000,
 * and the big orderer keeps at least 5,000 guarantees (scaleSizes). */
export const NATIONAL = {
  guarantees: 1_000_000,
  /** Versions per guarantee: every second one has a 変更-1. */
  versionsPerGuarantee: 1.5,
  orderers: 1_800,
  officers: 50_000,
  bigOrdererGuarantees: 20_000,
  bigOrdererContracts: 5_000,
  auditRows: 10_000_000,
} as const;

export type ScaleSizes = { guarantees: number; orderers: number; officers: number; bigOrdererGuarantees: number; bigOrdererContracts: number; auditRows: number };

export function scaleSizes(guarantees: number): ScaleSizes {
  const f = guarantees / NATIONAL.guarantees;
  return {
    guarantees,
    orderers: NATIONAL.orderers,
    // Enough for each orderer to have officers besides the big orderer's benchmark officers.
    officers: Math.max(2 * NATIONAL.orderers, Math.round(NATIONAL.officers * f)),
    // At least 5,000 (half the guarantees at most): 1 in 50 cancelled and 1 in 5 expired then fill
    // a page of 100 of each filter on the smallest database too, so that pages of the same size
    // are compared across sizes.
    bigOrdererGuarantees: Math.max(Math.round(NATIONAL.bigOrdererGuarantees * f), Math.min(5_000, Math.floor(guarantees / 2))),
    bigOrdererContracts: Math.max(5, Math.round(NATIONAL.bigOrdererContracts * f)),
    auditRows: Math.max(1_000, Math.round(NATIONAL.auditRows * f)),
  };
}

/** What the benchmark needs to know of a generated database. */
export type ScaleDatabase = {
  sizes: ScaleSizes;
  /** むつ市 (022080): the orderer holding bigOrdererGuarantees. */
  bigOrdererCode: string;
  /** Officers of the big orderer, all with BENCH_PASSWORD. */
  benchOfficers: string[];
  /** Contract numbers of the big orderer's guarantees, all with SCALE_KEY. */
  bigOrdererNumbers: string[];
  /** The ?after= cursor of 確認済みの保証 halfway down the big orderer's list. */
  middleCursor: string;
  phases: Record<string, number>;
  seconds: number;
  bytes: number;
};

/** The n-th orderer's code (n ≥ 1): five digits and their check digit; 0 is むつ市. */
function ordererCode(n: number): string {
  if (n === 0) return ORDERER_CODE;
  const body = String(10_000 + n * 7).padStart(5, "0");
  const sum = [6, 5, 4, 3, 2].reduce((total, w, i) => total + w * Number(body[i]), 0);
  return `${body}${(11 - (sum % 11)) % 10}`;
}

const BENCH_OFFICERS_OF_BIG_ORDERER = 2_000;
const TEN_YEARS_MS = 10 * 365.25 * 24 * 3600 * 1000;
const BATCH = 20_000;

/**
 * Builds the database at `file`: migrated by the project's migrations, the registry (issuer, 1,800
 * orderers) through the services the admin CLI uses, one certificate issued through the issuance
 * service as the template of every other, then officers, guarantees and versions, holdings and the
 * big orderer's contracts through the repositories, with one precomputed argon2 hash for every
 * password and every key (hashing a million keys would take the machine 1.5 hours), and the audit
 * trail as bulk inserts whose hash chain is computed here with the project's chainHash.
 */
export async function buildScaleDatabase(file: string, sizes: ScaleSizes, log: (line: string) => void = () => {}): Promise<ScaleDatabase> {
  const began = performance.now();
  const phases: Record<string, number> = {};
  let mark = performance.now();
  const phase = (name: string) => {
    const now = performance.now();
    phases[name] = Math.round(now - mark) / 1000;
    mark = now;
    log(`${name}: ${phases[name]} s`);
  };
  const db = openDatabase(file);
  migrate(db);
  // A generator, not the service: no fsync per transaction, and a cache of 2 GB that holds the
  // indexes (the audit hashes arrive in random order). WAL again at the end.
  db.pragma("journal_mode = OFF");
  db.pragma("synchronous = OFF");
  db.pragma("cache_size = -2000000");
  const hasher = await createHasher(OWASP_ARGON2);
  const services = createServices({ db, clock: systemClock, hasher });
  const repositories = createRepositories(db);
  seedRegistry(services);
  const orderers = Array.from({ length: sizes.orderers }, (_, n) => ordererCode(n));
  for (const code of orderers.slice(1)) {
    if (!services.orderers.findByCode(code)) {
      const added = services.orderers.add({ code, name: `発注者${code}` }, "bench");
      if (!added.ok) throw new Error(`orderer ${code}: ${JSON.stringify(added.problems)}`);
    }
  }
  const ordererIds = orderers.map((code) => services.orderers.findByCode(code)!.id);
  const issued = await services.issuance.issue(benchCertificates(1, 999_999), { actor: "bench" });
  if (!issued.ok) throw new Error(`the template certificate was refused: ${JSON.stringify(issued.problems)}`);
  const templateGuarantee = repositories.guarantees.findByContractNumber("02208-999999")!;
  const template = repositories.guarantees.currentVersion(templateGuarantee.id)!.content as CertificateContent;
  const issuerId = templateGuarantee.issuerId;
  phase("registry and template (services)");

  const passwordHash = await hasher.hash(BENCH_PASSWORD);
  const keyHash = await hasher.hash(SCALE_KEY);
  phase("two argon2 hashes");

  const now = new Date().toISOString();
  const benchOfficers: string[] = [];
  const officerIdsByOrderer: number[][] = ordererIds.map(() => []);
  db.transaction(() => {
    for (let i = 0; i < sizes.officers; i++) {
      // The big orderer gets its bench officers first; the rest go round the orderers.
      const big = i < Math.min(BENCH_OFFICERS_OF_BIG_ORDERER, sizes.officers / 4);
      const o = big ? 0 : 1 + (i % (sizes.orderers - 1));
      const login = big ? `bench-${String(i + 1).padStart(4, "0")}` : `officer-${orderers[o]}-${i}`;
      const id = repositories.officers.insert({ login, displayName: `職員 ${i}`, ordererId: ordererIds[o]!, passwordHash, mustChangePassword: false, role: "officer" }, now);
      if (id === undefined) throw new Error(`officer ${login} exists already`);
      officerIdsByOrderer[o]!.push(id);
      if (big) benchOfficers.push(login);
    }
  })();
  phase(`${sizes.officers} officers (repository)`);

  // Guarantees go round the orderers, the big one taking its share throughout, as issuance over
  // ten years would interleave them; every orderer holds all of its own (its officers verified them).
  const bigShare = sizes.bigOrdererGuarantees / sizes.guarantees;
  const perOrderer = new Array<number>(sizes.orderers).fill(0);
  const bigOrdererNumbers: string[] = [];
  const start = Date.parse("2016-12-01T00:00:00.000Z");
  let bigTaken = 0;
  let middleCursor = "";
  for (let from = 0; from < sizes.guarantees; from += BATCH) {
    db.transaction(() => {
      for (let i = from; i < Math.min(from + BATCH, sizes.guarantees); i++) {
        const toBig = bigTaken < sizes.bigOrdererGuarantees && (i + 1) * bigShare >= bigTaken + 1;
        const o = toBig ? 0 : 1 + (i % (sizes.orderers - 1));
        if (toBig) bigTaken++;
        const serial = ++perOrderer[o]!;
        const code = orderers[o]!;
        const contractNumber = `${code.slice(0, 5)}-${String(serial).padStart(6, "0")}`;
        const at = new Date(start + (i / sizes.guarantees) * TEN_YEARS_MS).toISOString();
        // By the orderer's own count, so that every orderer (the big one too) has its share.
        const expired = serial % 5 === 3;
        const content: CertificateContent = {
          ...template,
          projectName: `${template.projectName} 第${serial}工区`,
          orderer: { ...template.orderer, code, name: `発注者${code}` },
          guaranteeExpiry: expired ? "2020-03-31" : template.guaranteeExpiry,
          ...(expired ? { periodTo: "2020-03-19", periodFrom: "2019-11-04", contractDate: "2019-11-02", issuedOn: "2019-11-05" } : {}),
        };
        const guaranteeId = repositories.guarantees.insertGuarantee({ contractNumber, product: "advance", issuerId, ordererId: ordererIds[o]!, authKeyHash: keyHash, createdAt: at });
        let versionId = repositories.guarantees.insertVersion({ guaranteeId, sequence: 1, kind: "new", amendmentNumber: 0, correctsVersionId: null, reachedPlatformAt: at, content });
        if (i % 2 === 1) {
          versionId = repositories.guarantees.insertVersion({
            guaranteeId, sequence: 2, kind: "amendment", amendmentNumber: 1, correctsVersionId: null, reachedPlatformAt: at,
            content: { ...content, guaranteeAmount: content.guaranteeAmount + 1_000_000, contractAmount: content.contractAmount + 2_500_000 },
          });
        }
        const officers = officerIdsByOrderer[o]!;
        if (officers.length > 0) {
          repositories.holdings.recordVerified({ ordererId: ordererIds[o]!, guaranteeId, verifiedBy: { kind: "officer", id: officers[serial % officers.length]! }, at, versionId, status: "valid" });
        }
        // One in fifty is cancelled, through the repository as `admin cancel` does it.
        if (serial % 50 === 7) repositories.guarantees.cancel(guaranteeId, "契約解除のため", at);
        if (o === 0) bigOrdererNumbers.push(contractNumber);
        if (o === 0 && bigTaken === Math.ceil(sizes.bigOrdererGuarantees / 2)) middleCursor = `${at}_${contractNumber}`;
      }
    })();
  }
  phase(`${sizes.guarantees} guarantees, their versions and holdings (repositories)`);

  db.transaction(() => {
    for (let i = 0; i < sizes.bigOrdererContracts; i++) {
      const numbers = [bigOrdererNumbers[(2 * i) % bigOrdererNumbers.length]!, bigOrdererNumbers[(2 * i + 1) % bigOrdererNumbers.length]!];
      const id = repositories.contracts.insert(ordererIds[0]!, {
        reference: `R${String(i + 1).padStart(6, "0")}`, projectName: `${template.projectName} 第${i + 1}工区`, contractor: template.contractor.name,
        contractAmount: template.contractAmount, contractDate: template.contractDate, periodFrom: template.periodFrom, periodTo: template.periodTo,
        advanceAmount: template.guaranteeAmount, interimAmount: null, guaranteeRatio: null, guaranteeNumbers: [...new Set(numbers)],
      }, now);
      if (id === undefined) throw new Error(`contract ${i + 1} exists already`);
    }
  })();
  phase(`${sizes.bigOrdererContracts} contracts of the big orderer (repository)`);

  await appendAuditTrail(db, sizes, orderers, benchOfficers);
  phase(`${sizes.auditRows} audit rows (bulk inserts, chain computed with chainHash)`);

  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  const bytes = (db.pragma("page_count", { simple: true }) as number) * (db.pragma("page_size", { simple: true }) as number);
  db.close();
  // Written with synchronous=OFF, the file is still in the page cache, dirty: the server's first
  // fsync would wait for all of it (seconds on a large file). A database years old is on the disk.
  const fd = openSync(file, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  phase("WAL mode, close and fsync");
  return {
    sizes, bigOrdererCode: ORDERER_CODE, benchOfficers, bigOrdererNumbers, middleCursor, phases,
    seconds: Math.round(performance.now() - began) / 1000, bytes,
  };
}

/**
 * The audit trail up to `sizes.auditRows` rows, continuing the chain the services began: officers'
 * logins, verifications and views over ten years, the big orderer's share as large as its share of
 * guarantees. Bulk inserts (one prepared statement, batches of 20,000 rows a transaction); each
 * row's hash is the project's chainHash over the previous one, so `audit verify` accepts the trail.
 */
async function appendAuditTrail(db: Db, sizes: ScaleSizes, orderers: string[], benchOfficers: string[]): Promise<void> {
  const existing = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM audit_events").get()!.n;
  let prevHash = db.prepare<[], { hash: string }>("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1").get()?.hash ?? GENESIS_HASH;
  const insert = db.prepare(`
    INSERT INTO audit_events (occurred_at, event, outcome, actor_kind, actor, officer_id, orderer_code, client_address, contract_number, detail, prev_hash, hash)
    VALUES (?, ?, ?, 'officer', ?, ?, ?, ?, ?, NULL, ?, ?)`);
  const events = ["login_success", "key_verify_success", "guarantee_view", "certificate_view", "certificate_print", "key_verify_fail"] as const;
  const total = Math.max(0, sizes.auditRows - existing);
  const bigShare = sizes.bigOrdererGuarantees / sizes.guarantees;
  const start = Date.parse("2016-12-01T00:00:00.000Z");
  for (let from = 0; from < total; from += BATCH) {
    db.transaction(() => {
      for (let i = from; i < Math.min(from + BATCH, total); i++) {
        const big = (i * 7919) % 1000 < bigShare * 1000;
        const o = big ? 0 : 1 + (i % (orderers.length - 1));
        const code = orderers[o]!;
        const event = events[i % events.length]!;
        const serial = 1 + (i % Math.max(1, Math.round(sizes.guarantees / orderers.length)));
        const row = {
          occurredAt: new Date(start + (i / total) * TEN_YEARS_MS).toISOString(), event,
          outcome: event === "key_verify_fail" ? "wrong-key" : event === "key_verify_success" ? "ok" : "ok",
          actorKind: "officer" as const, actor: big ? benchOfficers[i % benchOfficers.length]! : `officer-${code}-${i % 28}`, officerId: 1 + (i % sizes.officers),
          ordererCode: code, clientAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
          contractNumber: event === "login_success" ? null : `${code.slice(0, 5)}-${String(serial).padStart(6, "0")}`, detail: null,
        };
        const hash = chainHash(prevHash, row);
        insert.run(row.occurredAt, row.event, row.outcome, row.actor, row.officerId, row.ordererCode, row.clientAddress, row.contractNumber, prevHash, hash);
        prevHash = hash;
      }
    })();
    // Let the event loop breathe between batches (nothing else runs in this process).
    if (from % (BATCH * 50) === 0) await new Promise((r) => setImmediate(r));
  }
}
