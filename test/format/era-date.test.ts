import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import fc from "fast-check";
import {
  addDays,
  formatEraDate,
  formatEraDateTime,
  formatSlashDateTime,
  isRealIsoDate,
  tokyoDate,
} from "../../src/format/era-date.js";

describe("format/era-date", () => {
  describe("formatEraDate", () => {
    const cases: Array<[string, string]> = [
      ["2026-11-25", "令和8年11月25日"],
      ["2019-05-01", "令和元年5月1日"],
      ["2020-01-01", "令和2年1月1日"],
      ["2019-04-30", "平成31年4月30日"],
      ["1989-01-08", "平成元年1月8日"],
      ["1989-01-07", "昭和64年1月7日"],
      ["1926-12-25", "昭和元年12月25日"],
      ["1926-12-24", "大正15年12月24日"],
      ["1912-07-30", "大正元年7月30日"],
      ["1912-07-29", "明治45年7月29日"],
      ["1868-10-23", "明治元年10月23日"],
    ];
    for (const [iso, expected] of cases) {
      it(`when the date is ${iso}, then it reads ${expected}`, () => {
        expect(formatEraDate(iso)).to.equal(expected);
      });
    }

    it("when the date is a leap day, then it is shown like any other day", () => {
      expect(formatEraDate("2024-02-29")).to.equal("令和6年2月29日");
    });

    it("when the date is before the Meiji era, then it throws", () => {
      expect(() => formatEraDate("1868-10-22")).to.throw(RangeError);
    });

    for (const bad of ["2025-02-29", "2026-13-01", "2026-1-1", "", "2026-11-25T00:00:00Z"]) {
      it(`when the input is ${JSON.stringify(bad)}, then it throws, because callers validate first`, () => {
        expect(() => formatEraDate(bad)).to.throw(RangeError);
      });
    }
  });

  describe("isRealIsoDate", () => {
    for (const good of ["2024-02-29", "2000-02-29", "2026-12-31", "0001-01-01", "9999-12-31"]) {
      it(`when the date is ${good}, then it exists`, () => {
        expect(isRealIsoDate(good)).to.equal(true);
      });
    }
    const bad = [
      "2025-02-29",
      "1900-02-29",
      "2026-13-01",
      "2026-00-10",
      "2026-04-31",
      "2026-04-00",
      "2026-1-1",
      "0000-01-01",
      "２０２６-０１-０１",
      " 2026-01-01",
      "2026-01-01\n",
      "2026/01/01",
      "",
    ];
    for (const s of bad) {
      it(`when the text is ${JSON.stringify(s)}, then it is not a real date`, () => {
        expect(isRealIsoDate(s)).to.equal(false);
      });
    }
  });

  describe("Tokyo date-times", () => {
    it("when the instant is 13:08 UTC, then Tokyo reads 22:08 the same day", () => {
      expect(formatEraDateTime("2026-11-25T13:08:00Z")).to.equal("令和8年11月25日 22:08");
      expect(formatSlashDateTime("2026-11-25T13:08:00Z")).to.equal("2026/11/25 22:08");
    });

    it("when UTC is still on the 24th after 15:00, then Tokyo is already on the 25th", () => {
      const instant = new Date("2026-11-24T15:30:00Z");
      expect(formatEraDateTime(instant)).to.equal("令和8年11月25日 00:30");
      expect(formatSlashDateTime(instant)).to.equal("2026/11/25 00:30");
      expect(tokyoDate(instant)).to.equal("2026-11-25");
    });

    it("when the instant is one minute before Tokyo midnight, then the date is still the 24th", () => {
      expect(tokyoDate(new Date("2026-11-24T14:59:59.999Z"))).to.equal("2026-11-24");
      expect(formatEraDateTime("2026-11-24T14:59:00Z")).to.equal("令和8年11月24日 23:59");
    });

    it("when the era changes at Tokyo midnight, then the instant just after reads 令和元年", () => {
      expect(formatEraDateTime("2019-04-30T14:59:00Z")).to.equal("平成31年4月30日 23:59");
      expect(formatEraDateTime("2019-04-30T15:00:00Z")).to.equal("令和元年5月1日 00:00");
    });

    it("when month, day and hour are single digits, then the slash form pads them", () => {
      expect(formatSlashDateTime("2026-01-04T23:05:00Z")).to.equal("2026/01/05 08:05");
    });

    it("when the stored text has an offset, then it is honoured", () => {
      expect(formatSlashDateTime("2026-11-25T22:08:00+09:00")).to.equal("2026/11/25 22:08");
    });

    it("when the stored text has no zone, as SQLite's CURRENT_TIMESTAMP writes it, then it is read as UTC", () => {
      expect(formatSlashDateTime("2026-11-25 13:08:00")).to.equal("2026/11/25 22:08");
      expect(formatSlashDateTime("2026-11-25T13:08:00.123")).to.equal("2026/11/25 22:08");
    });

    for (const bad of ["2026-02-30T10:00:00Z", "2026-11-25T24:00:00Z", "yesterday", "", "2026-11-25"]) {
      it(`when the stored text is ${JSON.stringify(bad)}, then it throws rather than show a wrong date`, () => {
        expect(() => formatEraDateTime(bad)).to.throw(RangeError);
      });
    }

    it("when any instant from the end of daylight saving in 1951 to 2099 is shown, then it is what the Asia/Tokyo zone database says", () => {
      const tokyo = new Intl.DateTimeFormat("en-US", { timeZone: "Asia/Tokyo", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      fc.assert(fc.property(fc.integer({ min: Date.UTC(1951, 8, 8, 15), max: Date.UTC(2099, 11, 31) }), (ms) => {
        const p = Object.fromEntries(tokyo.formatToParts(new Date(ms)).map((part) => [part.type, part.value]));
        expect(formatSlashDateTime(new Date(ms).toISOString())).to.equal(`${p.year}/${p.month}/${p.day} ${p.hour}:${p.minute}`);
        expect(tokyoDate(new Date(ms))).to.equal(`${p.year}-${p.month}-${p.day}`);
      }), { numRuns: 2000 });
    });

    it("when an instant falls in Japan's daylight saving years (to 1951-09-09 00:00 JST) or past 9999, then it throws rather than show a wrong time", () => {
      expect(() => formatSlashDateTime("1950-06-01T00:00:00Z")).to.throw(RangeError);
      expect(() => formatSlashDateTime("1951-09-08T14:59:00Z")).to.throw(RangeError);
      expect(formatSlashDateTime("1951-09-08T15:00:00Z")).to.equal("1951/09/09 00:00");
      expect(formatSlashDateTime("9999-12-31T14:59:00Z")).to.equal("9999/12/31 23:59");
      expect(() => formatSlashDateTime("9999-12-31T15:00:00Z")).to.throw(RangeError);
    });

    it("when the Date is invalid, then it throws", () => {
      expect(() => tokyoDate(new Date(Number.NaN))).to.throw(RangeError);
    });

    it("when the process runs in another time zone, then the output is the same", function () {
      this.timeout(20_000);
      const moduleUrl = new URL("../../src/format/era-date.ts", import.meta.url).href;
      const script = [
        `const m = await import(${JSON.stringify(moduleUrl)});`,
        `const instant = "2026-11-24T15:30:00Z";`,
        `console.log(JSON.stringify([`,
        `  Intl.DateTimeFormat().resolvedOptions().timeZone,`,
        `  m.formatEraDateTime(instant), m.formatSlashDateTime(instant),`,
        `  m.tokyoDate(new Date(instant)), m.formatEraDate("2019-05-01")]));`,
      ].join("\n");
      const projectRoot = fileURLToPath(new URL("../../", import.meta.url));
      const expected = ["令和8年11月25日 00:30", "2026/11/25 00:30", "2026-11-25", "令和元年5月1日"];
      for (const zone of ["America/Los_Angeles", "Pacific/Kiritimati", "UTC"]) {
        const output = execFileSync(
          process.execPath,
          ["--import", "tsx", "--input-type=module", "-e", script],
          { cwd: projectRoot, env: { ...process.env, TZ: zone }, encoding: "utf8" },
        );
        const [processZone, ...values] = JSON.parse(output) as string[];
        expect(processZone, "the child really ran in that zone").to.equal(zone);
        expect(values).to.deep.equal(expected);
      }
    });
  });
});

describe("addDays", () => {
  it("when days cross a month end, a leap day or a year end, then the calendar date is right", () => {
    expect(addDays("2028-02-28", 1)).to.equal("2028-02-29");
    expect(addDays("2027-02-28", 1)).to.equal("2027-03-01");
    expect(addDays("2026-12-31", 1)).to.equal("2027-01-01");
    expect(addDays("2026-11-25", -30)).to.equal("2026-10-26");
  });
});
