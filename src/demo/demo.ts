import type { Clock } from "../clock.js";
import { addDays, tokyoDate } from "../format/era-date.js";
import type { Product } from "../guarantees/certificate.schema.js";
import { versionLabel } from "../guarantees/version-label.js";
import { describeProblem, type Outcome } from "../result.js";
import { generateInitialPassword } from "../security/secrets.js";
import type { Services } from "../composition.js";
import { officerActor } from "../verification/verification.service.js";

/**
 * The demo world of the source document: 東日本建設業保証 (青森支店) issues むつ市 a 前払金保証 and a
 * 契約保証 on one contract, plus a guarantee with one 変更 to show the history; むつ市 holds them and
 * keeps their contracts in its register. Used by the `demo`
 * command and the security scan; tests build their own data.
 */

export const DEMO_ISSUER = {
  code: "ejcs",
  name: "東日本建設業保証株式会社",
  address: "東京都中央区八丁堀2丁目27番10号",
  representative: "取締役社長 原田 保夫",
} as const;

export const DEMO_BRANCH = { name: "青森支店", tel: "017-722-7262" } as const;
export const DEMO_ORDERER = { code: "022080", name: "むつ市", title: "むつ市長" } as const;
export const DEMO_OFFICER = { login: "mutsu-demo", displayName: "むつ 太郎" } as const;
/** むつ市's administrator (所属管理者), with a second factor enrolled: its secret is printed for an authenticator app. */
export const DEMO_ADMIN = { login: "mutsu-admin", displayName: "むつ 花子" } as const;
export const DEMO_API_CLIENT_NAME = "デモ契約管理システム";
export const DEMO_CONTRACT_NUMBERS = ["02208-000001", "02208-000002", "02208-000003"] as const;
/** The 契約番号 of the demo register's one contract. */

export type DemoGuarantee = {
  contractNumber: string;
  product: Product;
  projectName: string;
  /** 新規 or 変更-N: the version an officer sees first. */
  label: string;
  /** Fresh on every run; null when the guarantee was cancelled meanwhile (its key cannot change). */
  authKey: string | null;
  status: "valid" | "cancelled";
};

export type DemoResult = {
  officer: { login: string; password: string; displayName: string; ordererCode: string; ordererName: string };
  /** The administrator's password and TOTP secret, fresh from this run (the secret is stored sealed). */
  admin: { login: string; password: string; displayName: string; totpSecret: string };
  guarantees: DemoGuarantee[];
  /** The demo orderer's API client, with a secret fresh from this run (only its hash is stored). */
  apiClient: { clientId: string; clientSecret: string };
  /** What this run created, as opposed to found. */
  created: { issuer: boolean; orderer: boolean; officer: boolean; guarantees: string[]; contracts: string[] };
};

function unwrap<T>(what: string, outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`demo: cannot ${what}: ${outcome.problems.map(describeProblem).join("; ")}`);
  return outcome.value;
}

/** The three sample certificates, dated around today (Asia/Tokyo) so that none is 期限切れ. */
export function demoCertificates(today: string): Record<string, unknown>[] {
  const common = {
    issuer: DEMO_ISSUER.code,
    branch: { ...DEMO_BRANCH },
    orderer: { code: DEMO_ORDERER.code, title: DEMO_ORDERER.title },
    contractor: { name: "〇〇建設 株式会社", address: "青森県むつ市〇〇町一丁目2番3号" },
    projectName: "むつ市道大畑線道路改良工事",
    projectLocation: "むつ市大畑町",
    contractAmount: 50_000_000,
    contractDate: addDays(today, -23),
    periodFrom: addDays(today, -21),
    periodTo: addDays(today, 114),
    guaranteeExpiry: addDays(today, 144),
    issuedOn: addDays(today, -20),
  };
  return [
    { ...common, contractNumber: DEMO_CONTRACT_NUMBERS[0], product: "advance", guaranteeAmount: 20_000_000, depositBank: "〇〇銀行 むつ支店" },
    { ...common, contractNumber: DEMO_CONTRACT_NUMBERS[1], product: "contract", guaranteeAmount: 5_000_000 },
    {
      ...common,
      contractNumber: DEMO_CONTRACT_NUMBERS[2],
      product: "advance",
      contractor: { name: "株式会社 △△工務店", address: "青森県むつ市△△町四丁目5番6号", jvName: "△△・□□特定建設工事共同企業体" },
      projectName: "むつ市立〇〇小学校屋内運動場改修工事",
      projectLocation: "むつ市〇〇町",
      contractAmount: 30_000_000,
      guaranteeAmount: 12_000_000,
      depositBank: "〇〇銀行 むつ支店",
    },
  ];
}

