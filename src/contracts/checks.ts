import type { Product } from "../guarantees/certificate.schema.js";
import { guaranteeState, type GuaranteeState } from "../guarantees/guarantee-state.js";
import { changedSinceOpened, type HeldGuarantee } from "../holdings/holding.repository.js";
import type { ContractTerms } from "./contract.schema.js";
import { ceilTimes, floorTimes, isWithin, type Ratio } from "./ratio.js";

/**
 * 照合: pure rules comparing a contract with the guarantees its orderer holds for it. No SQL and
 * no clock: the caller passes the guarantees and `today` (the Tokyo calendar date, see tokyoDate).
 */

export type RuleResult = "pass" | "fail" | "warn" | "na";

export type CheckId =
  | "contract-amount" | "advance-amount" | "advance-ceiling" | "interim-amount" | "interim-ceiling"
  | "contract-guarantee-ratio" | "period-covered" | "status" | "contractor-name" | "project-name";

/** A value shown on one side of a check, formatted by the presenter. */
export type Figure =
  | { kind: "yen"; value: number }
  | { kind: "date"; value: string }
  | { kind: "text"; value: string }
  | { kind: "status"; value: GuaranteeState };

export type Check = {
  id: CheckId;
  /** The rule in Japanese, as the register shows it. */
  rule: string;
  /** Where the rule comes from. */
  source: string;
  result: RuleResult;
  /** The contract's figure and the certificate's, side by side; null when that side has none. */
  contract: Figure | null;
  certificate: Figure | null;
  /** The limit the rule computed from the contract (a ceiling, a least amount), when there is one. */
  bound?: Figure;
};

export const RULES: Readonly<Record<CheckId, { rule: string; source: string }>> = {
  "contract-amount": {
    rule: "保証証書の請負金額が請負代金額と一致すること",
    source: "公共工事標準請負契約約款 第4条・第34条（保証は当該請負契約について付す）",
  },
  "advance-amount": {
    rule: "前払金保証の保証金額が前払金額以上であること",
    source: "公共工事標準請負契約約款 第34条第1項（前払金の保証契約）",
  },
  "advance-ceiling": {
    rule: "前払金額が請負代金額の上限割合（既定 10分の4）以内であること",
    source: "地方自治法施行規則 附則第3条第1項、公共工事標準請負契約約款 第34条第1項",
  },
  "interim-amount": {
    rule: "中間前払金保証の保証金額が中間前払金額以上であること",
    source: "公共工事標準請負契約約款 第34条第3項（中間前払金の保証契約）",
  },
  "interim-ceiling": {
    rule: "中間前払金額が請負代金額の上限割合（既定 10分の2）以内であること",
    source: "地方自治法施行規則 附則第3条第3項、公共工事標準請負契約約款 第34条第3項",
  },
  "contract-guarantee-ratio": {
    rule: "契約保証の保証金額が請負代金額に契約保証割合を乗じた額（円未満切上げ）以上であること",
    source: "公共工事標準請負契約約款 第4条第1項（10分の1以上。低入札価格調査を経た契約は発注者の定めにより10分の3以上）",
  },
  "period-covered": {
    rule: "保証期限が工期終了日以後であること",
    source: "公共工事標準請負契約約款 第34条第1項（工事完成の時期を保証期限とする）",
  },
  status: {
    rule: "保証が有効であること（取消されておらず、保証期限を過ぎていない）",
    source: "電子保証の状態（取消・保証期限、日本時間）",
  },
  "contractor-name": {
    rule: "受注者名が保証証書の保証契約者名と一致すること（空白・全角半角・株式会社の略記の違いは問わない。不一致は警告）",
    source: "保証証書の記載事項との照合",
  },
  "project-name": {
    rule: "工事名が保証証書の工事名と一致すること（空白・全角半角・株式会社の略記の違いは問わない。不一致は警告）",
    source: "保証証書の記載事項との照合",
  },
};

/** The orderer's ceilings on advances as shares of the contract amount (a per-orderer setting). */
export type CheckSettings = { advanceCeiling: Ratio; interimCeiling: Ratio };
export const DEFAULT_CHECK_SETTINGS: CheckSettings = {
  advanceCeiling: { numerator: 2, denominator: 5 }, // 10分の4, in lowest terms
  interimCeiling: { numerator: 1, denominator: 5 }, // 10分の2
};

const yen = (value: number): Figure => ({ kind: "yen", value });
const date = (value: string): Figure => ({ kind: "date", value });
const text = (value: string): Figure => ({ kind: "text", value });

function check(id: CheckId, result: RuleResult, contract: Figure | null, certificate: Figure | null, bound?: Figure): Check {
  return { id, ...RULES[id], result, contract, certificate, ...(bound ? { bound } : {}) };
}

const passIf = (ok: boolean): RuleResult => (ok ? "pass" : "fail");

/**
 * Names compared as a person would: NFKC (full-width and half-width alike, ㈱ and （株） become
 * (株)), no whitespace at all, and (株)/(有) read as 株式会社/有限会社. Where 株式会社 stands (前株,
 * 後株) still matters: it is part of the legal name.
 */
export function foldName(name: string): string {
  return name.normalize("NFKC").replace(/\s/gu, "").replaceAll("(株)", "株式会社").replaceAll("(有)", "有限会社");
}

/** The contract's own checks: its advances against the orderer's ceilings. */
export function checkContract(contract: ContractTerms, settings: CheckSettings): Check[] {
  const ceiling = (id: CheckId, amount: number | null, share: Ratio) =>
    amount === null
      ? check(id, "na", null, null)
      : check(id, passIf(isWithin(amount, contract.contractAmount, share)), yen(amount), null, yen(floorTimes(contract.contractAmount, share)));
  return [
    ceiling("advance-ceiling", contract.advanceAmount, settings.advanceCeiling),
    ceiling("interim-ceiling", contract.interimAmount, settings.interimCeiling),
  ];
}

