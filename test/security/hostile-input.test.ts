import { expect } from "chai";
import { request as httpRequest } from "node:http";
import { givenGuarantee, givenOfficer } from "../support/given.js";
import { buildTestApp, type WebWorld } from "../support/web.js";
import { count, loginForm, officerSession, serve, type Agent } from "./helpers.js";

const FORM = "application/x-www-form-urlencoded";

describe("security: hostile input", () => {
  let world: WebWorld;
  beforeEach(async () => { world = await buildTestApp(); });
  afterEach(() => world.close());

  /** Sends a raw body; returns status and text. */
  function raw(agent: Agent, path: string, body: string | Buffer, contentType = FORM, headers: Record<string, string> = {}) {
    return agent.post(path).set("Content-Type", contentType).set(headers).send(body as never);
  }

  const enc = encodeURIComponent;

  describe("bodies refused before anything else (size -> type -> bytes -> fields)", () => {
    it("when refused bodies of every kind are posted to /login and /verify, then each gets its 4xx, never a 500, and no argon2 work or audit row", async () => {
      const issued = await givenGuarantee(world);
      const { login, password } = await givenOfficer(world);
      const officer = await officerSession(world.app, login, password);
      const anonymous = await loginForm(world.app);
      const auditBefore = count(world, "SELECT count(*) AS n FROM audit_events");
      const argonBefore = { ...world.hasher.counts };

      const loginBody = (extra: string) => `_csrf=${anonymous.token}&username=${login}&password=${enc(password)}${extra}`;
      const verifyBody = (extra: string, contract = issued.contractNumber, key = issued.authKey) => `_csrf=${officer.token}&contractNumber=${contract}&authKey=${key}${extra}`;
      const cases: [string, number, () => Promise<{ status: number; text: string }>][] = [
        ["a 5 KiB body", 413, () => raw(anonymous.agent, "/login", loginBody(`&x=${"a".repeat(5000)}`))],
        ["a 5 KiB body without a CSRF token", 413, () => raw(anonymous.agent, "/login", `username=${"a".repeat(5000)}`)],
        ["11 fields", 413, () => raw(anonymous.agent, "/login", loginBody("&a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8"))],
        ["a repeated field", 400, () => raw(anonymous.agent, "/login", loginBody(`&username=${login}`))],
        ["a repeated field (verify)", 400, () => raw(officer.agent, "/verify", verifyBody("&contractNumber=02208-000002"))],
        ["a bracketed field", 400, () => raw(anonymous.agent, "/login", `_csrf=${anonymous.token}&username[a]=${login}&password=x`)],
        ["an array field", 400, () => raw(officer.agent, "/verify", `_csrf=${officer.token}&contractNumber=${issued.contractNumber}&authKey[]=x`)],
        ["__proto__", 400, () => raw(anonymous.agent, "/login", loginBody("&__proto__=x"))],
        ["a field the form does not have", 400, () => raw(anonymous.agent, "/login", loginBody("&isAdmin=1"))],
        ["%FF", 400, () => raw(officer.agent, "/verify", verifyBody("", issued.contractNumber, "ABCD%FFEFGHJKMN"))],
        ["an overlong %C0%AF", 400, () => raw(anonymous.agent, "/login", loginBody("").replace(`username=${login}`, "username=..%C0%AF..%C0%AF"))],
        ["an encoded surrogate %ED%A0%80", 400, () => raw(anonymous.agent, "/login", loginBody("").replace(`username=${login}`, "username=%ED%A0%80"))],
        ["a truncated sequence %E3%81", 400, () => raw(anonymous.agent, "/login", loginBody("").replace(`username=${login}`, "username=%E3%81"))],
        ["a malformed escape %zz", 400, () => raw(anonymous.agent, "/login", loginBody("").replace(`username=${login}`, "username=%zz"))],
        ["raw invalid UTF-8 bytes", 400, () => raw(anonymous.agent, "/login", Buffer.concat([Buffer.from(loginBody("").replace(`username=${login}`, "username=")), Buffer.from([0xff, 0xfe])]))],
        ["NUL", 400, () => raw(officer.agent, "/verify", verifyBody("", `${issued.contractNumber}%00`))],
        ["a control character", 400, () => raw(anonymous.agent, "/login", loginBody("").replace(`username=${login}`, `username=${login}%1B`))],
        ["a C1 control", 400, () => raw(anonymous.agent, "/login", loginBody("").replace(`username=${login}`, `username=${login}%C2%85`))],
        ["a bidi override (RLO)", 400, () => raw(officer.agent, "/verify", verifyBody("", issued.contractNumber, `%E2%80%AE${issued.authKey}`))],
        ["a bidi isolate (LRI)", 400, () => raw(anonymous.agent, "/login", loginBody("").replace(`username=${login}`, `username=%E2%81%A6${login}`))],
        ["a zero-width space", 400, () => raw(officer.agent, "/verify", verifyBody("", issued.contractNumber, `${issued.authKey}%E2%80%8B`))],
        ["a byte-order mark in a name", 400, () => raw(anonymous.agent, "/login", loginBody("").replace("username=", "%EF%BB%BFusername="))],
        ["a 65-character key", 400, () => raw(officer.agent, "/verify", verifyBody("", issued.contractNumber, "A".repeat(65)))],
        ["charset=utf-16", 415, () => raw(anonymous.agent, "/login", Buffer.from(loginBody(""), "utf16le"), `${FORM}; charset=utf-16`)],
        ["charset=iso-8859-1", 415, () => raw(anonymous.agent, "/login", loginBody(""), `${FORM}; charset=iso-8859-1`)],
        ["charset=shift_jis", 415, () => raw(anonymous.agent, "/login", loginBody(""), `${FORM}; charset=shift_jis`)],
        ["JSON", 415, () => raw(anonymous.agent, "/login", JSON.stringify({ _csrf: anonymous.token, username: login, password }), "application/json")],
        ["text/plain", 415, () => raw(anonymous.agent, "/login", loginBody(""), "text/plain")],
        ["multipart", 415, () => raw(anonymous.agent, "/login", "--x\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nu\r\n--x--", "multipart/form-data; boundary=x")],
        ["gzip", 415, () => raw(anonymous.agent, "/login", loginBody(""), FORM, { "Content-Encoding": "gzip" })],
      ];
      for (const [what, status, send] of cases) {
        const res = await send();
        expect(res.status, what).to.equal(status);
        expect(res.text, what).not.to.match(/ at |\/src\/|SQLITE|Error:/);
      }
      expect(world.hasher.counts, "argon2 calls").to.deep.equal(argonBefore);
      expect(count(world, "SELECT count(*) AS n FROM audit_events"), "audit rows").to.equal(auditBefore);
      // ...and the same forms, well-formed, still work.
      expect((await raw(officer.agent, "/verify", verifyBody(""))).status).to.equal(303);
      expect((await raw(anonymous.agent, "/login", loginBody(""))).status).to.equal(303);
    });

    it("when a chunked body grows past 4 KiB, then it is refused with 413 without argon2 work", async () => {
      await givenOfficer(world);
      const served = await serve(world.app);
      try {
        const status = await new Promise<number>((resolve, reject) => {
          const req = httpRequest(`${served.url}/login`, { method: "POST", headers: { "Content-Type": FORM, "Transfer-Encoding": "chunked" } }, (res) => {
            res.resume();
            resolve(res.statusCode!);
          });
          req.on("error", reject);
          for (let i = 0; i < 10; i++) req.write(`f${i}=${"x".repeat(600)}&`);
          req.end();
        });
        expect(status).to.equal(413);
        expect(world.hasher.counts.verify).to.equal(0);
      } finally {
        await served.close();
      }
    });

    it("when an 11-character key or a malformed number is posted, then the form says so (400) with no argon2 work", async () => {
      await givenGuarantee(world);
      const { login, password } = await givenOfficer(world);
      const { agent, token } = await officerSession(world.app, login, password);
      const before = world.hasher.counts.verify;
      const res = await raw(agent, "/verify", `_csrf=${token}&contractNumber=0001-000002&authKey=ABCDEFGHJKM`);
      expect(res.status).to.equal(400);
      expect(world.hasher.counts.verify).to.equal(before);
    });
  });

  describe("the order: CSRF -> form -> session", () => {
    it("when a body is well-formed but its token is missing, then 403 comes before any check of its fields", async () => {
      const { agent } = await loginForm(world.app);
      expect((await raw(agent, "/login", "username=%00&password=x")).status).to.equal(403);
      expect((await raw(agent, "/verify", "contractNumber=%00&authKey=x")).status).to.equal(403);
    });

    it("when a visitor who is not logged in posts a malformed field to /verify, then it is 400 (form before session); a well-formed one goes to the login", async () => {
      const { agent, token } = await loginForm(world.app);
      expect((await raw(agent, "/verify", `_csrf=${token}&contractNumber=%00&authKey=x`)).status).to.equal(400);
      const wellFormed = await raw(agent, "/verify", `_csrf=${token}&contractNumber=02208-000001&authKey=ABCDEFGHJKMN`);
      expect(wellFormed.status).to.equal(303);
      expect(wellFormed.headers.location).to.equal("/login");
      expect(world.hasher.counts.verify).to.equal(0);
    });
  });

  describe("cross-site requests (Origin, Referer, Sec-Fetch-Site)", () => {
    it("when a POST with a valid token comes from another site by any of these headers, then it is 403 with no argon2 work; from this site it goes through", async () => {
      const { login, password } = await givenOfficer(world);
      const served = await serve(world.app);
      try {
        const { agent, token } = await loginForm(served.server);
        const body = `_csrf=${token}&username=${login}&password=${enc("a wrong password")}`;
        const refused: Record<string, string>[] = [
          { Origin: "https://evil.example" },
          { Origin: "http://127.0.0.1:1" },
          { Origin: "null" },
          { Origin: "null", "Sec-Fetch-Site": "cross-site" },
          { "Sec-Fetch-Site": "cross-site" },
          { "Sec-Fetch-Site": "same-site" },
          { Referer: "https://evil.example/phish" },
          { Referer: "not a url" },
        ];
        for (const headers of refused) {
          const res = await raw(agent, "/login", body, FORM, headers);
          expect(res.status, JSON.stringify(headers)).to.equal(403);
        }
        expect(world.hasher.counts.verify).to.equal(0);
        const host = new URL(served.url).host;
        const accepted: Record<string, string>[] = [
          {},
          { Origin: `http://${host}` },
          { Origin: "null", "Sec-Fetch-Site": "same-origin" }, // what a browser sends under Referrer-Policy: no-referrer
          { "Sec-Fetch-Site": "same-origin", Origin: `http://${host}` },
          { Referer: `http://${host}/login` },
          { "Sec-Fetch-Site": "none" },
        ];
        for (const [i, headers] of accepted.entries()) {
          const res = await raw(agent, "/login", body.replace(`username=${login}`, `username=someone-${i}`), FORM, headers);
          expect(res.status, JSON.stringify(headers)).to.equal(401);
        }
        expect((await raw(agent, "/login", `_csrf=${token}&username=${login}&password=${enc(password)}`, FORM, { Origin: `http://${host}`, "Sec-Fetch-Site": "same-origin" })).status).to.equal(303);
      } finally {
        await served.close();
      }
    });
  });
});