/**
 * むつ市's contract register: the samples' contracts, one of them 要確認 (its 前払金額 is above
 * both the guarantee's 保証金額 and the 10分の4 ceiling), and one whose guarantee was never
 * verified (未提出), so that a newcomer sees at once what the 照合 finds.
 */
export function demoContracts(today: string): Record<string, string>[] {
  const common = {
    contractor: "〇〇建設 株式会社", contractAmount: "50000000",
    contractDate: addDays(today, -23), periodFrom: addDays(today, -21), periodTo: addDays(today, 114),
    interimAmount: "", guaranteeRatio: "",
  };
  return [
    {
      ...common, reference: "R8-土木-001", projectName: "むつ市道大畑線道路改良工事", advanceAmount: "20000000", guaranteeRatio: "1/10",
      guaranteeNumbers: `${DEMO_CONTRACT_NUMBERS[0]}、${DEMO_CONTRACT_NUMBERS[1]}`,
    },
    {
      ...common, reference: "R8-建築-002", projectName: "むつ市立〇〇小学校屋内運動場改修工事", contractor: "△△・□□特定建設工事共同企業体",
      contractAmount: "33000000", periodTo: addDays(today, 144), advanceAmount: "14000000", guaranteeNumbers: DEMO_CONTRACT_NUMBERS[2],
    },
    {
      ...common, reference: "R8-土木-003", projectName: "むつ市道川内線舗装補修工事", contractAmount: "18000000", advanceAmount: "7200000",
      guaranteeNumbers: "02208-000099",
    },
  ];
}

/** The 変更-1 of the third sample: the contract grew and the works were extended by a month. */
function demoAmendment(today: string) {
  return { contractAmount: 33_000_000, guaranteeAmount: 13_200_000, periodTo: addDays(today, 144), guaranteeExpiry: addDays(today, 174) };
}

/**
 * Idempotent: creates only what is absent; on every run gives the demo officer a fresh password
 * (no forced change, so a newcomer can verify at once), the demo guarantees fresh keys and the
 * demo API client a fresh secret (only hashes are stored, so this is the only way to show usable ones).
 */
/** Why the demo must not touch this database, if it must not: it only ever runs on a database that
 * holds nothing but the demo's own issuer, orderer and officer, never on a production one. */
export function demoRefusal(services: Services, nodeEnv: string): string | undefined {
  if (nodeEnv === "production") return "the demo never runs with NODE_ENV=production";
  const strangers = [
    ...services.issuers.list().filter((i) => i.code !== DEMO_ISSUER.code).map((i) => `issuer ${i.code}`),
    ...services.orderers.list().filter((o) => o.code !== DEMO_ORDERER.code).map((o) => `orderer ${o.code}`),
    ...services.officers.list().filter((o) => o.login !== DEMO_OFFICER.login && o.login !== DEMO_ADMIN.login).map((o) => `officer ${o.login}`),
  ];
  return strangers.length > 0
    ? `this database holds more than the demo (${strangers.slice(0, 3).join(", ")}${strangers.length > 3 ? ", …" : ""}); the demo only runs on a demo database`
    : undefined;
}

