import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { addDays, tokyoDate } from "../../../src/format/era-date.js";
import { projectRoot } from "../../../src/paths.js";
import { sampleCertificate } from "../../support/given.js";
import { childEnv } from "./server.js";
import type { CertificateContent, Product } from "../../../src/guarantees/certificate.schema.js";

export const ISSUER = {
  code: "ejcs", name: "東日本建設業保証株式会社", address: "東京都中央区八丁堀2丁目27番10号",
  representativeTitle: "取締役社長", representativeName: "原田 保夫",
} as const;
export const OFFICER = { login: "mutsu-tanaka", displayName: "田中 一郎", ordererName: "むつ市" } as const;
/** What the officer sets at the forced change: a passphrase the policy accepts. */
export const NEW_PASSWORD = "むつ湾の帆立は冬が旬です 2026";

/** A row of an issuance file: the certificate's content, naming its issuer and orderer by code. */
export type Certificate = Omit<CertificateContent, "issuer" | "orderer"> & {
  contractNumber: string;
  product: Product;
  issuer: string;
  orderer: { code: string; title: string };
};

export type Kind = "sample" | "interim" | "contract" | "amended" | "cancelled" | "expired";

export type Seeded = {
  officer: { login: string; initialPassword: string; displayName: string };
  /** The certificate each kind shows (the amended one as amended), and its key. */
  guarantees: Record<Kind, { certificate: Certificate; authKey: string; versionLabel: string; status: "有効" | "取消" | "期限切れ" }>;
  cancelReason: string;
};

/**
 * The certificates of the browser tests, dated around `today` (Tokyo). The sample is the source
 * document's: a 前払金保証 of 20,000,000 円 on a 50,000,000 円 contract of むつ市. The amended one has
 * a JV and long names, to show that long text wraps on the page and still fits on one A4 sheet.
 */
export function certificates(today: string): Record<Kind, Certificate> {
  // The unit tests' sample, its dates moved around today; kinds below override what differs.
  const { contractNumber: _number, product: _product, guaranteeAmount: _amount, depositBank: _bank, ...sample } = sampleCertificate({
    contractDate: addDays(today, -23), periodFrom: addDays(today, -21), periodTo: addDays(today, 114),
    guaranteeExpiry: addDays(today, 144), issuedOn: addDays(today, -20),
  });
  const common = sample as Omit<Certificate, "contractNumber" | "product" | "guaranteeAmount" | "depositBank">;
  return {
    sample: { ...common, contractNumber: "02208-000001", product: "advance", guaranteeAmount: 20_000_000, depositBank: "青森銀行 むつ支店" },
    interim: { ...common, contractNumber: "02208-000002", product: "interim", guaranteeAmount: 10_000_000, depositBank: "青森銀行 むつ支店", issuedOn: addDays(today, -2) },
    contract: { ...common, contractNumber: "02208-000003", product: "contract", guaranteeAmount: 5_000_000 },
    amended: {
      ...common,
      contractNumber: "02208-000004",
      product: "advance",
      contractor: {
        name: "株式会社 △△工務店",
        address: "青森県むつ市大畑町字新町四丁目五番六号 △△ビル三階",
        jvName: "△△・□□・◇◇むつ市立大畑中学校校舎改築工事特定建設工事共同企業体",
      },
      projectName: "むつ市立大畑中学校校舎改築工事（建築主体工事）及び附帯する外構工事並びに既存校舎解体工事",
      projectLocation: "むつ市大畑町字中島地内",
      contractAmount: 300_000_000,
      guaranteeAmount: 120_000_000,
      depositBank: "みちのく銀行 大畑支店",
    },
    cancelled: { ...common, contractNumber: "02208-000005", product: "advance", guaranteeAmount: 20_000_000, depositBank: "青森銀行 むつ支店", projectName: "むつ市道川内線舗装補修工事" },
    expired: {
      ...common,
      contractNumber: "02208-000006",
      product: "contract",
      guaranteeAmount: 3_000_000,
      contractAmount: 30_000_000,
      projectName: "むつ市営住宅外壁改修工事",
      contractDate: addDays(today, -400),
      periodFrom: addDays(today, -398),
      periodTo: addDays(today, -60),
      guaranteeExpiry: addDays(today, -30),
      issuedOn: addDays(today, -397),
    },
  };
}

/** 変更-1 of the amended one (it stays in force); 変更-2 is issued and then withdrawn (変更取消). */
const amendment1 = (c: Certificate, today: string) => ({
  contractAmount: 330_000_000, guaranteeAmount: 132_000_000, periodTo: addDays(c.periodTo, 30), guaranteeExpiry: addDays(c.guaranteeExpiry, 30),
  issuedOn: today,
});
const amendment2 = { contractor: { address: "青森県むつ市大畑町字新町七丁目八番九号" } };

export type AdminRun = { status: number; stdout: string; stderr: string };

