import { expect } from "chai";
import request from "supertest";
import { main } from "../../scripts/admin.js";
import { formatAuthKeyForPrint } from "../../src/format/normalize.js";
import { sessionTag } from "../../src/http/request-log.js";
import { givenGuarantee, givenOfficer } from "../support/given.js";
import { buildTestApp, csrfTokenOf, type WebWorld } from "../support/web.js";

type LogLine = Record<string, unknown> & { time: string; level: string; requestId?: string; msg: string };

const fullWidth = (s: string) => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

/** Records every secret a response hands out: cookie values (and the session ids in them) and CSRF tokens. */
function createSecretTracker() {
  const secrets = new Set<string>();
  const sessionIds = new Set<string>();
  return {
    secrets,
    sessionIds,
    add: (...values: string[]) => values.forEach((v) => secrets.add(v)),
    track(res: request.Response): request.Response {
      for (const header of (res.headers["set-cookie"] as unknown as string[] | undefined) ?? []) {
        const value = header.split(";")[0]!.split("=").slice(1).join("=");
        if (value === "") continue;
        secrets.add(value);
        const decoded = decodeURIComponent(value);
        secrets.add(decoded);
        const sid = /^s:([^.]+)\./.exec(decoded)?.[1];
        if (sid) {
          secrets.add(sid);
          sessionIds.add(sid);
        }
      }
      for (const match of res.text?.matchAll(/name="_csrf" value="([^"]+)"/g) ?? []) secrets.add(match[1]!);
      return res;
    },
  };
}

