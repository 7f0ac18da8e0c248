import type { IssuedGuarantee } from "../../src/guarantees/issuance.service.js";
import type { World } from "./world.js";

/** The source document's sample: a 前払金保証 of 20,000,000 円 on a 50,000,000 円 contract of むつ市. */
export function sampleCertificate(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    contractNumber: "02208-000001",
    product: "advance",
    issuer: "ejcs",
    branch: { name: "青森支店", tel: "017-722-7262", fax: "017-722-7263" },
    orderer: { code: "022080", title: "むつ市長" },
    contractor: { name: "〇〇建設 株式会社", address: "青森県むつ市中央一丁目8番1号" },
    projectName: "むつ市道大畑線道路改良工事",
    projectLocation: "むつ市大畑町",
    contractAmount: 50000000,
    guaranteeAmount: 20000000,
    depositBank: "青森銀行 むつ支店",
    contractDate: "2026-11-02",
    periodFrom: "2026-11-04",
    periodTo: "2027-03-19",
    guaranteeExpiry: "2027-04-18",
    issuedOn: "2026-11-05",
    ...overrides,
  };
}

function unwrap<T>(outcome: { ok: true; value: T } | { ok: false; problems: unknown[] }): T {
  if (!outcome.ok) throw new Error(`given: refused: ${JSON.stringify(outcome.problems)}`);
  return outcome.value;
}

export function givenIssuer(world: World, code = "ejcs") {
  return world.services.issuers.findByCode(code) ?? unwrap(world.services.issuers.add({
    code, name: "東日本建設業保証株式会社", address: "東京都中央区八丁堀2丁目27番10号", representative: "取締役社長 原田 保夫",
  }, "test"));
}

export function givenOrderer(world: World, code = "022080", name = "むつ市") {
  return world.services.orderers.findByCode(code) ?? unwrap(world.services.orderers.add({ code, name }, "test"));
}

/** An officer with a chosen password (no forced change unless asked). */
export async function givenOfficer(world: World, options: { login?: string; orderer?: string; password?: string; mustChange?: boolean } = {}) {
  const login = options.login ?? "mutsu-tanaka";
  const password = options.password ?? "correct horse battery staple mutsu";
  givenOrderer(world, options.orderer ?? "022080", options.orderer && options.orderer !== "022080" ? `発注者${options.orderer}` : "むつ市");
  const added = unwrap(await world.services.officers.add({ ordererCode: options.orderer ?? "022080", login, displayName: "田中 一郎", password }, "test"));
  if (options.mustChange) unwrap(await world.services.officers.resetPassword(login, "test", undefined));
  return { officer: added.officer, login, password };
}

/** Issues certificates through the same service the CLI uses; returns contract numbers and keys. */
export async function givenGuarantees(world: World, rows: Record<string, unknown>[]): Promise<IssuedGuarantee[]> {
  givenIssuer(world);
  givenOrderer(world);
  return unwrap(await world.services.issuance.issue(rows, { actor: "test" }));
}

export async function givenGuarantee(world: World, overrides: Record<string, unknown> = {}): Promise<IssuedGuarantee> {
  return (await givenGuarantees(world, [sampleCertificate(overrides)]))[0]!;
}
