import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import request from "supertest";
import { createServices } from "../../src/composition.js";
import { createApp } from "../../src/app.js";
import { loadConfig, PRODUCTION_LIMITS } from "../../src/config.js";
import { createHttpServer, listen } from "../../src/http/listen.js";
import { createLoginNameHash } from "../../src/security/keyed-hash.js";
import { createLogger } from "../../src/logger.js";
import { viewsDir } from "../../src/paths.js";
import { givenOfficer } from "../support/given.js";
import { buildTestApp, type WebWorld } from "../support/web.js";
import { loginForm, officerSession, postLogin, serve } from "./helpers.js";

const EXPECTED_CSP =
  "default-src 'none';script-src 'self';style-src 'self';img-src 'self';font-src 'self';connect-src 'self';" +
  "form-action 'self';frame-ancestors 'none';base-uri 'none';object-src 'none'";

/** HDR-01..03: what every response carries, whatever its status. */
const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": EXPECTED_CSP,
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "origin-agent-cluster": "?1",
  "x-frame-options": "DENY",
  "x-xss-protection": "0",
  "x-dns-prefetch-control": "off",
  "x-download-options": "noopen",
  "x-permitted-cross-domain-policies": "none",
};

function expectSecurityHeaders(res: request.Response, what: string) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers[name], `${what}: ${name}`).to.equal(value);
  expect(res.headers["x-powered-by"], `${what}: x-powered-by`).to.equal(undefined);
  for (const name of Object.keys(res.headers)) expect(name, `${what}: CORS`).not.to.match(/^access-control-/);
}

