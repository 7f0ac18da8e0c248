import { expect } from "chai";
import { localPath } from "../../src/http/local-path.js";

describe("localPath (the step-up's next parameter)", () => {
  it("when a path on this site is given, then its path and query come back", () => {
    expect(localPath("/account/mfa")).to.equal("/account/mfa");
    expect(localPath("/admin/officers?page=2")).to.equal("/admin/officers?page=2");
    expect(localPath("/a/../verify")).to.equal("/verify");
  });

  it("when a path only becomes protocol-relative once normalised, then nothing comes back", () => {
    for (const raw of ["/.//evil.example/phish", "/a/..//evil.example", "/%2e//evil.example", "/./\\evil.example", "/a/../\\evil.example"]) {
      expect(localPath(raw), JSON.stringify(raw)).to.equal(undefined);
    }
  });

  it("when another site, a scheme, a protocol-relative or backslash path, a control character or nothing is given, then nothing comes back", () => {
    for (const raw of ["//evil.example/x", "/\\evil.example", "\\\\evil.example", "https://evil.example/", "javascript:alert(1)", "account/mfa", "/x\u0000", "/x\ny", "", "/".repeat(2001), undefined, ["/a"]]) {
      expect(localPath(raw), JSON.stringify(raw)).to.equal(undefined);
    }
  });
});
