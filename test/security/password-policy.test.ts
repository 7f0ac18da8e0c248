import { expect } from "chai";
import fc from "fast-check";
import { checkNewPassword, normalizePassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "../../src/officers/password-policy.js";
import { givenOfficer, givenOrderer } from "../support/given.js";
import { buildTestApp, type WebWorld } from "../support/web.js";
import { loginForm, postLogin } from "./helpers.js";

const context = { login: "mutsu-tanaka", displayName: "田中 一郎", ordererName: "むつ市" };

describe("security: the password policy (NIST SP 800-63B-4)", () => {
  it("when a password has 14 characters, then it is too short; at 15 it is long enough (code points, not UTF-16 units)", () => {
    expect(PASSWORD_MIN_LENGTH).to.equal(15);
    expect(checkNewPassword("plum blossom 14", context)).to.equal(undefined);
    expect(checkNewPassword("plum blossom 1", context)).to.contain("15文字以上");
    // 14 emoji are 28 UTF-16 units but 14 characters.
    expect(checkNewPassword("🌸🍣🗻🎋🍵🌊🦊🐚🌙⛩🎐🏯🍡🎏", context)).to.contain("15文字以上");
  });

  it("when a password is long (64, 100, 256 characters, any script), then it is accepted whole, with no composition rules", () => {
    for (const password of [
      "むつ湾の朝焼けを眺めながら大湊の坂道をゆっくり歩いて港まで降りてゆく春の日の午後のことでした。八戸から来た友人と釜臥山に登り、夕方には恐山の方へ",
      "abcdefghij".repeat(7),
      "correct horse battery staple ".repeat(3) + "x".repeat(13),
      "the quick brown fox jumps over the lazy dog ".repeat(5) + "z".repeat(36),
    ]) {
      expect([...password].length).to.be.at.least(64);
      expect(checkNewPassword(password, context), password.slice(0, 20)).to.equal(undefined);
    }
    expect(checkNewPassword("all lower case words only here", context)).to.equal(undefined);
    expect(checkNewPassword("x".repeat(PASSWORD_MAX_LENGTH + 1) + "y", context)).to.contain(`${PASSWORD_MAX_LENGTH}文字以内`);
  });

  it("when a password is on the common-password list (any case), then it is refused", () => {
    for (const common of ["123456789987654321", "1qaz2wsx3edc4rfv", "QAZWSXEDCRFVTGB", "qazwsxedcrfvtgb", "12345678900987654321"]) {
      expect(checkNewPassword(common, context), common).to.equal("よく使われるパスワードのため使用できません。");
    }
  });

  it("when a password is mostly a context word (login, name, orderer, the service), then it is refused", () => {
    for (const weak of ["mutsu-tanaka-2026", "MUTSU_TANAKA_1234", "むつ市むつ市むつ市むつ市むつ市", "kakunin-password", "passwordpassword1", "kakunin2026kakunin"]) {
      expect(checkNewPassword(weak, context), weak).to.not.equal(undefined);
    }
    expect(checkNewPassword("aaaaaaaaaaaaaaaaaaaa", context)).to.contain("同じ文字の繰り返し");
  });

  it("when a password holds control, bidi or zero-width characters, then it is refused (the login form could never accept it)", () => {
    for (const bad of ["a long passphrase\u0000here", "a long passphrase\u202Ehere", "a long passphrase\u200Dhere", "a long passphrase\there"]) {
      expect(checkNewPassword(bad, context), JSON.stringify(bad)).to.contain("使用できません");
    }
  });

  it("when a password is typed in full width or half width, then it normalises (NFKC) to one and the same password", () => {
    expect(normalizePassword("ｃｏｒｒｅｃｔ　ｈｏｒｓｅ")).to.equal("correct horse");
    expect(normalizePassword("ﾊﾟｽﾌﾚｰｽﾞ")).to.equal("パスフレーズ");
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 80 }), (s) => {
      const once = normalizePassword(s);
      expect(normalizePassword(once)).to.equal(once);
    }), { numRuns: 2000 });
  });

  it("when any text is checked, then the check never throws", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 300 }), fc.string({ maxLength: 20 }), (password, login) => {
      const verdict = checkNewPassword(password, { login, displayName: login });
      expect(verdict === undefined || typeof verdict === "string").to.equal(true);
    }), { numRuns: 2000 });
  });

  describe("in use", () => {
    let world: WebWorld;
    beforeEach(async () => { world = await buildTestApp(); });
    afterEach(() => world.close());

    it("when a 64-character Unicode passphrase is set, then exactly it logs in, its full-width form too, and its 63-character prefix does not (no truncation)", async () => {
      const password = "むつ湾の朝焼けを眺めながら大湊の坂道をゆっくり歩いて港まで降りてゆく春の日の午後のことでした。八戸から来た友人と釜臥山に登りましたABC";
      expect([...password].length).to.be.at.least(64);
      const { login } = await givenOfficer(world, { password });
      const wide = password.replace(/[A-C]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
      for (const [typed, status] of [[password, 303], [wide, 303], [password.slice(0, -1), 401]] as const) {
        const { agent, token } = await loginForm(world.app);
        expect((await postLogin(agent, token, login, typed)).status, typed.slice(-4)).to.equal(status);
      }
    });

    it("when a 14-character password is given to the CLI's officer service, then it is refused for its length and no officer is added; 15 characters are accepted", async () => {
      givenOrderer(world, "022080", "むつ市");
      const short = await world.services.officers.add({ ordererCode: "022080", login: "mutsu-short", displayName: "短い 人", password: "plum blossom 1" }, "admin");
      expect(short).to.deep.equal({ ok: false, problems: [{ field: "password", message: checkNewPassword("plum blossom 1", context) }] });
      expect(short.ok ? undefined : short.problems[0]!.message).to.contain("15文字以上");
      expect(world.services.officers.findByLogin("mutsu-short")).to.equal(undefined);

      const long = await world.services.officers.add({ ordererCode: "022080", login: "mutsu-short", displayName: "短い 人", password: "plum blossom 15" }, "admin");
      expect(long.ok, JSON.stringify(long)).to.equal(true);
      expect(world.services.officers.findByLogin("mutsu-short")?.displayName).to.equal("短い 人");
    });
  });
});