/** `node --import tsx scripts/admin.ts --db <databasePath> ...args`, as an administrator runs it. */
export function runAdmin(databasePath: string, args: string[]): Promise<AdminRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/admin.ts", "--db", databasePath, ...args], {
      cwd: projectRoot, env: childEnv({}), stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString("utf8"); });
    child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString("utf8"); });
    child.once("error", reject);
    child.once("close", (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}

async function admin(databasePath: string, args: string[]): Promise<string> {
  const run = await runAdmin(databasePath, args);
  if (run.status !== 0) throw new Error(`admin ${args.join(" ")} exited ${run.status}:\n${run.stderr}${run.stdout}`);
  return run.stdout;
}

/**
 * A fresh database (`dir`/kakunin.sqlite) seeded only through the admin CLI: むつ市, the issuer, an
 * officer with a one-time password, six certificates issued from one JSON file, one amended twice
 * with the second amendment withdrawn, one cancelled. The first command migrates the new file
 * alone; later independent commands run side by side (the database has a busy timeout).
 */
export async function seedThroughCli(dir: string): Promise<{ databasePath: string; seeded: Seeded }> {
  const databasePath = path.join(dir, "kakunin.sqlite");
  const today = tokyoDate(new Date());
  const certs = certificates(today);
  const file = (name: string, content: unknown) => {
    const target = path.join(dir, name);
    writeFileSync(target, JSON.stringify(content, null, 2));
    return target;
  };
  const cancelReason = "契約解除のため";

  await admin(databasePath, ["orderer", "add", "--code", "022080", "--name", "むつ市"]);
  const [, officerOut] = await Promise.all([
    admin(databasePath, ["issuer", "add", "--code", ISSUER.code, "--name", ISSUER.name, "--address", ISSUER.address,
      "--representative", `${ISSUER.representativeTitle} ${ISSUER.representativeName}`]),
    admin(databasePath, ["officer", "add", "--orderer", "022080", "--login", OFFICER.login, "--name", OFFICER.displayName]),
  ]);
  const initialPassword = /^initial password: (\S+)$/m.exec(officerOut)?.[1];
  if (!initialPassword) throw new Error(`officer add printed no initial password:\n${officerOut}`);

  const issued = await admin(databasePath, ["issue", file("certificates.json", Object.values(certs)), "--json"]);
  const keys = new Map(issued.trim().split("\n").map((line) => {
    const row = JSON.parse(line) as { contractNumber: string; authKey: string };
    return [row.contractNumber, row.authKey] as const;
  }));

  await Promise.all([
    admin(databasePath, ["amend", certs.amended.contractNumber, file("amendment-1.json", amendment1(certs.amended, today))]),
    admin(databasePath, ["cancel", certs.cancelled.contractNumber, "--reason", cancelReason]),
  ]);
  await admin(databasePath, ["amend", certs.amended.contractNumber, file("amendment-2.json", amendment2)]);
  await admin(databasePath, ["withdraw", certs.amended.contractNumber]);

  const shown: Record<Kind, Certificate> = { ...certs, amended: { ...certs.amended, ...amendment1(certs.amended, today) } };
  const entry = (kind: Kind, versionLabel: string, status: "有効" | "取消" | "期限切れ") => {
    const authKey = keys.get(shown[kind].contractNumber);
    if (!authKey) throw new Error(`no key was printed for ${shown[kind].contractNumber}`);
    return { certificate: shown[kind], authKey, versionLabel, status };
  };
  return {
    databasePath,
    seeded: {
      officer: { login: OFFICER.login, initialPassword, displayName: OFFICER.displayName },
      guarantees: {
        sample: entry("sample", "新規", "有効"),
        interim: entry("interim", "新規", "有効"),
        contract: entry("contract", "新規", "有効"),
        amended: entry("amended", "変更-1", "有効"),
        cancelled: entry("cancelled", "新規", "取消"),
        expired: entry("expired", "新規", "期限切れ"),
      },
      cancelReason,
    },
  };
}

let template: Promise<{ databasePath: string; seeded: Seeded }> | undefined;

/**
 * A fresh copy, in `dir`, of a database seeded through the admin CLI once per test process: each
 * browser test file gets its own untouched world without paying for eight CLI runs again (about
 * 4 s on an idle 2-core machine, 10 s on a busy one).
 */
export async function seededDatabase(dir: string): Promise<{ databasePath: string; seeded: Seeded }> {
  template ??= (async () => {
    const templateDir = mkdtempSync(path.join(tmpdir(), "kakunin-browser-seed-"));
    process.once("exit", () => rmSync(templateDir, { recursive: true, force: true }));
    return seedThroughCli(templateDir);
  })();
  const seed = await template;
  const databasePath = path.join(dir, "kakunin.sqlite");
  // Every CLI run has closed the file, so its WAL is checkpointed; copy one if it is still there.
  for (const suffix of ["", "-wal"]) {
    if (existsSync(seed.databasePath + suffix)) copyFileSync(seed.databasePath + suffix, databasePath + suffix);
  }
  return { databasePath, seeded: structuredClone(seed.seeded) };
}

/** A contract number as typed on a Japanese keyboard in full-width mode: ０２２０８－０００００１. */
export function fullWidth(contractNumber: string): string {
  return contractNumber.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0)).replace("-", "－");
}
