import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { launchChromium, requireChromium, visibleText, type Browser } from "./support/browser.js";
import { givenOfficer, givenOrderer } from "../support/given.js";
import { startTestProvider, type TestProvider } from "../support/oidc-provider.js";
import { buildTestApp, type WebWorld } from "../support/web.js";

const TANAKA = "tanaka@city.mutsu.lg.jp";

describe("in Chromium: sign-in through the orderer's identity provider", function () {
  let server: Server;
  let base: string;
  let world: WebWorld;
  let provider: TestProvider;
  let browser: Browser;

  before(async function () {
    requireChromium(this);
    this.timeout(60_000);
    // Kakunin on 127.0.0.1 and the provider on localhost: two sites, so SameSite really applies.
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    world = await buildTestApp({ env: { PUBLIC_BASE_URL: base } });
    server.on("request", world.app);
    provider = await startTestProvider({ host: "localhost", clients: [{ clientId: "kakunin", clientSecret: "browser-client-secret-0123456789", redirectUri: `${base}/login/sso/callback` }] });
    provider.accounts.set(TANAKA, { claims: { email: TANAKA, email_verified: true } });
    givenOrderer(world);
    const set = world.services.ssoSettings.configure("022080", {
      issuer: provider.issuer, clientId: "kakunin", clientSecret: "browser-client-secret-0123456789", domains: ["city.mutsu.lg.jp"],
    }, "test");
    if (!set.ok) throw new Error(JSON.stringify(set.problems));
    await givenOfficer(world, { login: TANAKA });
    browser = await launchChromium();
  });

  after(async function () {
    this.timeout(20_000);
    await browser?.close();
    await provider?.close();
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    world?.close();
  });

  it("when an officer types their e-mail address, signs in at the provider's page and comes back, then they land on /verify logged in", async function () {
    this.timeout(60_000);
    const page = browser.page;
    await page.goto(`${base}/login`);
    await page.fill("#sso-login", TANAKA);
    await Promise.all([page.waitForURL((url) => url.host !== new URL(base).host), page.locator("form[action='/login/sso'] button").first().click()]);
    expect(new URL(page.url()).hostname).to.equal("localhost");
    await page.fill("#login", TANAKA);
    await Promise.all([page.waitForURL(`${base}/verify`), page.click("button[type=submit]")]);
    expect(await visibleText(page)).to.include("田中 一郎");
    const cookies = await browser.context.cookies(base);
    expect(cookies.map((c) => c.name)).to.include("kakunin").and.not.include("kakunin-sso");
    expect(browser.problems.take()).to.deep.equal([]);
    const rows = world.db.prepare("SELECT outcome FROM audit_events WHERE event = 'authn_sso_success'").all();
    expect(rows).to.deep.equal([{ outcome: "ok" }]);
  });
});
