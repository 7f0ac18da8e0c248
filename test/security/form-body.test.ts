import { expect } from "chai";
import type { Request } from "express";
import fc from "fast-check";
import { checkContentType, checkFormBytes, decodeComponent } from "../../src/http/form-body.js";
import { HttpError } from "../../src/http/http-error.js";
import { readForm } from "../../src/http/forms.js";
import { hasForbiddenCharacters } from "../../src/format/normalize.js";

const RUNS = { numRuns: 5000 };
/** No lone surrogate (String.prototype.isWellFormed is ES2024, beyond this project's lib). */
const isWellFormed = (s: string) => !/[\uD800-\uDFFF]/u.test(s);
const anyUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)), maxLength: 40 });
const wellFormed = fc.string({ unit: "binary", maxLength: 40 }).filter(isWellFormed);

describe("security: form bodies (properties)", () => {
  it("when any bytes are checked as a form body, then the check either passes or refuses with 400/413, never anything else", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        checkFormBytes(Buffer.from(bytes), 10);
      } catch (error) {
        expect(error).to.be.instanceOf(HttpError);
        expect((error as HttpError).status).to.be.oneOf([400, 413]);
      }
    }), RUNS);
  });

  it("when any well-formed text is percent-encoded as a browser does, then it decodes back to itself", () => {
    fc.assert(fc.property(wellFormed, (text) => {
      expect(decodeComponent(Buffer.from(encodeURIComponent(text)))).to.equal(text);
      expect(decodeComponent(Buffer.from(encodeURIComponent(text).replace(/%20/g, "+")))).to.equal(text);
    }), RUNS);
  });

  it("when a value is decoded, then the result is well-formed UTF-16 or the value is refused (no U+FFFD substitution, no lone surrogates)", () => {
    const percentBytes = fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from([...b].map((x) => `%${x.toString(16).padStart(2, "0")}`).join("")));
    fc.assert(fc.property(percentBytes, (raw) => {
      let decoded: string | undefined;
      try { decoded = decodeComponent(raw); } catch (error) { expect(error).to.be.instanceOf(HttpError); return; }
      expect(isWellFormed(decoded)).to.equal(true);
      expect(Buffer.from(decoded, "utf8").toString("hex")).to.equal(raw.toString().replace(/%/g, ""));
    }), RUNS);
  });

  it("when a body names a field twice, or a field like a[b], a[], __proto__ or an empty name, then it is refused", () => {
    for (const body of ["a=1&a=2", "a[b]=1", "a[]=1", "__proto__=1", "=1", "a%5Bb%5D=1", "_x=1", "1a=1"]) {
      expect(() => checkFormBytes(Buffer.from(body), 10), body).to.throw(HttpError);
    }
    expect(() => checkFormBytes(Buffer.from("_csrf=x&username=a&password=b"), 10)).not.to.throw();
    expect(() => checkFormBytes(Buffer.from(Array.from({ length: 11 }, (_, i) => `f${i}=1`).join("&")), 10)).to.throw(HttpError).with.property("status", 413);
  });

  it("when a Content-Type is checked, then only a urlencoded form in UTF-8 (stated or not) passes", () => {
    const pass = ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8", "Application/X-WWW-Form-Urlencoded;charset=\"UTF-8\""];
    const fail = [undefined, "", "application/json", "text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded; charset=utf-16",
      "application/x-www-form-urlencoded; charset=iso-8859-1", "application/x-www-form-urlencoded; charset=utf8", "application/x-www-form-urlencodedx"];
    for (const header of pass) expect(checkContentType(header), header).to.equal(undefined);
    for (const header of fail) expect(checkContentType(header), String(header)).to.be.a("string");
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (header) => { checkContentType(header); }), RUNS);
  });

  it("when readForm meets any field values, then it returns plain strings free of forbidden characters within their limits, or refuses with a 400 naming the field", () => {
    const value = fc.oneof(anyUnits, wellFormed, fc.array(fc.string(), { maxLength: 2 }), fc.constant(undefined), fc.dictionary(fc.string(), fc.string()));
    fc.assert(fc.property(fc.dictionary(fc.constantFrom("username", "password", "_csrf", "other", "__proto__"), value), (body) => {
      const req = { body } as unknown as Request;
      try {
        const form = readForm(req, { username: 64, password: 1024 });
        expect(Object.keys(form).sort()).to.deep.equal(["password", "username"]);
        for (const [field, text] of Object.entries(form)) {
          expect(text, field).to.be.a("string");
          expect(hasForbiddenCharacters(text), field).to.equal(false);
          expect(text.length).to.be.at.most(field === "username" ? 64 : 1024);
        }
      } catch (error) {
        expect(error).to.be.instanceOf(HttpError).with.property("status", 400);
      }
    }), RUNS);
  });

  it("when hasForbiddenCharacters is asked about text, then the answer does not change under concatenation with clean text", () => {
    fc.assert(fc.property(anyUnits, fc.constantFrom("abc", "むつ市", " "), (s, clean) => {
      // Only a lone surrogate can be "repaired" by a neighbour; clean text never pairs with one.
      expect(hasForbiddenCharacters(clean + s + clean)).to.equal(hasForbiddenCharacters(s));
    }), RUNS);
  });
});
