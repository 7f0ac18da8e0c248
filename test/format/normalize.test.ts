import { expect } from "chai";
import fc from "fast-check";
import {
  AUTH_KEY_ALPHABET,
  formatAuthKeyForPrint,
  hasForbiddenCharacters,
  normalizeAuthKey,
  normalizeContractNumber,
  normalizeText,
} from "../../src/format/normalize.js";

const CANONICAL_CONTRACT_NUMBER = /^[0-9]{5}-[0-9]{6}$/;
const CANONICAL_AUTH_KEY = /^[0-9A-HJKMNP-TV-Z]{12}$/;
const RUNS = { numRuns: 10_000 };

// Arbitrary full-Unicode text, and raw UTF-16 units so that lone surrogates are tried too.
const anyText = fc.string({ unit: "binary", maxLength: 80 });
const anyUnits = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)),
  maxLength: 80,
});
// Near misses: shaped like what an officer types, with the characters the normalisers treat
// specially, so that a good share is accepted and the properties below are not vacuous.
const padding = fc.constantFrom("", "", " ", "\u3000", "\t", "\u200B");
// Mostly the right length, sometimes one off either way.
const aroundLength = (unit: fc.Arbitrary<string>, length: number) =>
  fc
    .oneof({ weight: 3, arbitrary: fc.constant(length) }, fc.integer({ min: length - 1, max: length + 1 }))
    .chain((n) => fc.string({ unit, minLength: n, maxLength: n }));
const digitish = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom(..."0123456789０１２３４５６７８９") },
  fc.constantFrom(..."٠١०Oo "),
);
const contractNumberish = fc
  .tuple(
    padding,
    aroundLength(digitish, 5),
    fc.constantFrom("-", "－", "‐", "−", "—", "ー", "ｰ", "﹘", "", "--", " ", " - ", "_"),
    aroundLength(digitish, 6),
    padding,
  )
  .map((parts) => parts.join(""));
const keyish = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom(..."0123456789ABCDEFGHJKMNPQRSTVWXYZabcxyzＡＢＣａｂｃ") },
  { weight: 3, arbitrary: fc.constantFrom(..."ILOiloｉｏｌıİ") },
  fc.constantFrom(..."UuＵß_.!"),
);
const groupSeparator = fc.constantFrom("", "-", " ", "－", "ー", "‐", "\u3000", "\t", "--", "\u200B");
const authKeyish = fc
  .tuple(
    padding,
    aroundLength(keyish, 4),
    groupSeparator,
    aroundLength(keyish, 4),
    groupSeparator,
    aroundLength(keyish, 4),
    padding,
  )
  .map((parts) => parts.join(""));
const textLike = (shaped: fc.Arbitrary<string>) => fc.oneof(anyText, anyUnits, shaped);

const toFullWidth = (s: string): string =>
  s.replace(/[0-9A-Za-z-]/g, (c) => String.fromCharCode(c === "-" ? 0xff0d : c.charCodeAt(0) + 0xfee0));