describe("structured logs", () => {
  let world: WebWorld;
  beforeEach(async () => { world = await buildTestApp(); });
  afterEach(() => world.close());

  const lines = (): LogLine[] => world.logs.map((l) => JSON.parse(l) as LogLine);
  const requestLines = () => lines().filter((l) => l.evt === "http_request");

  it("when an officer goes through a whole journey, then no password, key, cookie, session id or CSRF token reaches the logs, the audit trail or its export", async () => {
    const tracker = createSecretTracker();
    const { login } = await givenOfficer(world, { password: "canary first password 7f3a9c" });
    const reset = await world.services.officers.resetPassword(login, "test");
    if (!reset.ok) throw new Error("reset refused");
    const oneTime = reset.value.initialPassword!;
    const newPassword = "canary moonlit harbour of shimokita 51d2";
    const wrongPassword = "canary wrong password e0b8 for sure";
    const { contractNumber, authKey } = await givenGuarantee(world);
    const keyForms = [authKey, formatAuthKeyForPrint(authKey), formatAuthKeyForPrint(authKey).toLowerCase(), fullWidth(authKey), ` ${authKey.slice(0, 6)} ${authKey.slice(6)} `];
    tracker.add("canary first password 7f3a9c", oneTime, newPassword, wrongPassword, ...keyForms);

    const agent = request.agent(world.app);
    const get = async (path: string) => tracker.track(await agent.get(path));
    const post = async (path: string, fields: Record<string, string>, from: string) => {
      const token = csrfTokenOf((await get(from)).text); // first: the agent attaches cookies when a request is made
      return tracker.track(await agent.post(path).type("form").send({ _csrf: token, ...fields }));
    };

    // Log in with the one-time password, forced change, verify (two typed forms of the key), view, print.
    const first = await post("/login", { username: login, password: oneTime }, "/login");
    expect(first.headers.location, `${first.status} ${first.text}`).to.equal("/password");
    expect((await post("/password", { currentPassword: oneTime, newPassword, confirmPassword: newPassword }, "/password")).status).to.equal(303);
    expect((await post("/verify", { contractNumber, authKey: keyForms[2]! }, "/verify")).status).to.equal(303);
    expect((await post("/verify", { contractNumber: fullWidth(contractNumber), authKey: keyForms[3]! }, "/verify")).status).to.equal(303);
    expect((await get(`/guarantees/${contractNumber}`)).status).to.equal(200);
    expect((await post(`/guarantees/${contractNumber}/versions/1/print`, {}, `/guarantees/${contractNumber}/certificate`)).status).to.equal(204);
    // A key pasted into a URL: the query string is never logged.
    expect((await get(`/verify?authKey=${encodeURIComponent(keyForms[1]!)}`)).status).to.equal(200);
    expect((await post("/logout", {}, "/verify")).status).to.equal(303);

    // A failed login, then a failed verification: the right key for a number that does not exist.
    expect((await post("/login", { username: login, password: wrongPassword }, "/login")).status).to.equal(401);
    expect((await post("/login", { username: login, password: newPassword }, "/login")).status).to.equal(303);
    expect((await post("/verify", { contractNumber: "99999-999999", authKey: keyForms[4]! }, "/verify")).status).to.equal(400);
    expect((await post("/verify", { contractNumber, authKey: "ZZZZ-ZZZZ-ZZZZ" }, "/verify")).status).to.equal(400);

    // Every line is JSON with a time, a level and the request's id.
    const all = lines();
    expect(all.length).to.be.greaterThan(20);
    for (const line of all) {
      expect(line.time, JSON.stringify(line)).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(line.level, JSON.stringify(line)).to.be.oneOf(["info", "warn", "error"]);
      expect(line.requestId, JSON.stringify(line)).to.match(/^[0-9a-f-]{36}$/);
    }
    const requests = requestLines();
    expect(requests.map((l) => `${l.method} ${l.path} ${l.status}`)).to.include.members([
      "POST /login 303", "POST /password 303", "POST /verify 303", `GET /guarantees/${contractNumber} 200`,
      `POST /guarantees/${contractNumber}/versions/1/print 204`, "GET /verify 200", "POST /logout 303", "POST /login 401", "POST /verify 400",
    ]);
    // The request line is written unredacted, so it must hold these fields and no others.
    const allowed = ["level", "time", "service", "msg", "evt", "requestId", "method", "path", "status", "durationMs", "ip", "officerId", "session", "aborted"];
    for (const line of requests) {
      expect(Object.keys(line).filter((key) => !allowed.includes(key)), JSON.stringify(line)).to.deep.equal([]);
      expect(line.durationMs, JSON.stringify(line)).to.be.a("number");
      if (line.session !== undefined) expect(line.session).to.match(/^[0-9a-f]{16}$/);
    }
    // The officer and the hashed session id are there once logged in; the raw id never.
    const verified = requests.find((l) => l.method === "POST" && l.path === "/verify" && l.status === 303)!;
    expect(verified.officerId).to.equal(world.services.officers.findByLogin(login)!.id);
    expect([...tracker.sessionIds].map(sessionTag)).to.include(verified.session);

    const exported = async (format: string) => {
      let out = "";
      const status = await main(["--db", world.databasePath, "audit", "export", "--format", format], {
        stdout: { write: (s: string) => { out += s; return true; } }, stderr: { write: () => true }, stdin: "", clock: world.clock, env: { NODE_ENV: "test" }, actor: "test",
      });
      expect(status).to.equal(0);
      return out;
    };
    const places = {
      logs: world.logs.join(""),
      audit: JSON.stringify(world.db.prepare("SELECT * FROM audit_events").all()),
      csv: await exported("csv"),
      jsonl: await exported("jsonl"),
    };
    expect(places.audit).to.contain("key_verify_success").and.contain("authn_login_fail").and.contain("certificate_print");
    expect(tracker.secrets.size).to.be.greaterThan(15);
    for (const [place, text] of Object.entries(places)) {
      for (const secret of tracker.secrets) expect(text.includes(secret), `${place} holds ${secret}`).to.equal(false);
    }
  });

  it("when a request brings a safe X-Request-Id, then it is used and echoed; an unsafe one is replaced", async () => {
    const safe = await request(world.app).get("/login").set("X-Request-Id", "proxy-4f9c2e1a.77");
    expect(safe.headers["x-request-id"]).to.equal("proxy-4f9c2e1a.77");
    const unsafe = await request(world.app).get("/login").set("X-Request-Id", "x\"}{\"level\":\"fatal");
    expect(unsafe.headers["x-request-id"]).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(requestLines().map((l) => l.requestId)).to.deep.equal(["proxy-4f9c2e1a.77", unsafe.headers["x-request-id"]]);
  });

  it("when a request fails with a 500 in production, then the error page shows the request id that the response header and both log lines carry", async () => {
    world.close();
    world = await buildTestApp({ env: { NODE_ENV: "production", SESSION_SECRET: "a production secret of at least 32 bytes" } });
    world.db.close(); // /healthz now throws
    const res = await request(world.app).get("/healthz");
    expect(res.status).to.equal(500);
    const id = res.headers["x-request-id"];
    expect(res.text).to.contain(id);
    expect(res.text).not.to.match(/\n\s+at |SQLITE|database connection/);
    const related = lines().filter((l) => l.requestId === id);
    expect(related.map((l) => [l.level, l.msg])).to.deep.equal([["error", "request failed"], ["error", "request"]]);
  });
});