export async function seedDemo(services: Services, clock: Clock, options: { actor?: string } = {}): Promise<DemoResult> {
  const actor = options.actor ?? "demo";
  const today = tokyoDate(clock.now());
  const created: DemoResult["created"] = { issuer: false, orderer: false, officer: false, guarantees: [], contracts: [] };

  if (!services.issuers.findByCode(DEMO_ISSUER.code)) {
    unwrap("add the demo issuer", services.issuers.add({ ...DEMO_ISSUER }, actor));
    created.issuer = true;
  }
  if (!services.orderers.findByCode(DEMO_ORDERER.code)) {
    unwrap("add the demo orderer", services.orderers.add({ code: DEMO_ORDERER.code, name: DEMO_ORDERER.name }, actor));
    created.orderer = true;
  }

  const password = generateInitialPassword();
  const existing = services.officers.findByLogin(DEMO_OFFICER.login);
  if (!existing) {
    unwrap("add the demo officer", await services.officers.add({ ordererCode: DEMO_ORDERER.code, login: DEMO_OFFICER.login, displayName: DEMO_OFFICER.displayName, password }, actor));
    created.officer = true;
  } else {
    unwrap("reset the demo officer's password", await services.officers.resetPassword(DEMO_OFFICER.login, actor, password));
    if (!existing.active) unwrap("enable the demo officer", services.officers.setActive(DEMO_OFFICER.login, true, actor));
  }
  const officer = services.officers.findByLogin(DEMO_OFFICER.login)!;
  const admin = await seedDemoAdmin(services, actor);

  const certificates = demoCertificates(today);
  const missing = certificates.filter((c) => !services.guarantees.findByContractNumber(c.contractNumber as string));
  const keys = new Map<string, string>();
  if (missing.length > 0) {
    for (const issued of unwrap("issue the demo guarantees", await services.issuance.issue(missing, { actor }))) {
      keys.set(issued.contractNumber, issued.authKey);
      created.guarantees.push(issued.contractNumber);
    }
  }

  const amended = services.guarantees.findByContractNumber(DEMO_CONTRACT_NUMBERS[2])!;
  const hasAmendment = services.guarantees.listVersions(amended.id).some((v) => v.kind === "amendment");
  if (!hasAmendment && amended.status === "valid") {
    // The orderer holds the third sample before its 変更, so the 変更-1 is a notice (お知らせ).
    const key = keys.get(amended.contractNumber);
    if (key) await services.verification.verify({ actor: officerActor(officer), contractNumber: amended.contractNumber, authKey: key, clientAddress: "127.0.0.1" });
    unwrap("amend the third demo guarantee", services.guarantees.change(amended.contractNumber, "amendment", demoAmendment(today), actor));
  }

  const guarantees: DemoGuarantee[] = [];
  for (const contractNumber of DEMO_CONTRACT_NUMBERS) {
    const guarantee = services.guarantees.findByContractNumber(contractNumber)!;
    let authKey = keys.get(contractNumber) ?? null;
    if (authKey === null && guarantee.status === "valid") {
      authKey = unwrap("rotate a demo key", await services.guarantees.rotateKey(contractNumber, actor)).authKey;
    }
    const current = services.guarantees.currentVersion(guarantee.id)!;
    guarantees.push({
      contractNumber, product: guarantee.product, projectName: current.content.projectName,
      label: versionLabel(current), authKey, status: guarantee.status,
    });
  }

  // The demo officer verifies each valid sample with its fresh key, as on the web, so that
  // むつ市 holds them and the contracts' links count.
  for (const g of guarantees) {
    if (g.authKey === null) continue;
    const verified = await services.verification.verify({ actor: officerActor(officer), contractNumber: g.contractNumber, authKey: g.authKey, clientAddress: "demo" });
    if (!verified.ok) throw new Error(`demo: cannot verify ${g.contractNumber}: ${verified.reason}`);
  }
  const actorForContracts = {
    kind: "admin" as const, login: actor, officerId: null, ordererId: officer.ordererId, ordererCode: officer.ordererCode, clientAddress: null,
  };
  for (const contract of demoContracts(today)) {
    if (services.contracts.find(officer.ordererId, contract.reference!)) continue;
    unwrap(`register the demo contract ${contract.reference}`, services.contracts.save(actorForContracts, contract, null));
    created.contracts.push(contract.reference!);
  }
  // The scan finds R8-土木-003 still 未提出 23 days after its 契約日: with the 変更-1 above, two notices.
  services.notifications.scan();
  const known = unwrap("list the demo API clients", services.apiClients.list(DEMO_ORDERER.code)).find((c) => c.name === DEMO_API_CLIENT_NAME);
  if (known && !known.active) unwrap("enable the demo API client", services.apiClients.setActive(known.clientId, true, actor));
  const credentials = known
    ? unwrap("give the demo API client a new secret", services.apiClients.rotateSecret(known.clientId, actor))
    : unwrap("add the demo API client", services.apiClients.add({ ordererCode: DEMO_ORDERER.code, name: DEMO_API_CLIENT_NAME }, actor));

  return {
    apiClient: { clientId: credentials.client.clientId, clientSecret: credentials.clientSecret },
    officer: { login: officer.login, password, displayName: officer.displayName, ordererCode: officer.ordererCode, ordererName: officer.ordererName },
    admin,
    guarantees,
    created,
  };
}

/** The administrator: added once, then on every run a fresh password and a fresh second factor
 * (the stored secret is sealed: only a new one can be printed). */
async function seedDemoAdmin(services: Services, actor: string): Promise<DemoResult["admin"]> {
  const password = generateInitialPassword();
  const existing = services.officers.findByLogin(DEMO_ADMIN.login);
  if (!existing) {
    unwrap("add the demo administrator", await services.officers.add({
      ordererCode: DEMO_ORDERER.code, login: DEMO_ADMIN.login, displayName: DEMO_ADMIN.displayName, password, role: "admin",
    }, actor));
  } else {
    unwrap("reset the demo administrator's password", await services.officers.resetPassword(DEMO_ADMIN.login, actor, password));
    if (!existing.active) unwrap("enable the demo administrator", services.officers.setActive(DEMO_ADMIN.login, true, actor));
  }
  const admin = services.officers.findByLogin(DEMO_ADMIN.login)!;
  const { secret } = services.secondFactors.provision(admin, actor);
  return { login: admin.login, password, displayName: admin.displayName, totpSecret: secret };
}
