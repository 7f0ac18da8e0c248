import { expect } from "chai";
import { isValidLocalGovernmentCode } from "../../src/format/local-government-code.js";

describe("format/local-government-code", () => {
  const valid: Array<[string, string]> = [
    ["022080", "むつ市"],
    ["022012", "青森市"],
    ["131041", "新宿区"],
    ["011002", "札幌市"],
    ["131016", "千代田区"],
  ];
  for (const [code, name] of valid) {
    it(`when the code is ${name}'s ${code}, then it is valid`, () => {
      expect(isValidLocalGovernmentCode(code)).to.equal(true);
    });
  }

  const invalid: Array<[string, string]> = [
    ["022081", "the check digit is wrong"],
    ["131040", "the check digit is wrong"],
    ["02208", "it has five digits"],
    ["0220800", "it has seven digits"],
    ["０２２０８０", "the digits are full-width"],
    ["٠٢٢٠٨٠", "the digits are Arabic-Indic"],
    [" 022080", "it has a leading space"],
    ["02208a", "it has a letter"],
    ["", "it is empty"],
  ];
  for (const [code, why] of invalid) {
    it(`when ${why} (${JSON.stringify(code)}), then it is invalid`, () => {
      expect(isValidLocalGovernmentCode(code)).to.equal(false);
    });
  }

  it("when the first five digits are fixed, then exactly one check digit is valid", () => {
    for (const body of ["02208", "13104", "00000", "99999", "47201"]) {
      const accepted = "0123456789".split("").filter((d) => isValidLocalGovernmentCode(body + d));
      expect(accepted, body).to.have.length(1);
    }
  });
});
