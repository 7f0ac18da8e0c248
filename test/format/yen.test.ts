import { expect } from "chai";
import fc from "fast-check";
import { formatYen, parseYen } from "../../src/format/yen.js";

describe("format/yen", () => {
  describe("formatYen", () => {
    const cases: Array<[number, string]> = [
      [20_000_000, "20,000,000 円"],
      [5_000_000, "5,000,000 円"],
      [999, "999 円"],
      [1000, "1,000 円"],
      [0, "0 円"],
      [Number.MAX_SAFE_INTEGER, "9,007,199,254,740,991 円"],
    ];
    for (const [amount, expected] of cases) {
      it(`when the amount is ${amount}, then it reads ${JSON.stringify(expected)}`, () => {
        expect(formatYen(amount)).to.equal(expected);
      });
    }

    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      it(`when the amount is ${bad}, then it throws, because yen are whole`, () => {
        expect(() => formatYen(bad)).to.throw(RangeError);
      });
    }
  });

  describe("parseYen", () => {
    const accepted: Array<[string | number, number]> = [
      ["20000000", 20_000_000],
      ["20,000,000", 20_000_000],
      ["20,000,000 円", 20_000_000],
      ["20,000,000円", 20_000_000],
      ["２０，０００，０００円", 20_000_000],
      ["２０,０００,０００　円", 20_000_000],
      ["  1,000  ", 1000],
      ["1", 1],
      [20_000_000, 20_000_000],
    ];
    for (const [raw, expected] of accepted) {
      it(`when the cell holds ${JSON.stringify(raw)}, then it is ${expected}`, () => {
        expect(parseYen(raw)).to.equal(expected);
      });
    }

    const rejected: Array<string | number> = [
      "",
      "円",
      "0",
      "-1000",
      "+1000",
      "1000.5",
      "1000.0",
      "1e6",
      "20,000,00",
      "2,0000",
      ",000",
      "1,000,",
      "20、000、000",
      "1 000",
      "円1000",
      "1000円円",
      "¥1000",
      "٢٠٠٠",
      "9007199254740992",
      "9".repeat(40),
      `1${" ".repeat(100)}`,
      0,
      -5,
      1.5,
      Number.NaN,
      2 ** 53,
    ];
    for (const raw of rejected) {
      it(`when the cell holds ${typeof raw === "string" ? JSON.stringify(raw) : raw}, then it is not an amount`, () => {
        expect(parseYen(raw)).to.equal(undefined);
      });
    }

    it("when any safe positive amount is formatted, then parsing gives it back", () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (amount) => {
          expect(parseYen(formatYen(amount))).to.equal(amount);
        }),
        { numRuns: 10_000 },
      );
    });

    it("when the cell holds arbitrary text, then it never throws and any result is a positive safe integer", () => {
      fc.assert(
        fc.property(fc.string({ unit: "binary", maxLength: 80 }), (raw) => {
          const amount = parseYen(raw);
          if (amount !== undefined) {
            expect(Number.isSafeInteger(amount) && amount > 0).to.equal(true);
          }
        }),
        { numRuns: 10_000 },
      );
    });
  });
});
