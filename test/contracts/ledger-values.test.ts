import { expect } from "chai";
import { parse as parseCsv } from "csv-parse/sync";
import fc from "fast-check";
import { parseContractTerms, parseLedgerDate } from "../../src/contracts/contract.schema.js";
import { toCsvText } from "../../src/contracts/ledger-file.js";
import { guardCell, unguardCell } from "../../src/format/csv.js";
import { formatRatio, formatRatioForSpreadsheet, parseRatio, ratio } from "../../src/contracts/ratio.js";
import { addDays, formatEraDate, parseEraDate } from "../../src/format/era-date.js";
import { contractForm } from "./fixtures.js";

const toFullWidth = (s: string) => s.replace(/[0-9/%.]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

describe("contract values as typed in a form or a ledger", () => {
  describe("契約保証割合", () => {
    it("when written 1/10, 10分の1, 10%, 0.1 or in full width, then it is one tenth; 3/10 likewise", () => {
      for (const text of ["1/10", "10分の1", "10%", "0.1", ".1", "１／１０", "１０％", " 1 / 10 ", "10.0%", "0.10"]) {
        expect(parseRatio(text), text).to.deep.equal({ numerator: 1, denominator: 10 });
      }
      for (const text of ["3/10", "10分の3", "30%", "0.3"]) expect(parseRatio(text), text).to.deep.equal({ numerator: 3, denominator: 10 });
      expect(parseRatio("12.5%")).to.deep.equal({ numerator: 1, denominator: 8 });
    });

    it("when it is zero, above 1, negative, a bare number or Excel's date for 1/10, then it is not read", () => {
      for (const text of ["0", "0%", "0/10", "11/10", "110%", "-1/10", "10", "1", "1月10日", "1/0", "abc", "1/10/2026", "1,5"]) {
        expect(parseRatio(text), text).to.equal(undefined);
      }
    });

    it("for any fraction n/d <= 1, it reads back in lowest terms from every way it can be written", () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 2000 }), (a, b) => {
        const [n, d] = a <= b ? [a, b] : [b, a];
        const expected = ratio(n, d)!;
        expect(parseRatio(`${n}/${d}`)).to.deep.equal(expected);
        expect(parseRatio(`${d}分の${n}`)).to.deep.equal(expected);
        expect(parseRatio(toFullWidth(`${n}/${d}`))).to.deep.equal(expected);
        expect(parseRatio(formatRatio(expected))).to.deep.equal(expected);
        expect(parseRatio(formatRatioForSpreadsheet(expected))).to.deep.equal(expected);
      }));
    });

    it("when written for Excel, then a percentage is used where it is exact (Excel reads 1/10 as a date)", () => {
      expect(formatRatioForSpreadsheet({ numerator: 1, denominator: 10 })).to.equal("10%");
      expect(formatRatioForSpreadsheet({ numerator: 3, denominator: 10 })).to.equal("30%");
      expect(formatRatioForSpreadsheet({ numerator: 1, denominator: 8 })).to.equal("12.5%");
      expect(formatRatioForSpreadsheet({ numerator: 1, denominator: 3 })).to.equal("1/3");
    });
  });

  describe("dates", () => {
    it("when written 2026-04-01, 2026/4/1, 2026年4月1日, 令和8年4月1日 or in full width, then they are 2026-04-01", () => {
      for (const text of ["2026-04-01", "2026/4/1", "2026/04/01", "2026年4月1日", "令和8年4月1日", "令和８年４月１日", "令和 8年 4月 1日", "２０２６／４／１"]) {
        expect(parseLedgerDate(text), text).to.equal("2026-04-01");
      }
    });

    it("when the era year is 元年, then it is the era's first year, from the era's first day only", () => {
      expect(parseEraDate("令和元年5月1日")).to.equal("2019-05-01");
      expect(parseEraDate("令和元年4月30日"), "the day before 令和 began").to.equal(undefined);
      expect(parseEraDate("平成31年4月30日")).to.equal("2019-04-30");
      expect(parseEraDate("平成31年5月1日"), "the day 令和 began").to.equal(undefined);
      expect(parseEraDate("平成元年1月8日")).to.equal("1989-01-08");
      expect(parseEraDate("平成元年1月7日")).to.equal(undefined);
      expect(parseEraDate("令和0年5月1日")).to.equal(undefined);
    });

    it("when the date does not exist or is out of range, then it is not read", () => {
      for (const text of ["2026-02-29", "2026/13/1", "令和8年2月30日", "2026-4", "46113", "1900-01-01", "2100-01-01", "明日", ""]) {
        expect(parseLedgerDate(text), text).to.equal(undefined);
      }
      expect(parseLedgerDate("2028-02-29")).to.equal("2028-02-29");
    });

    it("for any date of 平成 or 令和, the era date the certificate prints reads back as the same date", () => {
      const day = fc.integer({ min: 0, max: 40_000 }).map((n) => addDays("1989-01-08", n)).filter((d) => d <= "2099-12-31");
      fc.assert(fc.property(day, (iso) => {
        expect(parseLedgerDate(formatEraDate(iso))).to.equal(iso);
        const [y, m, d] = iso.split("-").map(Number);
        expect(parseLedgerDate(`${y}/${m}/${d}`)).to.equal(iso);
      }));
    });
  });

  describe("the form", () => {
    it("when every field is well written, then full-width digits, 円, commas and a list of numbers are read", () => {
      const parsed = parseContractTerms(contractForm({
        contractAmount: "５０，０００，０００円", advanceAmount: "￥20,000,000", interimAmount: "0", guaranteeRatio: "１０％",
        guaranteeNumbers: "02208-000001、０２２０８ー０００００２, 02208000003\n02208-000004",
      }));
      expect(parsed.ok).to.equal(true);
      if (!parsed.ok) return;
      expect(parsed.value).to.deep.include({
        contractAmount: 50_000_000, advanceAmount: 20_000_000, interimAmount: null, guaranteeRatio: { numerator: 1, denominator: 10 },
        guaranteeNumbers: ["02208-000001", "02208-000002", "02208-000003", "02208-000004"],
      });
    });

    it("when several fields are wrong, then every one is reported by its field, the rules between fields too", () => {
      const parsed = parseContractTerms(contractForm({
        reference: "", contractAmount: "5千万", periodFrom: "2027-04-01", periodTo: "2027-03-31", contractDate: "2027-04-02",
        guaranteeRatio: "1月10日", guaranteeNumbers: "02208-000001 02208-00001 02208-000001",
      }));
      expect(parsed.ok).to.equal(false);
      if (parsed.ok) return;
      expect(parsed.problems).to.deep.equal([
        { field: "reference", message: "入力してください" },
        { field: "contractAmount", message: "「5千万」は1円以上の金額として読めません（例: 50000000、50,000,000円）" },
        { field: "guaranteeRatio", message: "「1月10日」は割合として読めません（例: 1/10、3/10、10%、0.1。契約保証が不要なら空欄）" },
        { field: "guaranteeNumbers", message: "「02208-00001」は保証契約番号（NNNNN-NNNNNN）として読めません" },
        { field: "guaranteeNumbers", message: "02208-000001 が2回書かれています" },
        { field: "periodTo", message: "工期開始（2027-04-01）より前です" },
        { field: "contractDate", message: "工期終了（2027-03-31）より後です" },
      ]);
    });

    it("when a field is missing or holds an invisible character, then it is refused", () => {
      const { contractAmount: _, ...withoutAmount } = contractForm();
      const parsed = parseContractTerms({ ...withoutAmount, contractor: "〇〇建設\u202E株式会社" });
      expect(!parsed.ok && parsed.problems).to.deep.equal([
        { field: "contractor", message: "制御文字や見えない文字が含まれています" },
        { field: "contractAmount", message: "入力してください" },
      ]);
    });
  });

  describe("CSV cells", () => {
    it("for any rows of any text, the CSV written parses back to the same cells", () => {
      const cellText = fc.string({ unit: fc.constantFrom(..."a,\"'=+-@ \r\n漢字カナ、円０1"), maxLength: 12 });
      fc.assert(fc.property(fc.array(fc.array(cellText, { minLength: 2, maxLength: 5 }), { minLength: 1, maxLength: 5 }), (rows) => {
        const parsed = parseCsv(toCsvText(rows), { relax_column_count: true }) as string[][];
        expect(parsed.map((cells) => cells.map(unguardCell))).to.deep.equal(rows);
      }));
    });

    it("when a cell starts like a formula, then Excel is given text, and the import takes the guard away again", () => {
      expect(guardCell("=SUM(A1)")).to.equal("'=SUM(A1)");
      expect(guardCell("'=x")).to.equal("''=x");
      expect(guardCell("R8-001")).to.equal("R8-001");
      expect(guardCell("\tcmd"), "a leading tab or CR too (OWASP)").to.equal("'\tcmd");
      expect(toCsvText([["@cmd", "-1", "a\"b"]])).to.equal("'@cmd,'-1,\"a\"\"b\"\r\n");
    });
  });
});