/** The product's own amount rule. A guarantee for an advance the contract does not record fails:
 * the register or the guarantee is wrong. A 契約保証 given though none is required is not checked. */
function productCheck(contract: ContractTerms, held: HeldGuarantee): Check {
  const guaranteed = yen(held.content.guaranteeAmount);
  switch (held.product) {
    case "advance":
      return contract.advanceAmount === null
        ? check("advance-amount", "fail", null, guaranteed)
        : check("advance-amount", passIf(held.content.guaranteeAmount >= contract.advanceAmount), yen(contract.advanceAmount), guaranteed);
    case "interim":
      return contract.interimAmount === null
        ? check("interim-amount", "fail", null, guaranteed)
        : check("interim-amount", passIf(held.content.guaranteeAmount >= contract.interimAmount), yen(contract.interimAmount), guaranteed);
    case "contract": {
      if (contract.guaranteeRatio === null) return check("contract-guarantee-ratio", "na", yen(contract.contractAmount), guaranteed);
      const least = ceilTimes(contract.contractAmount, contract.guaranteeRatio);
      return check("contract-guarantee-ratio", passIf(held.content.guaranteeAmount >= least), yen(contract.contractAmount), guaranteed, yen(least));
    }
  }
}

/** One held guarantee against the contract it was linked to. */
export function checkGuarantee(contract: ContractTerms, held: HeldGuarantee, today: string): Check[] {
  const c = held.content;
  const state = guaranteeState(held, c, today);
  const nameMatches = [c.contractor.name, c.contractor.jvName].some((name) => name !== undefined && foldName(name) === foldName(contract.contractor));
  return [
    check("contract-amount", passIf(c.contractAmount === contract.contractAmount), yen(contract.contractAmount), yen(c.contractAmount)),
    productCheck(contract, held),
    check("period-covered", passIf(c.guaranteeExpiry >= contract.periodTo), date(contract.periodTo), date(c.guaranteeExpiry)),
    check("status", passIf(state === "valid"), null, { kind: "status", value: state }),
    // A JV's contract names the JV; its certificate names the JV's representative and the JV.
    check("contractor-name", nameMatches ? "pass" : "warn", text(contract.contractor), text(c.contractor.jvName ?? c.contractor.name)),
    check("project-name", foldName(c.projectName) === foldName(contract.projectName) ? "pass" : "warn", text(contract.projectName), text(c.projectName)),
  ];
}

/** 前払金保証 when there is a 前払金, 中間前払金保証 when there is an interim one, 契約保証 when required. */
export function requiredProducts(contract: ContractTerms): Product[] {
  const products: Product[] = [];
  if (contract.advanceAmount !== null) products.push("advance");
  if (contract.interimAmount !== null) products.push("interim");
  if (contract.guaranteeRatio !== null) products.push("contract");
  return products;
}

/**
 * One state per contract. The first that applies wins, most urgent first:
 * - cancelled (取消): a guarantee it relies on was cancelled; nothing else matters until replaced;
 * - expired (期限切れ): one has passed its 保証期限;
 * - missing (未提出): a guarantee the contract requires is not held (a number not yet verified
 *   with its key counts as not held);
 * - attention (要確認): a rule fails (warnings do not count);
 * - changed (変更あり): everything holds, but a guarantee changed since the orderer last opened it;
 * - ok (適合).
 */
export const CONTRACT_STATES = ["cancelled", "expired", "missing", "attention", "changed", "ok"] as const;
export type ContractState = (typeof CONTRACT_STATES)[number];

export const CONTRACT_STATE_LABELS: Readonly<Record<ContractState, string>> = {
  cancelled: "取消", expired: "期限切れ", missing: "未提出", attention: "要確認", changed: "変更あり", ok: "適合",
};

/** A linked 保証契約番号: the guarantee, when the orderer holds it; else only the number (未確認). */
export type Link = { contractNumber: string; held: HeldGuarantee | null };

export type LinkReview =
  | { contractNumber: string; held: false }
  | { contractNumber: string; held: true; guarantee: HeldGuarantee; state: GuaranteeState; changed: boolean; checks: Check[] };

export type ContractEvaluation = {
  state: ContractState;
  /** Checks of the contract alone (the ceilings). */
  contractChecks: Check[];
  /** Each linked number in order, with its checks when held. */
  links: LinkReview[];
  /** Required products no held guarantee provides (未提出). */
  missing: Product[];
};

export function evaluateContract(contract: ContractTerms, links: readonly Link[], settings: CheckSettings, today: string): ContractEvaluation {
  const contractChecks = checkContract(contract, settings);
  const reviews: LinkReview[] = links.map(({ contractNumber, held }) =>
    held === null
      ? { contractNumber, held: false }
      : { contractNumber, held: true, guarantee: held, state: guaranteeState(held, held.content, today), changed: changedSinceOpened(held), checks: checkGuarantee(contract, held, today) });
  const held = reviews.filter((r) => r.held);
  const missing = requiredProducts(contract).filter((product) => !held.some((r) => r.guarantee.product === product));
  const fails = [...contractChecks, ...held.flatMap((r) => r.checks)].some((c) => c.result === "fail");
  const present: Record<ContractState, boolean> = {
    cancelled: held.some((r) => r.state === "cancelled"),
    expired: held.some((r) => r.state === "expired"),
    missing: missing.length > 0,
    attention: fails,
    changed: held.some((r) => r.changed),
    ok: true,
  };
  return { state: CONTRACT_STATES.find((state) => present[state])!, contractChecks, links: reviews, missing };
}
