import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { artifactsDir, launchChromium, requireChromium, type Browser } from "./browser.js";
import { seededDatabase, type Seeded } from "./seed.js";
import { startServer, type RunningServer } from "./server.js";

/** What a browser test works with: the real service over a seeded database, Chromium, a folder for artefacts. */
export type BrowserWorld = {
  seeded: Seeded;
  databasePath: string;
  server: RunningServer;
  browser: Browser;
  artifacts: string;
};

/**
 * Registers the hooks every browser suite needs, in the calling `describe`: seed a database through
 * the real CLI and launch Chromium (in parallel), start the real service, and after each test
 * assert no CSP violation, script error or server error. The returned object is filled in `before`.
 * `env`, called in that `before` (after the suite's own earlier hooks, e.g. one that starts an SMTP
 * server), adds to the service's environment.
 */
export function useBrowserWorld(name: string, options: { env?: () => Record<string, string> | Promise<Record<string, string>> } = {}): BrowserWorld {
  const world = {} as BrowserWorld;
  let dir: string | undefined;
  let browser: Browser | undefined;
  let server: RunningServer | undefined;

  before(async function () {
    requireChromium(this);
    this.timeout(90_000);
    dir = mkdtempSync(path.join(tmpdir(), "kakunin-browser-"));
    const [seed, launched] = await Promise.all([seededDatabase(dir), launchChromium()]);
    browser = launched;
    server = await startServer(seed.databasePath, { env: (await options.env?.()) ?? {} });
    Object.assign(world, { seeded: seed.seeded, databasePath: seed.databasePath, server, browser, artifacts: artifactsDir(name) });
  });

  after(async function () {
    this.timeout(20_000);
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  afterEach(function () {
    if (!browser || !server) return;
    expect(browser.problems.take(), "CSP violations, script errors or failed static files").to.deep.equal([]);
    expect(server.takeErrors(), "errors in the server log").to.deep.equal([]);
  });

  return world;
}