describe("security: the HTTP surface", () => {
  let world: WebWorld;
  beforeEach(async () => { world = await buildTestApp({ limits: { argon2: { concurrency: 1, queue: 0 } } }); });
  afterEach(() => world.close());

  it("when responses of every status class are served (200 303 400 401 403 404 413 415 429 503), then each carries helmet's headers, the strict CSP and no CORS", async () => {
    const { login, password } = await givenOfficer(world);
    const { agent, token } = await loginForm(world.app);
    const cross = { Origin: "https://evil.example" };
    const seen: Record<number, request.Response> = {};
    const keep = (res: request.Response) => { seen[res.status] = res; return res; };
    keep(await agent.get("/login").set(cross));
    keep(await agent.get("/static/no-such-file.css").set(cross));
    keep(await agent.post("/login").type("form").set(cross).send({ _csrf: token, username: login, password }));
    keep(await agent.post("/login").set("Content-Type", "application/x-www-form-urlencoded").send(`_csrf=${token}&username=%00&password=x`));
    keep(await agent.post("/login").set("Content-Type", "application/x-www-form-urlencoded").send(`username=${"a".repeat(5000)}`));
    keep(await agent.post("/login").set("Content-Type", "application/json").send("{}"));
    for (let i = 0; i < 6; i++) keep(await postLogin(agent, token, "somebody", "wrong password"));
    // One argon2 slot, no queue, and each verification held 50 ms: four of five parallel tries get 503.
    const slow = { ...world.hasher, verifyDummy: async (secret: string) => { await delay(50); return world.hasher.verifyDummy(secret); } };
    const busyServices = createServices({ db: world.db, clock: world.clock, hasher: slow, limits: world.config.limits, loginNames: createLoginNameHash(world.config.sessionSecrets[0]!) });
    const busyApp = createApp({ config: world.config, services: busyServices, clock: world.clock, logger: createLogger({ level: "silent" }) });
    const served = await serve(busyApp);
    try {
      const parallel = await loginForm(served.server);
      const before = world.hasher.counts.verify;
      const many = await Promise.all(Array.from({ length: 5 }, (_, i) => postLogin(parallel.agent, parallel.token, `someone-${i}`, "wrong password")));
      many.forEach(keep);
      const statuses = many.map((r) => r.status);
      expect(statuses.every((s) => s === 401 || s === 503), String(statuses)).to.equal(true);
      expect(statuses.filter((s) => s === 503).length).to.be.at.least(1);
      // A 503 costs no argon2 work and counts against nobody.
      expect(world.hasher.counts.verify - before).to.equal(statuses.filter((s) => s === 401).length);
      const counted = createLoginNameHash(world.config.sessionSecrets[0]!); // unknown login ids are counted under their keyed hash
      many.forEach((r, i) => {
        const row = world.db.prepare("SELECT failures FROM throttle_counters WHERE scope = 'login' AND key = ?").get(counted(`someone-${i}`)) as { failures: number };
        expect(row.failures, `someone-${i}`).to.equal(r.status === 401 ? 1 : 0);
      });
    } finally {
      await served.close();
      busyApp.close();
    }
    keep(await postLogin(agent, token, login, password));
    expect(Object.keys(seen).map(Number).sort()).to.deep.equal([200, 303, 400, 401, 403, 404, 413, 415, 429, 503]);
    for (const [status, res] of Object.entries(seen)) {
      expectSecurityHeaders(res, status);
      if (Number(status) !== 303) expect(res.headers["content-type"], status).to.equal("text/html; charset=utf-8");
    }
    expect(seen[503]!.headers["retry-after"]).to.equal("1");
    expect(seen[429]!.headers["retry-after"]).to.match(/^\d+$/);
  });

  it("when a TRACE, TRACK or unknown method arrives, then nothing is echoed back and nothing fails", async () => {
    const trace = await request(world.app).trace("/login").set("X-Probe", "echo-me-please").set("Cookie", "kakunin=echo-me-too");
    expect(trace.status).to.be.oneOf([403, 404, 405]);
    expect(trace.text).not.to.contain("echo-me");
    for (const method of ["TRACK", "PROPFIND", "DELETE", "PUT", "PATCH"]) {
      const status = await rawStatus(world, `${method} /login HTTP/1.1\r\nHost: x\r\nX-Probe: echo-me-please\r\nContent-Length: 0\r\n\r\n`);
      expect(status.code, method).to.be.oneOf([400, 403, 404, 405, 501]);
      expect(status.text, method).not.to.contain("echo-me");
    }
    const options = await request(world.app).options("/login").set("Origin", "https://evil.example").set("Access-Control-Request-Method", "POST");
    for (const name of Object.keys(options.headers)) expect(name).not.to.match(/^access-control-/);
  });

  it("when the session cookie is malformed, forged, oversized or its stored row is corrupt, then the answer is a fresh session, a 431 or a redirect, never a 500", async () => {
    const { login, password } = await givenOfficer(world);
    for (const cookie of ["kakunin=%E0%A4%A", "kakunin=s%3Aabc.def", "kakunin=s:../../etc/passwd.x", "kakunin=" + "A".repeat(4000), "kakunin", "=;;=", "kakunin=s%3A%00.%00"]) {
      const res = await request(world.app).get("/verify").set("Cookie", cookie);
      expect(res.status, cookie.slice(0, 40)).to.equal(303);
      const page = await request(world.app).get("/login").set("Cookie", cookie);
      expect(page.status, cookie.slice(0, 40)).to.equal(200);
    }
    const huge = await rawStatus(world, `GET /login HTTP/1.1\r\nHost: x\r\nCookie: kakunin=${"A".repeat(20 * 1024)}\r\n\r\n`);
    expect(huge.code).to.equal(431);
    const { agent } = await officerSession(world.app, login, password);
    world.db.prepare("UPDATE sessions SET data = 'not json' WHERE officer_id IS NOT NULL").run();
    const corrupt = await agent.get("/verify");
    expect(corrupt.status).to.equal(303);
    expect(corrupt.headers.location).to.equal("/login");
  });

  it("when something fails unexpectedly, then the page has an incident number but no stack, path or SQL outside development", async () => {
    for (const nodeEnv of ["test", "production", "development"] as const) {
      const config = loadConfig({ NODE_ENV: nodeEnv, SESSION_SECRET: "s".repeat(32), COOKIE_SECURE: "false" });
      const failing = () => { throw new Error("SQLITE_CORRUPT: database disk image is malformed at /work/main/src/app.ts"); };
      const app = createApp({ config, services: { ...world.services, health: { ping: failing } }, clock: world.clock, logger: createLogger({ level: "silent" }) });
      try {
        const res = await request(app).get("/healthz");
        expect(res.status, nodeEnv).to.equal(500);
        expect(res.text, nodeEnv).to.contain("受付番号");
        if (nodeEnv === "development") expect(res.text).to.contain("SQLITE_CORRUPT");
        else expect(res.text, nodeEnv).not.to.match(/ at |\/src\/|SQLITE|Error:/);
      } finally {
        app.close();
      }
    }
  });

  it("when the database is busy, locked, full or failing, then the answer is 503 with Retry-After and the error page, not 500", async () => {
    for (const code of ["SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_FULL", "SQLITE_IOERR_WRITE"]) {
      const unavailable = () => { throw Object.assign(new Error(`${code}: database is unavailable`), { code }); };
      const app = createApp({ config: world.config, services: { ...world.services, health: { ping: unavailable } }, clock: world.clock, logger: createLogger({ level: "silent" }) });
      try {
        const res = await request(app).get("/healthz");
        expect(res.status, code).to.equal(503);
        expect(Number(res.headers["retry-after"]), code).to.be.greaterThan(0);
        expect(res.text, code).to.contain("ただいま混み合っています");
      } finally {
        app.close();
      }
    }
  });

  it("when shutdown has begun, then /healthz answers 503 with Retry-After while pages are still served", async () => {
    expect((await request(world.app).get("/healthz")).status).to.equal(200);
    world.app.beginShutdown();
    const res = await request(world.app).get("/healthz");
    expect(res.status).to.equal(503);
    expect(res.headers["retry-after"]).to.equal("5");
    expect((await request(world.app).get("/login")).status, "requests in flight and new ones on open connections still work").to.equal(200);
  });

  it("when the views are searched for {{{ }}}, then the layout's {{{body}}} is the only unescaped output", () => {
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const file = path.join(dir, name);
        if (statSync(file).isDirectory()) walk(file);
        else if (name.endsWith(".hbs")) {
          for (const match of readFileSync(file, "utf8").matchAll(/\{\{\{[^}]*\}\}\}|\{\{&/g)) found.push(`${path.relative(viewsDir, file)}: ${match[0]}`);
        }
      }
    };
    walk(viewsDir);
    expect(found).to.deep.equal(["layouts/main.hbs: {{{body}}}"]);
  });

  it("when a client sends its headers too slowly, then the server answers 408 and closes (headers timeout); the production server keeps 20 s / 30 s", async () => {
    const server = createHttpServer(world.app, { ...PRODUCTION_LIMITS.server, headersTimeoutMs: 300, requestTimeoutMs: 600, connectionsCheckingIntervalMs: 50 });
    const port = await listen(server, 0, "127.0.0.1");
    try {
      const started = Date.now();
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => socket.write("GET /login HTTP/1.1\r\nHost: x\r\n"));
        let data = "";
        socket.on("data", (chunk) => { data += chunk.toString(); });
        socket.on("close", () => resolve(data));
        socket.on("error", reject);
      });
      expect(reply).to.match(/^HTTP\/1\.1 408/);
      expect(Date.now() - started).to.be.below(3000);
    } finally {
      server.close();
    }
    const production = createHttpServer(world.app, PRODUCTION_LIMITS.server);
    expect(production.headersTimeout).to.equal(20_000);
    expect(production.requestTimeout).to.equal(30_000);
    expect(production.keepAliveTimeout).to.equal(5_000);
    expect(production.maxHeadersCount).to.equal(100);
  });
});

/** A raw request over a socket (methods and headers supertest will not send); status and text. */
async function rawStatus(world: WebWorld, head: string): Promise<{ code: number; text: string }> {
  const served = await serve(world.app);
  try {
    const port = Number(new URL(served.url).port);
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => socket.end(head));
      let data = "";
      socket.on("data", (chunk) => { data += chunk.toString(); });
      socket.on("close", () => resolve(data));
      socket.on("error", reject);
    });
    return { code: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text };
  } finally {
    await served.close();
  }
}
