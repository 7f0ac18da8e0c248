import { expect } from "chai";
import { generateKeyPairSync } from "node:crypto";
import { SignJWT } from "jose";
import request from "supertest";
import { createApp, type KakuninApp } from "../../src/app.js";
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from "../../src/api/access-token.js";
import { createServices } from "../../src/composition.js";
import { createLogger } from "../../src/logger.js";
import { buildTestApp, type WebWorld } from "../support/web.js";
import { basic, expectProblem, givenApiClient, tokenFor } from "./support.js";

describe("API: tokens", () => {
  let w: WebWorld;
  let app: KakuninApp;
  const keys = generateKeyPairSync("ed25519");
  beforeEach(async () => {
    w = await buildTestApp();
    // The same world with a key pair the test knows, so that it can sign tokens the service must refuse.
    const services = createServices({ db: w.db, clock: w.clock, hasher: w.hasher, limits: w.config.limits, tokenKeys: keys });
    app = createApp({ config: w.config, services, clock: w.clock, logger: createLogger({ level: "silent" }) });
  });
  afterEach(() => { app.close(); w.close(); });

  const guaranteesWith = (token: string) => request(app).get("/api/v1/guarantees").set("Authorization", `Bearer ${token}`);
  const expectRefusedToken = (res: request.Response) => {
    expectProblem(res, 401, "invalid-token");
    expect(res.headers["www-authenticate"]).to.equal('Bearer realm="kakunin-api", error="invalid_token"');
  };
  const sign = (claims: Record<string, unknown>, options: { audience?: string; issuer?: string; key?: typeof keys.privateKey; expiresIn?: number } = {}) => {
    const now = Math.floor(w.clock.now().getTime() / 1000);
    return new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", typ: "at+jwt" }).setIssuer(options.issuer ?? TOKEN_ISSUER)
      .setAudience(options.audience ?? TOKEN_AUDIENCE).setJti("t").setIssuedAt(now).setExpirationTime(now + (options.expiresIn ?? 600))
      .sign(options.key ?? keys.privateKey);
  };

  it("when a client asks with its id and secret by HTTP Basic, then a 10-minute EdDSA bearer token that opens the API, no cookie, no caching", async () => {
    const client = givenApiClient(w);
    const res = await request(app).post("/api/v1/token").set("Authorization", basic(client.clientId, client.clientSecret)).type("form").send({ grant_type: "client_credentials" });
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.have.keys("access_token", "token_type", "expires_in");
    expect(res.body).to.include({ token_type: "Bearer", expires_in: 600 });
    expect(res.headers["cache-control"]).to.equal("no-store");
    expect(res.headers["set-cookie"]).to.equal(undefined);
    const [header, payload] = (res.body.access_token as string).split(".").slice(0, 2).map((part) => JSON.parse(Buffer.from(part, "base64url").toString()));
    expect(header).to.deep.equal({ alg: "EdDSA", typ: "at+jwt" });
    expect(payload).to.include({ aud: "kakunin-api", iss: TOKEN_ISSUER, sub: client.clientId, orderer: "022080" });
    expect(payload.exp - payload.iat).to.equal(600);
    expect(payload.jti).to.be.a("string");
    expect((await guaranteesWith(res.body.access_token)).status).to.equal(200);
    const audited = w.db.prepare("SELECT actor_kind, actor FROM audit_events WHERE event = 'api_token_issue'").all();
    expect(audited).to.deep.equal([{ actor_kind: "api-client", actor: client.clientId }]);
  });

  it("when the request is not a client-credentials grant by Basic, then the RFC 6749 error: invalid_request, unsupported_grant_type, invalid_client with WWW-Authenticate", async () => {
    const client = givenApiClient(w);
    const auth = basic(client.clientId, client.clientSecret);
    const noGrant = await request(app).post("/api/v1/token").set("Authorization", auth).type("form").send({});
    expect([noGrant.status, noGrant.body.error]).to.deep.equal([400, "invalid_request"]);
    const password = await request(app).post("/api/v1/token").set("Authorization", auth).type("form").send({ grant_type: "password" });
    expect([password.status, password.body.error]).to.deep.equal([400, "unsupported_grant_type"]);
    const inBody = await request(app).post("/api/v1/token").type("form").send({ grant_type: "client_credentials", client_id: client.clientId, client_secret: client.clientSecret });
    expect([inBody.status, inBody.body.error]).to.deep.equal([400, "invalid_request"]);
    const asJson = await request(app).post("/api/v1/token").set("Authorization", basic(client.clientId, client.clientSecret)).send({ grant_type: "client_credentials" });
    expect([asJson.status, asJson.body.error], "a JSON body is an OAuth invalid_request, not a problem document").to.deep.equal([400, "invalid_request"]);
    expect(asJson.headers["content-type"]).to.match(/^application\/json/);
    const none = await request(app).post("/api/v1/token").type("form").send({ grant_type: "client_credentials" });
    expect([none.status, none.body.error]).to.deep.equal([401, "invalid_client"]);
    expect(none.headers["www-authenticate"]).to.match(/^Basic realm="kakunin-api"/);
    const wrong = await request(app).post("/api/v1/token").set("Authorization", basic(client.clientId, "not-the-secret")).type("form").send({ grant_type: "client_credentials" });
    expect([wrong.status, wrong.body.error]).to.deep.equal([401, "invalid_client"]);
    expect(JSON.stringify(w.db.prepare("SELECT * FROM audit_events").all())).not.to.include(client.clientSecret).and.not.include("not-the-secret");
  });

  it("when a stranger keeps sending wrong secrets for a client's id, then the client itself still gets its token; the stranger's address is blocked after its window, and an unknown id is kept only as a keyed hash", async () => {
    const proxied = await buildTestApp({ env: { TRUST_PROXY: "1" }, limits: { address: { limit: 5 } } });
    try {
      const client = givenApiClient(proxied);
      const ask = (secret: string, from: string, id = client.clientId) => request(proxied.app).post("/api/v1/token").set("X-Forwarded-For", from)
        .set("Authorization", basic(id, secret)).type("form").send({ grant_type: "client_credentials" });
      const stranger: number[] = [];
      for (let i = 0; i < 7; i++) stranger.push((await ask(`wrong-${i}`, "203.0.113.9")).status);
      expect(stranger, "the stranger's address, blocked after five failures").to.deep.equal([401, 401, 401, 401, 401, 429, 429]);
      // The same /64 is the same address.
      expect((await ask("wrong-again", "2001:db8::1")).status).to.equal(401);
      expect((await ask(client.clientSecret, "198.51.100.20")).status, "the orderer's system from its own address").to.equal(200);
      const pasted = "a-secret-pasted-into-the-id-field";
      expect((await ask("x", "198.51.100.21", pasted)).status).to.equal(401);
      const trail = JSON.stringify(proxied.db.prepare("SELECT actor FROM audit_events WHERE event = 'api_token_fail'").all());
      expect(trail).not.to.include(pasted);
      expect(trail).to.match(/"h:[0-9a-f]{32}"/);
      expect(proxied.services.lockouts.unlockAddress("203.0.113.9", "test").ok).to.equal(true);
      expect((await ask(client.clientSecret, "203.0.113.9")).status, "after `address unlock`").to.equal(200);
    } finally {
      proxied.close();
    }
  });

  it("when a client's secret is rotated, then the tokens got with the old secret stop working at once, and the new secret gets a working one", async () => {
    const client = givenApiClient(w);
    const old = await tokenFor(app, client);
    expect((await guaranteesWith(old)).status).to.equal(200);
    w.clock.advance(5_000);
    const rotated = w.services.apiClients.rotateSecret(client.clientId, "test");
    if (!rotated.ok) throw new Error("rotation refused");
    expectRefusedToken(await guaranteesWith(old));
    const fresh = await tokenFor(app, { clientId: client.clientId, clientSecret: rotated.value.clientSecret });
    expect((await guaranteesWith(fresh)).status).to.equal(200);
  });

  it("when a token has expired, then 401 invalid_token; a fresh one works", async () => {
    const client = givenApiClient(w);
    const token = await tokenFor(app, client);
    w.clock.advance(599_000);
    expect((await guaranteesWith(token)).status).to.equal(200);
    w.clock.advance(2_000);
    expectRefusedToken(await guaranteesWith(token));
    expect((await guaranteesWith(await tokenFor(app, client))).status).to.equal(200);
  });

  it("when a client is disabled, then its unexpired token stops working at once, and it gets no new one", async () => {
    const client = givenApiClient(w);
    const token = await tokenFor(app, client);
    expect((await guaranteesWith(token)).status).to.equal(200);
    w.services.apiClients.setActive(client.clientId, false, "test");
    expectRefusedToken(await guaranteesWith(token));
    const again = await request(app).post("/api/v1/token").set("Authorization", basic(client.clientId, client.clientSecret)).type("form").send({ grant_type: "client_credentials" });
    expect([again.status, again.body.error]).to.deep.equal([401, "invalid_client"]);
  });

  it("when a token has the wrong audience or issuer, another key, a tampered payload, alg none, or names another orderer, then 401 each time", async () => {
    const client = givenApiClient(w);
    const good = { sub: client.clientId, orderer: "022080" };
    expect((await guaranteesWith(await sign(good))).status).to.equal(200);
    expectRefusedToken(await guaranteesWith(await sign(good, { audience: "another-api" })));
    expectRefusedToken(await guaranteesWith(await sign(good, { issuer: "urn:someone-else" })));
    expectRefusedToken(await guaranteesWith(await sign(good, { key: generateKeyPairSync("ed25519").privateKey })));
    expectRefusedToken(await guaranteesWith(await sign({ sub: client.clientId, orderer: "012025" })));
    const [header, , signature] = (await sign(good)).split(".");
    const forged = Buffer.from(JSON.stringify({ ...good, sub: givenApiClient(w, "012025").clientId, orderer: "012025", aud: TOKEN_AUDIENCE, iss: TOKEN_ISSUER, exp: 4_000_000_000 })).toString("base64url");
    expectRefusedToken(await guaranteesWith(`${header}.${forged}.${signature}`));
    const none = Buffer.from(JSON.stringify({ alg: "none", typ: "at+jwt" })).toString("base64url");
    const payload = Buffer.from(JSON.stringify({ ...good, aud: TOKEN_AUDIENCE, iss: TOKEN_ISSUER, exp: 4_000_000_000, iat: 1, jti: "x" })).toString("base64url");
    expectRefusedToken(await guaranteesWith(`${none}.${payload}.`));
  });

  it("when no bearer token is sent (none, Basic, or in the query), then 401 with WWW-Authenticate Bearer and a problem document", async () => {
    const client = givenApiClient(w);
    const token = await tokenFor(app, client);
    for (const res of [
      await request(app).get("/api/v1/guarantees"),
      await request(app).get("/api/v1/guarantees").set("Authorization", basic(client.clientId, client.clientSecret)),
      await request(app).get(`/api/v1/guarantees?access_token=${token}`),
    ]) {
      expectProblem(res, 401, "unauthorized");
      expect(res.headers["www-authenticate"]).to.equal('Bearer realm="kakunin-api"');
      expect(res.headers["set-cookie"]).to.equal(undefined);
    }
  });
});
