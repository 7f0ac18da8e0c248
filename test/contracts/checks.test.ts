import { expect } from "chai";
import fc from "fast-check";
import {
  checkContract, checkGuarantee, CONTRACT_STATES, DEFAULT_CHECK_SETTINGS, evaluateContract, foldName,
  type Check, type CheckId, type ContractState, type Link,
} from "../../src/contracts/checks.js";
import { parseContractTerms, type ContractTerms } from "../../src/contracts/contract.schema.js";
import { ceilTimes, floorTimes, type Ratio } from "../../src/contracts/ratio.js";
import type { Product } from "../../src/guarantees/certificate.schema.js";
import { addDays } from "../../src/format/era-date.js";
import type { HeldGuarantee } from "../../src/holdings/holding.repository.js";
import { contractForm, heldGuarantee } from "./fixtures.js";

function terms(overrides: Record<string, string> = {}): ContractTerms {
  const parsed = parseContractTerms(contractForm(overrides));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
}

const TODAY = "2026-11-25";
const resultOf = (checks: Check[], id: CheckId) => {
  const found = checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} among ${checks.map((c) => c.id).join(", ")}`);
  return found.result;
};
const guaranteeResult = (contract: ContractTerms, held: HeldGuarantee, id: CheckId, today = TODAY) => resultOf(checkGuarantee(contract, held, today), id);
const contractResult = (contract: ContractTerms, id: CheckId) => resultOf(checkContract(contract, DEFAULT_CHECK_SETTINGS), id);

const amount = fc.integer({ min: 1, max: 10_000_000_000_000 });
const share = fc.integer({ min: 1, max: 1000 }).chain((denominator) =>
  fc.integer({ min: 1, max: denominator }).map((numerator): Ratio => ({ numerator, denominator })));
const isoDate = fc.date({ min: new Date("1990-01-01T00:00:00Z"), max: new Date("2090-12-31T00:00:00Z"), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

describe("contract checks (pure)", () => {
  describe("contract-amount", () => {
    it("when the certificate's 請負金額 equals the 請負代金額, then it passes, and 1 yen either side fails", () => {
      const contract = terms();
      expect(guaranteeResult(contract, heldGuarantee({ contractAmount: 50_000_000 }), "contract-amount")).to.equal("pass");
      expect(guaranteeResult(contract, heldGuarantee({ contractAmount: 49_999_999 }), "contract-amount")).to.equal("fail");
      expect(guaranteeResult(contract, heldGuarantee({ contractAmount: 50_000_001 }), "contract-amount")).to.equal("fail");
    });

    it("when the figures are shown, then the contract's and the certificate's stand side by side", () => {
      const check = checkGuarantee(terms(), heldGuarantee({ contractAmount: 49_999_999 }), TODAY).find((c) => c.id === "contract-amount")!;
      expect(check).to.include({ rule: "保証証書の請負金額が請負代金額と一致すること", result: "fail" });
      expect(check.source).to.contain("約款");
      expect(check.contract).to.deep.equal({ kind: "yen", value: 50_000_000 });
      expect(check.certificate).to.deep.equal({ kind: "yen", value: 49_999_999 });
    });
  });

  describe("advance-amount and interim-amount", () => {
    it("when the 保証金額 is 1 yen under the 前払金額, then it fails; at it or 1 yen over, it passes", () => {
      const contract = terms({ advanceAmount: "20,000,000円" });
      expect(guaranteeResult(contract, heldGuarantee({ guaranteeAmount: 19_999_999 }), "advance-amount")).to.equal("fail");
      expect(guaranteeResult(contract, heldGuarantee({ guaranteeAmount: 20_000_000 }), "advance-amount")).to.equal("pass");
      expect(guaranteeResult(contract, heldGuarantee({ guaranteeAmount: 20_000_001 }), "advance-amount")).to.equal("pass");
    });

    it("when the guarantee is an interim one, then the 中間前払金額 is the bound, 1 yen either side", () => {
      const contract = terms({ interimAmount: "10000000" });
      const interim = (guaranteeAmount: number) => heldGuarantee({ guaranteeAmount }, { product: "interim" });
      expect(guaranteeResult(contract, interim(9_999_999), "interim-amount")).to.equal("fail");
      expect(guaranteeResult(contract, interim(10_000_000), "interim-amount")).to.equal("pass");
      expect(guaranteeResult(contract, interim(10_000_001), "interim-amount")).to.equal("pass");
    });

    it("when the contract records no advance but an advance guarantee is linked, then it fails (the register or the link is wrong)", () => {
      expect(guaranteeResult(terms({ advanceAmount: "" }), heldGuarantee(), "advance-amount")).to.equal("fail");
      expect(guaranteeResult(terms({ interimAmount: "" }), heldGuarantee({}, { product: "interim" }), "interim-amount")).to.equal("fail");
    });

    it("for any amounts, the advance check passes exactly when the 保証金額 covers the 前払金額", () => {
      fc.assert(fc.property(amount, amount, (advance, guaranteed) => {
        const contract = { ...terms(), advanceAmount: advance };
        expect(guaranteeResult(contract, heldGuarantee({ guaranteeAmount: guaranteed }), "advance-amount")).to.equal(guaranteed >= advance ? "pass" : "fail");
      }));
    });
  });

  describe("advance-ceiling and interim-ceiling", () => {
    it("when the 前払金額 is 4/10 of the 請負代金額 it passes, 1 yen more fails, 1 yen less passes", () => {
      expect(contractResult(terms({ advanceAmount: "20000000" }), "advance-ceiling")).to.equal("pass");
      expect(contractResult(terms({ advanceAmount: "20000001" }), "advance-ceiling")).to.equal("fail");
      expect(contractResult(terms({ advanceAmount: "19999999" }), "advance-ceiling")).to.equal("pass");
    });

    it("when 4/10 of the 請負代金額 is not a whole yen, then the ceiling is rounded down", () => {
      // 50,000,003 × 4/10 = 20,000,001.2
      const contract = terms({ contractAmount: "50000003" });
      const at = (advance: number) => resultOf(checkContract({ ...contract, advanceAmount: advance }, DEFAULT_CHECK_SETTINGS), "advance-ceiling");
      expect(at(20_000_001)).to.equal("pass");
      expect(at(20_000_002)).to.equal("fail");
      const check = checkContract({ ...contract, advanceAmount: 20_000_002 }, DEFAULT_CHECK_SETTINGS)[0]!;
      expect(check.bound).to.deep.equal({ kind: "yen", value: 20_000_001 });
    });

    it("when the orderer sets another ceiling, then that one applies", () => {
      const contract = terms({ advanceAmount: "25000000" });
      const settings = { ...DEFAULT_CHECK_SETTINGS, advanceCeiling: { numerator: 1, denominator: 2 } };
      expect(resultOf(checkContract(contract, settings), "advance-ceiling")).to.equal("pass");
      expect(resultOf(checkContract({ ...contract, advanceAmount: 25_000_001 }, settings), "advance-ceiling")).to.equal("fail");
    });

    it("when the 中間前払金額 is 2/10 of the 請負代金額 it passes, 1 yen more fails; without one, neither ceiling applies", () => {
      expect(contractResult(terms({ interimAmount: "10000000" }), "interim-ceiling")).to.equal("pass");
      expect(contractResult(terms({ interimAmount: "10000001" }), "interim-ceiling")).to.equal("fail");
      expect(contractResult(terms({ interimAmount: "9999999" }), "interim-ceiling")).to.equal("pass");
      expect(contractResult(terms({ interimAmount: "", advanceAmount: "" }), "interim-ceiling")).to.equal("na");
      expect(contractResult(terms({ advanceAmount: "" }), "advance-ceiling")).to.equal("na");
    });

    it("for any amounts and ceiling, an advance passes exactly when advance × denominator <= amount × numerator", () => {
      fc.assert(fc.property(amount, amount, share, (contractAmount, advance, ceiling) => {
        const contract = { ...terms(), contractAmount, advanceAmount: advance };
        const expected = BigInt(advance) * BigInt(ceiling.denominator) <= BigInt(contractAmount) * BigInt(ceiling.numerator);
        const result = resultOf(checkContract(contract, { ...DEFAULT_CHECK_SETTINGS, advanceCeiling: ceiling }), "advance-ceiling");
        expect(result).to.equal(expected ? "pass" : "fail");
        // The ceiling shown is the last amount that passes.
        const top = floorTimes(contractAmount, ceiling);
        if (top > 0) expect(resultOf(checkContract({ ...contract, advanceAmount: top }, { ...DEFAULT_CHECK_SETTINGS, advanceCeiling: ceiling }), "advance-ceiling")).to.equal("pass");
        expect(resultOf(checkContract({ ...contract, advanceAmount: top + 1 }, { ...DEFAULT_CHECK_SETTINGS, advanceCeiling: ceiling }), "advance-ceiling")).to.equal("fail");
      }));
    });
  });

  describe("contract-guarantee-ratio", () => {
    const contractGuarantee = (guaranteeAmount: number) => heldGuarantee({ guaranteeAmount, depositBank: undefined }, { product: "contract" });

    it("when 1/10 of the 請負代金額 is required, then exactly that passes and 1 yen less fails", () => {
      const contract = terms({ guaranteeRatio: "1/10" });
      expect(guaranteeResult(contract, contractGuarantee(4_999_999), "contract-guarantee-ratio")).to.equal("fail");
      expect(guaranteeResult(contract, contractGuarantee(5_000_000), "contract-guarantee-ratio")).to.equal("pass");
      expect(guaranteeResult(contract, contractGuarantee(5_000_001), "contract-guarantee-ratio")).to.equal("pass");
    });

    it("when the product is not a whole yen, then the least amount is rounded up (3/10 of 50,000,001 is 15,000,000.3)", () => {
      const contract = terms({ guaranteeRatio: "3/10", contractAmount: "50000001" });
      expect(guaranteeResult(contract, contractGuarantee(15_000_000), "contract-guarantee-ratio")).to.equal("fail");
      expect(guaranteeResult(contract, contractGuarantee(15_000_001), "contract-guarantee-ratio")).to.equal("pass");
      expect(guaranteeResult(contract, contractGuarantee(15_000_002), "contract-guarantee-ratio")).to.equal("pass");
      const check = checkGuarantee(contract, contractGuarantee(15_000_000), TODAY).find((c) => c.id === "contract-guarantee-ratio")!;
      expect(check.bound).to.deep.equal({ kind: "yen", value: 15_000_001 });
    });

    it("when no 契約保証 is required but one is linked, then its amount is not judged", () => {
      expect(guaranteeResult(terms({ guaranteeRatio: "" }), contractGuarantee(1), "contract-guarantee-ratio")).to.equal("na");
    });

    it("for any amount and ratio, the check passes exactly when 保証金額 × d >= 請負代金額 × n, with exact integers beyond 2^53", () => {
      fc.assert(fc.property(amount, share, fc.integer({ min: -3, max: 3 }), (contractAmount, ratio, offset) => {
        const contract = { ...terms(), contractAmount, guaranteeRatio: ratio };
        const least = ceilTimes(contractAmount, ratio);
        const guaranteed = Math.max(1, least + offset);
        const expected = BigInt(guaranteed) * BigInt(ratio.denominator) >= BigInt(contractAmount) * BigInt(ratio.numerator);
        expect(guaranteeResult(contract, contractGuarantee(guaranteed), "contract-guarantee-ratio")).to.equal(expected ? "pass" : "fail");
        expect(expected).to.equal(guaranteed >= least);
      }));
    });
  });

  describe("period-covered", () => {
    it("when the 保証期限 is the 工期終了 it passes, a day before fails, a day after passes", () => {
      const contract = terms({ periodTo: "2027-03-19" });
      expect(guaranteeResult(contract, heldGuarantee({ guaranteeExpiry: "2027-03-18" }), "period-covered")).to.equal("fail");
      expect(guaranteeResult(contract, heldGuarantee({ guaranteeExpiry: "2027-03-19" }), "period-covered")).to.equal("pass");
      expect(guaranteeResult(contract, heldGuarantee({ guaranteeExpiry: "2027-03-20" }), "period-covered")).to.equal("pass");
    });

    it("for any 工期終了 and offset, it passes exactly when the 保証期限 is not before it", () => {
      fc.assert(fc.property(isoDate, fc.integer({ min: -800, max: 800 }), (periodTo, days) => {
        const contract = { ...terms(), periodFrom: "1990-01-01", contractDate: "1990-01-01", periodTo };
        const expiry = addDays(periodTo, days);
        expect(guaranteeResult(contract, heldGuarantee({ guaranteeExpiry: expiry }), "period-covered", "1990-01-01")).to.equal(days >= 0 ? "pass" : "fail");
      }));
    });
  });

  describe("status", () => {
    it("when today (Tokyo) is the 保証期限 it is still valid; the day after it is expired; cancelled fails whatever the date", () => {
      const contract = terms();
      const held = heldGuarantee({ guaranteeExpiry: "2027-04-18" });
      expect(guaranteeResult(contract, held, "status", "2027-04-17")).to.equal("pass");
      expect(guaranteeResult(contract, held, "status", "2027-04-18")).to.equal("pass");
      expect(guaranteeResult(contract, held, "status", "2027-04-19")).to.equal("fail");
      const cancelled = heldGuarantee({}, { status: "cancelled", cancelledAt: "2026-11-20T00:00:00.000Z", cancelReason: "契約解除" });
      expect(guaranteeResult(contract, cancelled, "status", "2026-11-21")).to.equal("fail");
      const check = checkGuarantee(contract, held, "2027-04-19").find((c) => c.id === "status")!;
      expect(check.certificate).to.deep.equal({ kind: "status", value: "expired" });
    });
  });

  describe("contractor-name and project-name", () => {
    it("when the names differ only by spaces, width or the way 株式会社 is written, then they pass", () => {
      const contract = terms({ contractor: "（株）〇〇建設" });
      for (const name of ["株式会社〇〇建設", "㈱〇〇建設", "(株) 〇〇建設", "株式会社　〇〇建設", "（株）〇〇建設"]) {
        expect(guaranteeResult(contract, heldGuarantee({ contractor: { name, address: "むつ市" } }), "contractor-name"), name).to.equal("pass");
      }
      const project = terms({ projectName: "むつ市道大畑線道路改良工事（その２）" });
      expect(guaranteeResult(project, heldGuarantee({ projectName: "むつ市道 大畑線道路改良工事(その2)" }), "project-name")).to.equal("pass");
    });

    it("when they differ otherwise, then it is a warning, never a fail (前株 and 後株 are different names)", () => {
      const contract = terms({ contractor: "〇〇建設株式会社" });
      expect(guaranteeResult(contract, heldGuarantee({ contractor: { name: "株式会社〇〇建設", address: "むつ市" } }), "contractor-name")).to.equal("warn");
      expect(guaranteeResult(contract, heldGuarantee({ projectName: "別の工事" }), "project-name")).to.equal("warn");
      expect(evaluateContract(contract, [{ contractNumber: "02208-000001", held: heldGuarantee({ projectName: "別の工事" }) }], DEFAULT_CHECK_SETTINGS, TODAY).state, "a warning does not make it 要確認").to.equal("ok");
    });

    it("when the contract names a JV, then the certificate's JV name matches it", () => {
      const contract = terms({ contractor: "むつ・大畑特定建設工事共同企業体" });
      const held = heldGuarantee({ contractor: { name: "〇〇建設株式会社", address: "むつ市", jvName: "むつ・大畑特定建設工事共同企業体" } });
      expect(guaranteeResult(contract, held, "contractor-name")).to.equal("pass");
    });

    it("for any name, spaces anywhere and the 株式会社 spellings fold away", () => {
      const spelling = fc.constantFrom("株式会社", "(株)", "（株）", "㈱", "( 株 )");
      const body = fc.string({ unit: fc.constantFrom(..."〇〇建設工業大畑むつABCａｂｃ１２3-・"), minLength: 1, maxLength: 12 });
      const space = fc.constantFrom(" ", "　", "\t", "");
      fc.assert(fc.property(body, spelling, spelling, space, fc.boolean(), (name, a, b, gap, before) => {
        const one = before ? `${a}${name}` : `${name}${a}`;
        const other = before ? `${b}${gap}${name}` : `${name.split("").join(gap)}${gap}${b}`;
        expect(foldName(one)).to.equal(foldName(other));
      }));
    });
  });

  describe("the contract's state", () => {
    const link = (held: HeldGuarantee | null, contractNumber = "02208-000001"): Link => ({ contractNumber, held });

    it("when the required 前払金保証 is held and every rule holds, then it is 適合", () => {
      const evaluation = evaluateContract(terms(), [link(heldGuarantee())], DEFAULT_CHECK_SETTINGS, TODAY);
      expect(evaluation.state).to.equal("ok");
      expect(evaluation.missing).to.deep.equal([]);
      expect(evaluation.links[0]).to.include({ held: true, state: "valid", changed: false });
    });

    it("when the number is linked but not verified, then it is 未提出 and the link says only the number", () => {
      const evaluation = evaluateContract(terms(), [link(null)], DEFAULT_CHECK_SETTINGS, TODAY);
      expect(evaluation.state).to.equal("missing");
      expect(evaluation.missing).to.deep.equal(["advance"]);
      expect(evaluation.links).to.deep.equal([{ contractNumber: "02208-000001", held: false }]);
    });

    it("when a 契約保証 is required and only the 前払金保証 is held, then it is 未提出 for the contract guarantee", () => {
      const evaluation = evaluateContract(terms({ guaranteeRatio: "1/10", interimAmount: "5000000" }), [link(heldGuarantee())], DEFAULT_CHECK_SETTINGS, TODAY);
      expect(evaluation.state).to.equal("missing");
      expect(evaluation.missing).to.deep.equal(["interim", "contract"]);
    });

    it("when a held guarantee changed since it was last opened, then it is 変更あり; a failing rule outranks it", () => {
      const changed = heldGuarantee({}, { currentVersionId: 2, lastOpenedVersionId: 1 });
      expect(evaluateContract(terms(), [link(changed)], DEFAULT_CHECK_SETTINGS, TODAY).state).to.equal("changed");
      const changedAndShort = heldGuarantee({ guaranteeAmount: 19_999_999 }, { currentVersionId: 2, lastOpenedVersionId: 1 });
      expect(evaluateContract(terms(), [link(changedAndShort)], DEFAULT_CHECK_SETTINGS, TODAY).state).to.equal("attention");
      const cancelledSinceOpened = heldGuarantee({}, { status: "cancelled", cancelledAt: "2026-11-20T00:00:00.000Z", cancelReason: "解除", lastOpenedStatus: "valid" });
      expect(evaluateContract(terms(), [link(cancelledSinceOpened)], DEFAULT_CHECK_SETTINGS, TODAY).state).to.equal("cancelled");
    });

    it("for any mix of guarantees and requirements, the state is the first in the precedence whose condition holds", () => {
      const product = fc.constantFrom<Product>("advance", "interim", "contract");
      const heldArb = fc.record({
        product, cancelled: fc.boolean(), expiryOffset: fc.integer({ min: -2, max: 2 }), changed: fc.boolean(), short: fc.boolean(), verified: fc.boolean(),
      });
      const contractArb = fc.record({ advance: fc.boolean(), interim: fc.boolean(), ratio: fc.boolean(), overCeiling: fc.boolean() });
      fc.assert(fc.property(contractArb, fc.array(heldArb, { maxLength: 4 }), (c, guarantees) => {
        const contract: ContractTerms = {
          ...terms(),
          advanceAmount: c.advance ? (c.overCeiling ? 20_000_001 : 20_000_000) : null,
          interimAmount: c.interim ? 10_000_000 : null,
          guaranteeRatio: c.ratio ? { numerator: 1, denominator: 10 } : null,
        };
        const links = guarantees.map((g, i) => link(g.verified ? heldGuarantee(
          { guaranteeAmount: g.short ? 1 : 20_000_000, guaranteeExpiry: addDays(TODAY, g.expiryOffset), periodTo: "2027-03-19" },
          {
            product: g.product, guaranteeId: i + 1,
            ...(g.cancelled ? { status: "cancelled", cancelledAt: "2026-11-20T00:00:00.000Z", cancelReason: "解除", lastOpenedStatus: "cancelled" } : {}),
            ...(g.changed ? { currentVersionId: 2 } : {}),
          },
        ) : null, `02208-00000${i + 1}`));
        const contractOk = { ...contract, periodTo: "2026-11-23" }; // every expiry offset covers the works period
        const evaluation = evaluateContract(contractOk, links, DEFAULT_CHECK_SETTINGS, TODAY);
        const held = guarantees.filter((g) => g.verified);
        const amountOf: Record<Product, number | null> = { advance: contractOk.advanceAmount, interim: contractOk.interimAmount, contract: contractOk.guaranteeRatio && 5_000_000 };
        const conditions: Record<ContractState, boolean> = {
          cancelled: held.some((g) => g.cancelled),
          expired: held.some((g) => !g.cancelled && g.expiryOffset < 0),
          missing: (["advance", "interim", "contract"] as const).some((p) => amountOf[p] !== null && !held.some((g) => g.product === p)),
          attention: c.advance && c.overCeiling || held.some((g) => g.cancelled || g.expiryOffset < 0 || (g.product !== "contract" && (g.short || amountOf[g.product] === null)) || (g.product === "contract" && g.short && contractOk.guaranteeRatio !== null)),
          changed: held.some((g) => g.changed),
          ok: true,
        };
        expect(evaluation.state).to.equal(CONTRACT_STATES.find((s) => conditions[s]));
      }));
    });
  });
});