describe("format/normalize", () => {
  describe("normalizeContractNumber", () => {
    const accepted: Array<[string, string]> = [
      ["00001-000002", "plain"],
      ["００００１－０００００２", "full-width digits and dash"],
      ["00001\u2010000002", "a hyphen U+2010"],
      ["00001\u2011000002", "a non-breaking hyphen U+2011"],
      ["00001\u2012000002", "a figure dash U+2012"],
      ["00001\u2013000002", "an en dash U+2013"],
      ["00001\u2014000002", "an em dash U+2014"],
      ["00001\u2015000002", "a horizontal bar U+2015"],
      ["00001\u2212000002", "a minus sign U+2212"],
      ["00001\u30FC000002", "a prolonged sound mark U+30FC"],
      ["00001\uFF70000002", "a half-width prolonged sound mark U+FF70"],
      ["00001\uFE58000002", "a small em dash U+FE58"],
      ["00001\uFE63000002", "a small hyphen-minus U+FE63"],
      [" 00001-000002 ", "surrounding spaces"],
      ["\u300000001-000002\u3000", "surrounding ideographic spaces"],
      ["\t00001-000002\n", "a tab and a newline from a paste"],
      ["00001000002", "11 bare digits"],
      ["００００１０００００２", "11 bare full-width digits"],
    ];
    for (const [raw, what] of accepted) {
      it(`when it is typed with ${what} (${JSON.stringify(raw)}), then it reads 00001-000002`, () => {
        expect(normalizeContractNumber(raw)).to.deep.equal({ ok: true, value: "00001-000002" });
      });
    }

    const rejected: Array<[string, string]> = [
      ["٠٠٠٠١-٠٠٠٠٠٢", "Arabic-Indic digits"],
      ["००००१-०००००२", "Devanagari digits"],
      ["0001-000002", "four digits before the dash"],
      ["00001-0000020", "seven digits after the dash"],
      ["00001--000002", "two dashes"],
      ["00001 000002", "a space instead of the dash"],
      ["00001 - 000002", "spaces around the dash"],
      ["000010000023", "twelve bare digits"],
      ["0000100002", "ten bare digits"],
      ["000010-00002", "the dash in the wrong place"],
      ["00001_000002", "an underscore"],
      ["00001-00000a", "a letter"],
      ["", "nothing"],
      ["-", "only a dash"],
      ["00001-000002\u0000", "a trailing NUL"],
    ];
    for (const [raw, what] of rejected) {
      it(`when it is typed with ${what} (${JSON.stringify(raw)}), then it is not a contract number`, () => {
        expect(normalizeContractNumber(raw)).to.deep.equal({ ok: false });
      });
    }

    it("when the raw text is longer than 64 UTF-16 units, then it is refused even if it would trim to a number", () => {
      const padded = `00001-000002${" ".repeat(53)}`;
      expect(padded).to.have.length(65);
      expect(normalizeContractNumber(padded)).to.deep.equal({ ok: false });
      expect(normalizeContractNumber(padded.slice(0, 64))).to.deep.equal({ ok: true, value: "00001-000002" });
    });

    it("when 64 KiB of digits end in '!', then it is refused at once", () => {
      const hostile = `${"0".repeat(64 * 1024)}!`;
      const started = performance.now();
      expect(normalizeContractNumber(hostile)).to.deep.equal({ ok: false });
      expect(performance.now() - started).to.be.below(20);
    });

    it("when it is given any text, then it never throws and an accepted value is canonical and stable", () => {
      fc.assert(
        fc.property(textLike(contractNumberish), (raw) => {
          const result = normalizeContractNumber(raw);
          if (result.ok) {
            expect(result.value).to.match(CANONICAL_CONTRACT_NUMBER);
            expect(normalizeContractNumber(result.value)).to.deep.equal(result);
          }
        }),
        RUNS,
      );
    });

    it("when a valid number is decorated with full width, any dash and spaces, then it comes back unchanged", () => {
      const digits = (length: number) =>
        fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: length, maxLength: length });
      fc.assert(
        fc.property(
          digits(5),
          digits(6),
          fc.constantFrom("-", "－", "‐", "‑", "‒", "–", "—", "―", "−", "ー", "ｰ", "﹘", "﹣"),
          fc.boolean(),
          fc.constantFrom("", " ", "　", "\t"),
          (head, tail, dash, fullWidth, space) => {
            const canonical = `${head}-${tail}`;
            const body = `${head}${dash}${tail}`;
            const raw = `${space}${fullWidth ? toFullWidth(body) : body}${space}`;
            expect(normalizeContractNumber(raw)).to.deep.equal({ ok: true, value: canonical });
          },
        ),
        RUNS,
      );
    });
  });

  describe("normalizeAuthKey", () => {
    const accepted: Array<[string, string, string]> = [
      ["ABCDEFGHJKMN", "ABCDEFGHJKMN", "canonical"],
      ["abcd-efgh-jkmn", "ABCDEFGHJKMN", "lower case in printed groups"],
      ["ＡＢＣＤＥＦＧＨＪＫＭＮ", "ABCDEFGHJKMN", "full-width letters"],
      ["ａｂｃｄ－ｅｆｇｈ－ｊｋｍｎ", "ABCDEFGHJKMN", "full-width lower case and dashes"],
      ["ABCD EFGH JKMN", "ABCDEFGHJKMN", "spaces between groups"],
      [" ABCD\u3000EFGH\u3000JKMN ", "ABCDEFGHJKMN", "ideographic spaces"],
      ["ABCD\u2010EFGH\u30FCJKMN", "ABCDEFGHJKMN", "odd dashes"],
      ["ABCD—EFGH−JKMN", "ABCDEFGHJKMN", "an em dash and a minus sign"],
      ["ｉｏｌｉ-ＯＬＩｏ-ａｂｃｄ", "10110110ABCD", "full-width look-alikes"],
      ["0O1IL0o1il00", "001110011100", "look-alikes of 0 and 1"],
      ["Z28YVE4J3Bwx", "Z28YVE4J3BWX", "mixed case"],
    ];
    for (const [raw, expected, what] of accepted) {
      it(`when the key is typed with ${what} (${JSON.stringify(raw)}), then it reads ${expected}`, () => {
        expect(normalizeAuthKey(raw)).to.deep.equal({ ok: true, value: expected });
      });
    }

    const rejected: Array<[string, string]> = [
      ["ABCDEFGHJKMNP", "13 characters"],
      ["ABCDEFGHJKM", "11 characters"],
      ["ABCDEFGHJKMU", "a U"],
      ["abcdefghjkmu", "a lower-case u"],
      ["Z28YUE4J3Bux", "the platform's own sample key, which has a U"],
      ["ABCDEFGHJKM!", "punctuation"],
      ["ABCDEFGHJKM_", "an underscore"],
      ["ABCDEFGHJKMÄ", "an accented letter"],
      ["ABCDEFGHJKM\u200B", "a zero-width space"],
      ["ABCDEFGHJKM٣", "an Arabic-Indic digit"],
      ["", "nothing"],
    ];
    for (const [raw, what] of rejected) {
      it(`when the key has ${what} (${JSON.stringify(raw)}), then it is not a key`, () => {
        expect(normalizeAuthKey(raw)).to.deep.equal({ ok: false });
      });
    }

    it("when the raw text is longer than 64 UTF-16 units, then it is refused even if it would strip to a key", () => {
      const padded = `ABCDEFGHJKMN${" ".repeat(53)}`;
      expect(normalizeAuthKey(padded)).to.deep.equal({ ok: false });
      expect(normalizeAuthKey(padded.slice(0, 64))).to.deep.equal({ ok: true, value: "ABCDEFGHJKMN" });
    });

    it("when 64 KiB of '0' end in '!', then it is refused at once", () => {
      const hostile = `${"0".repeat(64 * 1024)}!`;
      const started = performance.now();
      expect(normalizeAuthKey(hostile)).to.deep.equal({ ok: false });
      expect(performance.now() - started).to.be.below(20);
    });

    it("when it is given any text, then it never throws and an accepted key is canonical and stable", () => {
      fc.assert(
        fc.property(textLike(authKeyish), (raw) => {
          const result = normalizeAuthKey(raw);
          if (result.ok) {
            expect(result.value).to.match(CANONICAL_AUTH_KEY);
            expect(normalizeAuthKey(result.value)).to.deep.equal(result);
          }
        }),
        RUNS,
      );
    });

    it("when a generated key is printed, retyped in any case, width or grouping, then it reads the same key", () => {
      const key = fc.string({ unit: fc.constantFrom(...AUTH_KEY_ALPHABET), minLength: 12, maxLength: 12 });
      fc.assert(
        fc.property(key, fc.boolean(), fc.boolean(), fc.constantFrom("-", " ", "", "ー", "　"), (k, lower, wide, sep) => {
          let typed = formatAuthKeyForPrint(k).replace(/-/g, sep);
          if (lower) typed = typed.toLowerCase();
          if (wide) typed = toFullWidth(typed);
          expect(normalizeAuthKey(typed)).to.deep.equal({ ok: true, value: k });
        }),
        RUNS,
      );
    });
  });

  describe("AUTH_KEY_ALPHABET", () => {
    it("when it is listed, then it is Crockford's 32 symbols without I, L, O or U", () => {
      expect(AUTH_KEY_ALPHABET).to.have.length(32);
      expect(new Set(AUTH_KEY_ALPHABET).size).to.equal(32);
      for (const letter of "ILOU") expect(AUTH_KEY_ALPHABET).not.to.include(letter);
    });

    it("when any digit or letter is checked, then the key pattern and the alphabet agree", () => {
      for (const c of "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
        const key = c.repeat(12);
        const inAlphabet = AUTH_KEY_ALPHABET.includes(c);
        const readAs = normalizeAuthKey(key);
        if (inAlphabet) expect(readAs, c).to.deep.equal({ ok: true, value: key });
        else if (c === "U") expect(readAs, c).to.deep.equal({ ok: false });
        else expect(readAs.ok, c).to.equal(true);
      }
    });
  });

  describe("formatAuthKeyForPrint", () => {
    it("when a key is printed, then it is in three groups of four", () => {
      expect(formatAuthKeyForPrint("ABCDEFGHJKMN")).to.equal("ABCD-EFGH-JKMN");
    });

    for (const bad of ["abcdefghjkmn", "ABCD-EFGH-JKMN", "ABCDEFGHJKM", "ABCDEFGHJKMU"]) {
      it(`when it is given ${JSON.stringify(bad)}, which is not a normalised key, then it throws`, () => {
        expect(() => formatAuthKeyForPrint(bad)).to.throw(RangeError);
      });
    }
  });

  describe("normalizeText", () => {
    const cases: Array<[string, string]> = [
      ["  むつ市  ", "むつ市"],
      ["\u3000ﾑﾂｼ\u3000", "ムツシ"],
      ["ＡＢＣ建設　株式会社", "ABC建設 株式会社"],
      ["㈱むつ", "(株)むつ"],
    ];
    for (const [raw, expected] of cases) {
      it(`when a name is typed as ${JSON.stringify(raw)}, then it is stored as ${JSON.stringify(expected)}`, () => {
        expect(normalizeText(raw)).to.equal(expected);
      });
    }

    it("when it is given any text, then it is idempotent", () => {
      fc.assert(
        fc.property(textLike(fc.oneof(contractNumberish, authKeyish)), (raw) => {
          const once = normalizeText(raw);
          expect(normalizeText(once)).to.equal(once);
        }),
        RUNS,
      );
    });
  });

  describe("hasForbiddenCharacters", () => {
    const forbidden: Array<[string, string]> = [
      ["\u0000", "NUL"],
      ["\u0007", "BEL"],
      ["\t", "a tab"],
      ["\n", "a newline"],
      ["\r", "a carriage return"],
      ["\u001B", "ESC"],
      ["\u007F", "DEL"],
      ["\u0085", "a C1 next line"],
      ["\u009F", "the last C1 control"],
      ["\uFFFD", "a replacement character"],
      ["\u202A", "LRE"],
      ["\u202E", "RLO"],
      ["\u2066", "LRI"],
      ["\u2069", "PDI"],
      ["\u200E", "LRM"],
      ["\u200F", "RLM"],
      ["\u061C", "the Arabic letter mark"],
      ["\u200B", "a zero-width space"],
      ["\u200C", "a zero-width non-joiner"],
      ["\u200D", "a zero-width joiner"],
      ["\u2060", "a word joiner"],
      ["\uFEFF", "a byte-order mark"],
      ["\uD800", "a lone high surrogate"],
      ["\uDC00", "a lone low surrogate"],
      ["\uDC00\uD800", "surrogates in the wrong order"],
    ];
    for (const [c, what] of forbidden) {
      it(`when a name contains ${what}, then it is forbidden`, () => {
        expect(hasForbiddenCharacters(`むつ${c}市`)).to.equal(true);
        expect(hasForbiddenCharacters(c)).to.equal(true);
      });
    }

    const allowed: Array<[string, string]> = [
      ["むつ市", "Japanese"],
      ["ABC建設 株式会社", "an ordinary space"],
      ["ABC建設\u3000株式会社", "an ideographic space"],
      ["髙橋 𠮷野家", "a character outside the BMP (a surrogate pair)"],
      ["👨👩👧", "emoji without joiners"],
      ["café – O'Brien", "accents and punctuation"],
      ["", "nothing"],
    ];
    for (const [s, what] of allowed) {
      it(`when a name has ${what}, then it is allowed`, () => {
        expect(hasForbiddenCharacters(s)).to.equal(false);
      });
    }

    it("when it is given any UTF-16 text, then it never throws", () => {
      fc.assert(
        fc.property(anyUnits, (s) => {
          expect(hasForbiddenCharacters(s)).to.be.a("boolean");
        }),
        RUNS,
      );
    });
  });
});
